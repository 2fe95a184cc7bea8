"""Many small estimator jobs on a 127-qubit fake device at resilience 0 (fake_sherbrooke), against a hand script.

Usage: python benchmarks/many_fake.py [N] [PAIRS]   (default 1,000 jobs, 3 pairs). Not in `make bench`: one pair
takes about 15 s. The hand is what the runtime's documentation leads a user to write: the device's own noise model
in an AerSimulator (`AerSimulator.from_backend`) and qiskit's BackendEstimatorV2, one PUB of every row. It does not
cut the device down to the qubits the circuit uses, as qrun does (docs/backends.md), so it simulates with the whole
device's noise model; a hand that cut the device itself would be faster, and RESULTS.md says so beside the figures.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import scale
from common import PYTHON, QRUN, interleaved, pair_rows

HAND = """
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


def main(n: int = 1_000, pairs: int = 3) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "hand.py").write_text(HAND)
        text = scale.spec(n).replace("backend: aer", "backend: fake_sherbrooke")
        (folder / "f.yaml").write_text(
            text.replace("default_precision: 0.1}", "default_precision: 0.1, resilience_level: 0}")
        )
        a, b, load = interleaved(pairs, [*QRUN, "f.yaml", "--quiet", "--out", "r"], [PYTHON, "hand.py", str(n)], folder)
        label = f"{n:,} jobs on fake_sherbrooke, resilience 0: qrun vs hand script, one PUB, device not cut"
        return pair_rows(label, pairs, a, b, load)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    for r in main(*args):
        print(f"| {r['benchmark']} | {r['qrun']:.3f} | {r['other']:.3f} | {r['ratio']:.3f} | {r['target']} |")
