"""Scale: 10 to 10,000 small estimator jobs against the best hand scripts, and validate and plan of 10,000 jobs.

Medians of interleaved A/B pairs. Every contender's timer starts at the same point: the process start (whole
process). The hand scripts do exactly the jobs qrun does: one Aer EstimatorV2 job each, or all as one PUB.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import PYTHON, QRUN, interleaved, row, timed

N_JOBS = 1000
SPEC_HEAD = """version: 1
name: scale
backend: aer
max_time: MAXTIME
max_time_limit: 30d
options: {seed: 1, default_precision: 0.1}
circuits:
  c: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}
observables:
  z: ZI
jobs:
"""

HAND = """
import sys
import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer.primitives import EstimatorV2
n, batched = int(sys.argv[1]), sys.argv[2] == "pub"
qc = real_amplitudes(2, reps=1)
isa = generate_preset_pass_manager(optimization_level=2, basis_gates=["rz", "sx", "x", "cx"], seed_transpiler=1).run(qc)
op = SparsePauliOp("ZI").apply_layout(isa.layout)
rows = np.tile([0.1, 0.2, 0.3, 0.4], (n, 1))
if batched:
    EstimatorV2(options={"default_precision": 0.1, "run_options": {"seed_simulator": 1}}).run([(isa, op, rows)]).result()
else:
    for k in range(n):
        est = EstimatorV2(options={"default_precision": 0.1, "run_options": {"seed_simulator": k}})
        est.run([(isa, op, rows[k])]).result()
"""


def spec(n: int) -> str:
    # 5 s of per-job overhead each: 10,000 jobs need days of (hypothetical) session
    return SPEC_HEAD.replace("MAXTIME", "8h" if n <= 1000 else "20d") + "".join(
        f"  - {{name: j{i}, primitive: estimator, circuit: c, observables: [z], "
        "parameter_values: [[0.1, 0.2, 0.3, 0.4]]}\n"
        for i in range(n)
    )


def main(counts: tuple[int, ...] = (10, 100, 1_000, 10_000)) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "hand.py").write_text(HAND)
        for n in counts:
            (folder / f"k{n}.yaml").write_text(spec(n))
            qrun = [*QRUN, f"k{n}.yaml", "--quiet", "--out", "r"]
            pairs = 3
            for how, label, target in (("each", "one job each", "< 1"), ("pub", "one PUB", "< 2")):
                a, b, load = interleaved(pairs, qrun, [PYTHON, "hand.py", str(n), how], folder)
                rows.append(
                    row(
                        f"{n:,} jobs: qrun vs hand script, {label} (whole process, s; {pairs} pair(s); {load})",
                        a["wall"],
                        b["wall"],
                        target,
                    )
                )
                rows.append(
                    row(
                        f"{n:,} jobs: qrun vs hand script, {label} (peak RSS, MiB)",
                        a["rss_mib"],
                        b["rss_mib"],
                        "<= 1.10",
                    )
                )
        (folder / "big.yaml").write_text(spec(10_000))
        validate = min(timed([*QRUN, "validate", "big.yaml"], folder)["wall"] for _ in range(3))
        rows.append(row("qrun validate, 10,000-job spec (whole process, s) vs the 1 s target", validate, 1.0, "< 1"))
        plan = min(timed([*QRUN, "plan", "big.yaml", "--json"], folder)["wall"] for _ in range(3))
        rows.append(row("qrun plan, 10,000-job spec (whole process, s) vs the 3 s target", plan, 3.0, "< 1"))
    return rows


if __name__ == "__main__":
    import sys

    for r in main(tuple(int(a) for a in sys.argv[1:]) or (10, 100, 1_000, 10_000)):
        print(r)
