"""Scale, part two: sweeps of 10^3 to 10^6 points, one estimator job at 12 to 28 qubits, and Dask with 1 vs 2 workers.

Medians of interleaved A/B pairs (one pair where a run takes minutes), every timer started at process start. The
hand scripts run the same circuit, observable, points and precision on Aer's EstimatorV2: the sweep as one PUB (what
the docs show) or in PUBs of qrun's local chunk size (the best hand script we found: Aer's cost per point grows
with a PUB's size).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from common import PYTHON, QRUN, interleaved, pair_rows, row

SWEEP = """version: 1
name: sweep
backend: aer
max_time: 30d
max_time_limit: 30d
options: {seed: 1, default_precision: 0.01}
circuits:
  c: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}
observables:
  z: ZI
jobs:
  - name: s
    primitive: estimator
    circuit: c
    observables: [z]
    parameter_values: [[0.1, 0.2, 0.3, 0.4]]
    estimate: 1s
    sweep: {values: {'θ[0]': {linspace: [0, 3.14, POINTS]}}}
"""

# The fastest correct hand scripts we could write: Aer's EstimatorV2 on the circuit as written (no transpile: Aer
# runs these gates as they are, and a transpile costs 0.5-1 s and 70-90 MiB for nothing), the sweep's values computed
# once, every value written to disk, and Python's teardown skipped as qrun skips it.
HAND_SWEEP = """
import os
import sys
import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.primitives import EstimatorV2
n, chunk, parallel = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:] == ["parallel"]
qc = real_amplitudes(2, reps=1)
op = SparsePauliOp("ZI")
# statevector: the method Aer would pick for each row, named once; the rows bound as Aer runs; parallel: Aer runs a
# PUB's rows at once; as qrun asks
named = {"method": "statevector", "runtime_parameter_bind_enable": True}
backend_options = {**named, **({"max_parallel_experiments": 0} if parallel else {})}
est = EstimatorV2(
    options={"default_precision": 0.01, "run_options": {"seed_simulator": 1}, "backend_options": backend_options}
)
theta = np.linspace(0, 3.14, n)
with open("hand.csv", "w") as out:
    for s in range(0, n, chunk):
        rows = np.tile([0.1, 0.2, 0.3, 0.4], (min(chunk, n - s), 1))
        rows[:, 0] = theta[s : s + chunk]
        data = est.run([(qc, op, rows)]).result()[0].data
        out.writelines(f"{t},{v},{e}\\n" for t, v, e in zip(rows[:, 0], data.evs, data.stds))
sys.stdout.flush()
os._exit(0)
"""

WIDE = """version: 1
name: wide
backend: aer
max_time: 30d
max_time_limit: 30d
options: {seed: 1, default_precision: 0.01}
circuits:
  c: {library: efficient_su2, args: {num_qubits: QUBITS, reps: 1}}
observables:
  z: ZOBS
jobs:
  - {name: e, primitive: estimator, circuit: c, observables: [z], parameter_values: [VALUES], estimate: 1s}
"""

HAND_WIDE = """
import json
import os
import sys
from qiskit.circuit.library import efficient_su2
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.primitives import EstimatorV2
n = int(sys.argv[1])
qc = efficient_su2(n, reps=1)
op = SparsePauliOp("Z" + "I" * (n - 1))
values = [0.1 * (k % 7) for k in range(qc.num_parameters)]
named = {"backend_options": {"method": "statevector"}}  # the method Aer would pick, named (as qrun names it)
est = EstimatorV2(options={"default_precision": 0.01, "run_options": {"seed_simulator": 1}, **named})
data = est.run([(qc, op, values)]).result()[0].data
with open("hand.json", "w") as out:
    json.dump({"evs": float(data.evs), "stds": float(data.stds)}, out)
sys.stdout.flush()
os._exit(0)
"""

DASK = """version: 1
name: dk
backend: aer
max_time: 30d
max_time_limit: 30d
options: {seed: 1, default_precision: 0.01}
circuits:
  c: {library: efficient_su2, args: {num_qubits: 12, reps: 2}}
