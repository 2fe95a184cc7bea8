"""Many small estimator jobs on a 127-qubit fake device at resilience 0 (fake_sherbrooke), against a hand script.

Usage: python benchmarks/many_fake.py [N] [PAIRS]   (default 1,000 jobs, 3 pairs). Not in `make bench`: one pair
takes about 15 s. Two hands, each one PUB of every row under qiskit's BackendEstimatorV2 on an AerSimulator:
- CUT, the fastest correct hand: it cuts the device to the qubits its ISA circuit uses, as qrun does
  (docs/backends.md), by restricting the fake device's configuration and calibration to them, and simulates with
  their noise alone;
- DOCS, what the runtime's documentation leads a user to write: `AerSimulator.from_backend(device)`, the whole
  device's noise model (slower, and flattering to qrun; kept as the row it was).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import scale
from common import PYTHON, QRUN, interleaved, pair_rows

DOCS = """
import os
import sys
import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit.primitives import BackendEstimatorV2
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_ibm_runtime.fake_provider import FakeSherbrooke

n = int(sys.argv[1])
backend = FakeSherbrooke()
isa = generate_preset_pass_manager(optimization_level=1, backend=backend).run(real_amplitudes(2, reps=1))
op = SparsePauliOp("ZI").apply_layout(isa.layout)
rows = np.tile([0.1, 0.2, 0.3, 0.4], (n, 1))
est = BackendEstimatorV2(backend=AerSimulator.from_backend(backend), options={"default_precision": 0.1})
data = est.run([(isa, op, rows)]).result()[0].data
np.savez("hand.npz", evs=data.evs, stds=data.stds)
sys.stdout.flush()
os._exit(0)
"""


CUT = """
import os
import sys
import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit.library import real_amplitudes
from qiskit.primitives import BackendEstimatorV2
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_ibm_runtime.fake_provider import FakeSherbrooke
from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

n = int(sys.argv[1])
device = FakeSherbrooke()
isa = generate_preset_pass_manager(optimization_level=1, backend=device).run(real_amplitudes(2, reps=1))
used = sorted({isa.find_bit(q).index for inst in isa.data for q in inst.qubits})
at = {q: i for i, q in enumerate(used)}
# the device on `used` alone: its configuration and calibration, renumbered
conf = {k: v for k, v in device._conf_dict.items() if k not in ("u_channel_lo", "channels", "hamiltonian")}
conf["n_qubits"] = len(used)
conf["coupling_map"] = [[at[a], at[b]] for a, b in conf["coupling_map"] if a in at and b in at]
conf["meas_map"] = [g for g in ([at[q] for q in group if q in at] for group in conf.get("meas_map") or []) if g]
conf["gates"] = [
    {**g, "coupling_map": [[at[q] for q in qs] for qs in g["coupling_map"] if all(q in at for q in qs)]}
    if g.get("coupling_map") else g
    for g in conf.get("gates") or []
]
conf["gates"] = [g for g in conf["gates"] if g.get("coupling_map") != []]
device._set_props_dict_from_json()
props = dict(device._props_dict)
props["qubits"] = [props["qubits"][q] for q in used]
props["gates"] = [{**g, "qubits": [at[q] for q in g["qubits"]]} for g in props["gates"] if all(q in at for q in g["qubits"])]
props["general_qlists"] = []


class Cut(FakeBackendV2):
    conf_filename = props_filename = ""

    def _get_conf_dict_from_json(self):
        return conf

    def _set_props_dict_from_json(self):
        self._props_dict = props


small = QuantumCircuit(len(used), global_phase=isa.global_phase)
for inst in isa.data:
    small.append(inst.operation, [small.qubits[at[isa.find_bit(q).index]] for q in inst.qubits])
op = SparsePauliOp("ZI").apply_layout(isa.layout)
op = SparsePauliOp.from_sparse_list(
    [(p, [at[q] for q in w], c) for p, w, c in op.to_sparse_list()], num_qubits=len(used)
)
rows = np.tile([0.1, 0.2, 0.3, 0.4], (n, 1))
est = BackendEstimatorV2(backend=AerSimulator.from_backend(Cut()), options={"default_precision": 0.1})
data = est.run([(small, op, rows)]).result()[0].data
np.savez("hand.npz", evs=data.evs, stds=data.stds)
sys.stdout.flush()
os._exit(0)
"""


def main(n: int = 1_000, pairs: int = 3) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "docs.py").write_text(DOCS)
        (folder / "cut.py").write_text(CUT)
        text = scale.spec(n).replace("backend: aer", "backend: fake_sherbrooke")
        (folder / "f.yaml").write_text(
            text.replace("default_precision: 0.1}", "default_precision: 0.1, resilience_level: 0}")
        )
        rows = []
        for hand, what in (("cut.py", "device cut"), ("docs.py", "device not cut")):
            qrun_run = [*QRUN, "f.yaml", "--quiet", "--out", "r"]
            a, b, load = interleaved(pairs, qrun_run, [PYTHON, hand, str(n)], folder)
            label = f"{n:,} jobs on fake_sherbrooke, resilience 0: qrun vs hand script, one PUB, {what}"
            rows += pair_rows(label, pairs, a, b, load)
        return rows


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    for r in main(*args):
        print(f"| {r['benchmark']} | {r['qrun']:.3f} | {r['other']:.3f} | {r['ratio']:.3f} | {r['target']} |")
