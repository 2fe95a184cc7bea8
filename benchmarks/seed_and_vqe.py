"""The seed example and experiments/vqe.yaml: qrun against hand-written scripts doing the same work, whole process;
medians of interleaved A/B pairs."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PYTHON, QRUN, ROOT, interleaved, row  # noqa: E402

SEED = """
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import Session
from qiskit_ibm_runtime.executor_estimator import Estimator
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

backend = FakeManilaV2()
circuit = random_circuit(2, 2, seed=1).decompose(reps=1)
observable = SparsePauliOp("IY")
isa = generate_preset_pass_manager(backend=backend, optimization_level=2, seed_transpiler=1).run(circuit)
with Session(backend=backend, max_time=1500) as session:
    estimator = Estimator(mode=session, options={"resilience_level": 2, "simulator": {"seed_simulator": 1}})
    print(estimator.run([(isa, observable.apply_layout(isa.layout))]).result()[0].data.evs)
"""

VQE = """
import numpy as np
from scipy.optimize import minimize
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import EstimatorV2, SamplerV2
from qiskit_ibm_runtime import Session

h2 = SparsePauliOp.from_list([("II", -1.052373245772859), ("IZ", 0.39793742484318045), ("ZI", -0.39793742484318045),
                              ("ZZ", -0.01128010425623538), ("XX", 0.18093119978423156)])
ansatz = real_amplitudes(2, reps=1)
pm = generate_preset_pass_manager(optimization_level=2, basis_gates=["rz", "sx", "x", "cx"], seed_transpiler=42)
isa = pm.run(ansatz)
op = h2.apply_layout(isa.layout)
count = [0]
with Session(backend=AerSimulator(), max_time=1800):
    def energy(x):
        est = EstimatorV2(options={"default_precision": 1e-4, "run_options": {"seed_simulator": 42 + count[0]}})
        count[0] += 1
        return float(est.run([(isa, op, x)]).result()[0].data.evs)
    res = minimize(energy, np.zeros(ansatz.num_parameters), method="COBYLA", tol=1e-6, options={"maxiter": 150})
    final = energy(res.x)
    measured = pm.run(ansatz.measure_all(inplace=False))
    counts = SamplerV2(default_shots=2000, seed=42 + count[0]).run([(measured, res.x)]).result()[0].data.meas.get_counts()
print(final, counts)
"""


def main(repeats: int = 3) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, script, spec in (("seed example", SEED, "seed_example.yaml"), ("vqe.yaml", VQE, "vqe.yaml")):
            (tmp / "hand.py").write_text(script)
            qrun_cmd = [*QRUN, str(ROOT / "experiments" / spec), "--out", str(tmp / "results"), "--quiet"]
            qrun, hand, load = interleaved(
                repeats, [*qrun_cmd, "--estimates", "declared"], [PYTHON, str(tmp / "hand.py")]
            )
            rows.append(
                row(f"{label}: qrun vs hand script (whole process, s; {load})", qrun["wall"], hand["wall"], "<= 1.10")
            )
            rows.append(
                row(f"{label}: qrun vs hand script (peak RSS, MiB)", qrun["rss_mib"], hand["rss_mib"], "<= 1.10")
            )
    return rows


if __name__ == "__main__":
    for r in main():
        print(
            f"{r['benchmark']:<58} qrun {r['qrun']:8.3f}  other {r['other']:8.3f}  ratio {r['ratio']:6.3f}  target {r['target']}"
        )