observables:
  z: ZIIIIIIIIIII
jobs:
  - name: s
    primitive: estimator
    circuit: c
    observables: [z]
    parameter_values: [VALUES]
    estimate: 1s
    sweep: {values: {'θ[0]': {linspace: [0, 3.14, POINTS]}}}
"""


def _values(n: int) -> str:
    return "[" + ", ".join(f"{0.1 * (k % 7):.1f}" for k in range(n)) + "]"


def main(
    sizes: tuple[int, ...] = (10_000, 100_000),
    qubits: tuple[int, ...] = (12, 20, 24),
    dask_points: int = 0,
    pairs: int = 3,
) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "hand_sweep.py").write_text(HAND_SWEEP)
        (folder / "hand_wide.py").write_text(HAND_WIDE)
        for n in sizes:
            (folder / f"s{n}.yaml").write_text(SWEEP.replace("POINTS", str(n)))
            qrun = [*QRUN, f"s{n}.yaml", "--quiet", "--out", "r"]
            k = pairs if n <= 100_000 else 1
            a, b, load = interleaved(k, qrun, [PYTHON, "hand_sweep.py", str(n), "500"], folder)
            rows += pair_rows(f"{n:,}-point sweep: qrun vs hand script in 500-point PUBs", k, a, b, load)
            a, b, load = interleaved(k, qrun, [PYTHON, "hand_sweep.py", str(n), "500", "parallel"], folder)
            label = f"{n:,}-point sweep: qrun vs hand script in 500-point PUBs, parallel experiments"
            rows += pair_rows(label, k, a, b, load)
            if n <= 10_000:
                a, c, load = interleaved(k, qrun, [PYTHON, "hand_sweep.py", str(n), str(n)], folder)
                rows += pair_rows(f"{n:,}-point sweep: qrun vs hand script, one PUB", k, a, c, load)
        for q in qubits:
            spec = WIDE.replace("QUBITS", str(q)).replace("OBS", "I" * (q - 1))
            (folder / f"w{q}.yaml").write_text(spec.replace("VALUES", _values(4 * q)))
            k = pairs if q <= 24 else 1
            qrun = [*QRUN, f"w{q}.yaml", "--quiet", "--out", "r"]
            a, b, load = interleaved(k, qrun, [PYTHON, "hand_wide.py", str(q)], folder)
            rows += pair_rows(f"estimator, efficient_su2({q}), one job on aer", k, a, b, load)
        if not dask_points:
            return rows
        (folder / "dk.yaml").write_text(DASK.replace("POINTS", str(dask_points)).replace("VALUES", _values(72)))
        one = [*QRUN, "dk.yaml", "--quiet", "--out", "one"]
        two = [*QRUN, "dk.yaml", "--quiet", "--out", "two", "--workers", "2"]
        a, b, load = interleaved(1, two, one, folder)
        rows.append(
            row(
                f"Dask, 2 local workers vs one process, {dask_points:,}-point sweep (whole process, s; {load})",
                a["wall"],
                b["wall"],
                "<= 1.20",
            )
        )
        c, _, load = interleaved(1, [*QRUN, "dk.yaml", "--quiet", "--out", "w1", "--workers", "1"], one, folder)
        rows.append(row(f"Dask, 1 local worker vs one process (whole process, s; {load})", c["wall"], b["wall"], "-"))
        record = json.loads(next((folder / "two" / "dk").glob("*/metadata.json")).read_text())["session"]["dask"]
        print(json.dumps({"dask_two_workers": record, "walls": {"two": a["wall"], "one": b["wall"], "w1": c["wall"]}}))
    return rows


if __name__ == "__main__":
    import sys

    args = [int(a) for a in sys.argv[1:]]
    for r in main(tuple(args) if args else (10_000, 100_000)):
        print(f"| {r['benchmark']} | {r['qrun']:.3f} | {r['other']:.3f} | {r['ratio']:.3f} | {r['target']} |")
