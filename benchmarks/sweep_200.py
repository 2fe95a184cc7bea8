"""200-point sweep of a 4-qubit, 7-term estimator on aer: qrun against two hand-written scripts, as ratios.

Contenders (each its own process):
  qrun      a spec sweeping all 12 parameters of real_amplitudes(4, reps=2) in zip mode, 200 points;
  docs      the runtime docs' way: client-side runtime Estimator in local mode, one job per point;
  fastest   Aer's EstimatorV2 with one broadcast PUB, Aer's options named as qrun names them.
Execution time is from opening the session (or creating the primitive) to the last result in hand; whole process is
wall time from exec to exit; against the fastest script each is the median of interleaved pairs' ratios. Targets
(issue 5): qrun >= 20x faster than docs, <= 1.10x fastest, on execution time.
"""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PYTHON, QRUN, interleaved, pair_rows, row, run_dir_of, timed  # noqa: E402

POINTS, PARAMS, PRECISION, SEED = 200, 12, 0.01, 7
ISING = [("IIZZ", -1.0), ("IZZI", -1.0), ("ZZII", -1.0), ("IIIX", -0.5), ("IIXI", -0.5), ("IXII", -0.5), ("XIII", -0.5)]

SCRIPT_HEAD = f"""
import json, os, sys, time
import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
values = np.random.default_rng({SEED}).uniform(-np.pi, np.pi, ({POINTS}, {PARAMS}))
obs = SparsePauliOp.from_list({ISING!r})
qc = real_amplitudes(4, reps=2)
"""

DOCS = (
    SCRIPT_HEAD
    + f"""
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_ibm_runtime import Session
pm = generate_preset_pass_manager(optimization_level=2, basis_gates=["rz", "sx", "x", "cx"], seed_transpiler={SEED})
isa = pm.run(qc)
op = obs.apply_layout(isa.layout)
from qiskit_ibm_runtime.executor_estimator import Estimator
t0 = time.perf_counter()
with Session(backend=AerSimulator(), max_time=600) as session:
    estimator = Estimator(mode=session, options={{"resilience_level": 0, "simulator": {{"seed_simulator": {SEED}}}}})
    evs = [float(estimator.run([(isa, op, row)], precision={PRECISION}).result()[0].data.evs) for row in values]
print(json.dumps({{"execution": time.perf_counter() - t0, "first": evs[0]}}))
"""
)

# Aer runs real_amplitudes' ry and cx as they are: the fastest script sends the circuit as written, names the options
# qrun names, writes its values to disk as qrun does, and skips Python's teardown as qrun does.
FASTEST = (
    SCRIPT_HEAD
    + f"""
from qiskit_aer.primitives import EstimatorV2
t0 = time.perf_counter()
# the method Aer would pick, its rows as parallel experiments, bound as Aer runs: as qrun asks
named = {{"method": "statevector", "max_parallel_experiments": 0, "runtime_parameter_bind_enable": True}}
options = {{"default_precision": {PRECISION}, "run_options": {{"seed_simulator": {SEED}}}, "backend_options": named}}
evs = EstimatorV2(options=options).run([(qc, obs, values)]).result()[0].data.evs
execution = time.perf_counter() - t0
np.save("hand.npy", evs)
print(json.dumps({{"execution": execution, "first": float(evs[0])}}))
sys.stdout.flush()
os._exit(0)
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


def main(pairs: int = 7) -> list[dict]:
    """qrun and the fastest script as interleaved pairs: their execution times (qrun's from each run's metadata) and
    whole processes, each as the median of the pairs' ratios; the docs-style script once (it takes seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "spec.yaml").write_text(spec_text())
        (folder / "docs.py").write_text(DOCS)
        (folder / "fastest.py").write_text(FASTEST)
        qrun = [*QRUN, "spec.yaml", "--out", "results", "--quiet"]

        def execution(run: dict) -> dict:
            meta = json.loads((folder / run_dir_of(run["stdout"]) / "metadata.json").read_text())
            return {"execution": meta["session"]["execution_seconds"]}

        docs = timed([PYTHON, "docs.py"], folder)
        a, fastest, load = interleaved(
            pairs, qrun, [PYTHON, "fastest.py"], folder, read_a=execution, paired=("execution",)
        )
    spread = f"{pairs} pairs, pair ratios {a['execution_ratio_min']:.2f}-{a['execution_ratio_max']:.2f}; {load}"
    against_fastest = row(
        f"sweep-200: qrun vs fastest script (execution, s; {spread})", a["execution"], fastest["execution"], "<= 1.10"
    )
    against_fastest["ratio"] = a["execution_ratio"]  # the median of the pairs' ratios, not the ratio of the medians
    return [
        row(
            "sweep-200: qrun vs docs-style script (execution, s)",
            a["execution"],
            docs["execution"],
            "<= 0.05 (>= 20x faster)",
        ),
        against_fastest,
        row("sweep-200: qrun vs docs-style script (whole process, s)", a["wall"], docs["wall"], "-"),
        *pair_rows("sweep-200: qrun vs fastest script", pairs, a, fastest, load),
    ]


if __name__ == "__main__":
    for row in main():
        print(
            f"{row['benchmark']:<52} qrun {row['qrun']:8.3f}  other {row['other']:8.3f}  ratio {row['ratio']:6.3f}  "
            f"target {row['target']}"
        )
