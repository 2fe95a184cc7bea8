"""200-point sweep of a 4-qubit, 7-term estimator on aer: qrun against two hand-written scripts, as ratios.

Contenders (each its own process):
  qrun      a spec sweeping all 12 parameters of real_amplitudes(4, reps=2) in zip mode, 200 points;
  docs      the runtime docs' way: client-side runtime Estimator in local mode, one job per point;
  fastest   Aer's EstimatorV2 with one broadcast PUB.
Execution time is from opening the session (or creating the primitive) to the last result in hand; whole process is
wall time from exec to exit. Targets (issue 5): qrun >= 20x faster than docs, <= 1.10x fastest, on execution time.
"""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PYTHON, QRUN, best_of, row, run_dir_of, whole_process_rows  # noqa: E402

POINTS, PARAMS, PRECISION, SEED = 200, 12, 0.01, 7
ISING = [("IIZZ", -1.0), ("IZZI", -1.0), ("ZZII", -1.0), ("IIIX", -0.5), ("IIXI", -0.5), ("IXII", -0.5), ("XIII", -0.5)]

SCRIPT_HEAD = f"""
import json, time
import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
values = np.random.default_rng({SEED}).uniform(-np.pi, np.pi, ({POINTS}, {PARAMS}))
obs = SparsePauliOp.from_list({ISING!r})
qc = real_amplitudes(4, reps=2)
pm = generate_preset_pass_manager(optimization_level=2, basis_gates=["rz", "sx", "x", "cx"], seed_transpiler={SEED})
isa = pm.run(qc)
op = obs.apply_layout(isa.layout)
"""

DOCS = (
    SCRIPT_HEAD
    + f"""
from qiskit_aer import AerSimulator
from qiskit_ibm_runtime import Session
from qiskit_ibm_runtime.executor_estimator import Estimator
t0 = time.perf_counter()
with Session(backend=AerSimulator(), max_time=600) as session:
    estimator = Estimator(mode=session, options={{"resilience_level": 0, "simulator": {{"seed_simulator": {SEED}}}}})
    evs = [float(estimator.run([(isa, op, row)], precision={PRECISION}).result()[0].data.evs) for row in values]
print(json.dumps({{"execution": time.perf_counter() - t0, "first": evs[0]}}))
"""
)

FASTEST = (
    SCRIPT_HEAD
    + f"""
from qiskit_aer.primitives import EstimatorV2
t0 = time.perf_counter()
estimator = EstimatorV2(options={{"default_precision": {PRECISION}, "run_options": {{"seed_simulator": {SEED}}}}})
evs = estimator.run([(isa, op, values)]).result()[0].data.evs
print(json.dumps({{"execution": time.perf_counter() - t0, "first": float(evs[0])}}))
"""
)


def spec_text() -> str:
    values = np.random.default_rng(SEED).uniform(-np.pi, np.pi, (POINTS, PARAMS))
    columns = "\n".join(f'        "θ[{i}]": {json.dumps([float(v) for v in values[:, i]])}' for i in range(PARAMS))
    terms = ", ".join(f"[{label}, {coeff}]" for label, coeff in ISING)
    return (
        textwrap.dedent(f"""\
        version: 1
        name: sweep-200
        backend: aer
        max_time: 1h
        options: {{optimization_level: 2, seed: {SEED}}}
        circuits:
          ansatz: {{library: {{name: real_amplitudes, args: {{num_qubits: 4, reps: 2}}}}}}
        observables:
          ising: [{terms}]
        jobs:
          - name: sweep
            primitive: estimator
            circuit: ansatz
            observables: [ising]
            precision: {PRECISION}
            estimate: 1s
            sweep:
              mode: zip
              values:
        """)
        + columns
        + "\n"
    )


def main(repeats: int = 3) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "spec.yaml").write_text(spec_text())
        (tmp / "docs.py").write_text(DOCS)
        (tmp / "fastest.py").write_text(FASTEST)
        qrun = best_of(repeats, [*QRUN, str(tmp / "spec.yaml"), "--out", str(tmp / "results"), "--quiet"])
        meta = json.loads((run_dir_of(qrun["stdout"]) / "metadata.json").read_text())
        qrun["execution"] = meta["session"]["execution_seconds"]
        docs = best_of(1, [PYTHON, str(tmp / "docs.py")])
        fastest = best_of(repeats, [PYTHON, str(tmp / "fastest.py")])
    return [
        row(
            "sweep-200: qrun vs docs-style script (execution, s)",
            qrun["execution"],
            docs["execution"],
            "<= 0.05 (>= 20x faster)",
        ),
        row("sweep-200: qrun vs fastest script (execution, s)", qrun["execution"], fastest["execution"], "<= 1.10"),
        row("sweep-200: qrun vs docs-style script (whole process, s)", qrun["wall"], docs["wall"], "-"),
        *whole_process_rows("sweep-200 vs fastest script", qrun, fastest),
    ]


if __name__ == "__main__":
    for row in main():
        print(
            f"{row['benchmark']:<52} qrun {row['qrun']:8.3f}  other {row['other']:8.3f}  ratio {row['ratio']:6.3f}  "
            f"target {row['target']}"
        )
