"""The seed example and experiments/vqe.yaml: qrun against hand-written scripts doing the same work, whole process;
medians of interleaved A/B pairs."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PYTHON, QRUN, ROOT, interleaved, pair_rows  # noqa: E402

# The fastest correct hand scripts we could write: each writes its values to disk as qrun does, and skips Python's
# teardown as qrun does. The seed example needs the runtime (a fake device, resilience level 2, in local mode); the
# VQE runs on Aer, so its script imports no runtime, opens no Session (Aer's primitives do not use one) and does not
# transpile (Aer runs real_amplitudes' ry and cx as they are).
SEED = """
import json
import os
import sys
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
    data = estimator.run([(isa, observable.apply_layout(isa.layout))]).result()[0].data
with open("hand.json", "w") as out:
    json.dump({"evs": float(data.evs), "stds": float(data.stds)}, out)
sys.stdout.flush()
os._exit(0)
"""

VQE = """
import json
import os
import sys
import numpy as np
from scipy.optimize import minimize
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.primitives import EstimatorV2, SamplerV2

h2 = SparsePauliOp.from_list([("II", -1.052373245772859), ("IZ", 0.39793742484318045), ("ZI", -0.39793742484318045),
                              ("ZZ", -0.01128010425623538), ("XX", 0.18093119978423156)])
ansatz = real_amplitudes(2, reps=1)
named = {"backend_options": {"method": "statevector"}}  # the method Aer would pick, named (as qrun names it)
count = [0]
trace = []
def energy(x):
    est = EstimatorV2(options={"default_precision": 1e-4, "run_options": {"seed_simulator": 42 + count[0]}, **named})
    count[0] += 1
    data = est.run([(ansatz, h2, x)]).result()[0].data
    trace.append({"x": list(map(float, x)), "value": float(data.evs), "stderr": float(data.stds)})
    return float(data.evs)
res = minimize(energy, np.zeros(ansatz.num_parameters), method="COBYLA", tol=1e-6, options={"maxiter": 150})
final = energy(res.x)
measured = ansatz.measure_all(inplace=False)
sampler = SamplerV2(default_shots=2000, seed=42 + count[0], options=named)
counts = sampler.run([(measured, res.x)]).result()[0].data.meas.get_counts()
with open("hand.json", "w") as out:
    json.dump({"trace": trace, "optimum": final, "counts": counts}, out)
sys.stdout.flush()
os._exit(0)
"""


def main(pairs: int = 5) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, script, spec in (("seed example", SEED, "seed_example.yaml"), ("vqe.yaml", VQE, "vqe.yaml")):
            (tmp / "hand.py").write_text(script)
            qrun_cmd = [*QRUN, str(ROOT / "experiments" / spec), "--out", str(tmp / "results"), "--quiet"]
            qrun, hand, load = interleaved(
                pairs, [*qrun_cmd, "--estimates", "declared"], [PYTHON, str(tmp / "hand.py")], tmp
            )
            rows += pair_rows(f"{label}: qrun vs hand script", pairs, qrun, hand, load)
    return rows


if __name__ == "__main__":
    for r in main():
        print(f"| {r['benchmark']} | {r['qrun']:.3f} | {r['other']:.3f} | {r['ratio']:.3f} | {r['target']} |")
