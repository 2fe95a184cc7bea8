"""Scale: 10 to 10,000 small estimator jobs against the best hand scripts, and validate and plan of 10,000 jobs.

Medians of interleaved A/B pairs. Every contender's timer starts at the same point: the process start (whole
process). The hand scripts do exactly the jobs qrun does: one Aer EstimatorV2 job each, all as one PUB, or as PUBs of
500 rows.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from pathlib import Path

from common import PYTHON, QRUN, interleaved, pair_rows, row, timed

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

# The fastest correct hand script we could write for these jobs: Aer's EstimatorV2 on the circuit as written (Aer runs
# ry and cx as they are: a transpile would cost 0.5-1 s and gain nothing), one estimator object for every job, the
# values written to disk as qrun writes its own, and Python's teardown skipped as qrun skips it. "parallel": one PUB
# whose rows Aer runs as parallel experiments (max_parallel_experiments=0), as qrun asks it to on aer; Aer runs them one
# at a time otherwise. "chunked": the same in PUBs of 500 rows, as the sweep hands send their points: Aer runs 10,000
# rows faster that way than as one PUB, as fast as in PUBs of 2,000 and in less memory (RESULTS.md, "The supervisor
# forks first; templates and specs read once", its "Chunked hands", and "Batches and chunks of 500, a fake device's
# batches of 2,000"). Every hand names Aer's method, statevector, which Aer would otherwise choose again for each row
# (RESULTS.md, "Aer told the method it would pick"), and has Aer bind the rows as it runs, one experiment a PUB
# rather than one a row (RESULTS.md, "Aer binds the rows as it runs").
HAND = """
import os
import sys
import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.primitives import EstimatorV2
n, how = int(sys.argv[1]), sys.argv[2]
batched, parallel = how in ("pub", "parallel", "chunked"), how in ("parallel", "chunked")
qc = real_amplitudes(2, reps=1)
op = SparsePauliOp("ZI")
rows = np.tile([0.1, 0.2, 0.3, 0.4], (n, 1))
# statevector: the method Aer would pick for each row, named once; the rows bound as Aer runs (as qrun asks)
named = {"method": "statevector", "runtime_parameter_bind_enable": True}
backend_options = {**named, **({"max_parallel_experiments": 0} if parallel else {})}
# unseeded: each job's noise its own, as qrun's seeds make it
est = EstimatorV2(options={"default_precision": 0.1, "backend_options": backend_options})
if how == "chunked":
    result = est.run([(qc, op, rows[i : i + 500]) for i in range(0, n, 500)]).result()
    evs = np.concatenate([pub.data.evs for pub in result])
    stds = np.concatenate([pub.data.stds for pub in result])
elif batched:
    data = est.run([(qc, op, rows)]).result()[0].data
    evs, stds = data.evs, data.stds
else:
    results = [est.run([(qc, op, row)]).result()[0].data for row in rows]
    evs, stds = np.array([d.evs for d in results]), np.array([d.stds for d in results])
np.savez("hand.npz", evs=evs, stds=stds)
sys.stdout.flush()
os._exit(0)
"""


ESTIMATOR_JOB = (
    "  - {{name: j{i}, primitive: estimator, circuit: c, observables: [z], parameter_values: [[0.1, 0.2, 0.3, 0.4]]}}\n"
)
SAMPLER_JOB = (
    "  - {{name: s{i}, primitive: sampler, circuit: c, measure_all: true, shots: 100, "
    "parameter_values: [[0.1, 0.2, 0.3, 0.4]]}}\n"
)


def spec(n: int, job: str = ESTIMATOR_JOB) -> str:
    """n small jobs written as `job` (ESTIMATOR_JOB, or SAMPLER_JOB: 100 shots each), on one row each."""
    # 5 s of per-job overhead each: 10,000 jobs need days of (hypothetical) session
    return SPEC_HEAD.replace("MAXTIME", "8h" if n <= 1000 else "20d") + "".join(job.format(i=i) for i in range(n))


# The fastest correct hand for n small sampler jobs: Aer's SamplerV2, one PUB of every row (as fast as PUBs of 500
# for a sampler, which Aer runs in one call either way), parallel experiments, the method named and the rows bound as
# Aer runs, the shots written to disk as they came.
SAMPLER_HAND = """
import os
import sys
import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit_aer.primitives import SamplerV2
n = int(sys.argv[1])
qc = real_amplitudes(2, reps=1).measure_all(inplace=False)
rows = np.tile([0.1, 0.2, 0.3, 0.4], (n, 1))
named = {"method": "statevector", "runtime_parameter_bind_enable": True}  # as qrun asks
options = {"backend_options": {**named, "max_parallel_experiments": 0}}
bits = SamplerV2(default_shots=100, options=options).run([(qc, rows)]).result()[0].data.meas
np.save("hand.npy", bits.array)
sys.stdout.flush()
os._exit(0)
"""


def samplers(folder: Path, counts: tuple[int, ...] = (1_000, 10_000), pairs: int = 5) -> list[dict]:
    """n small sampler jobs against SAMPLER_HAND."""
    (folder / "sampler_hand.py").write_text(SAMPLER_HAND)
    rows = []
    for n in counts:
        (folder / f"s{n}.yaml").write_text(spec(n, SAMPLER_JOB))
        qrun = [*QRUN, f"s{n}.yaml", "--quiet", "--out", "r"]
        a, b, load = interleaved(pairs, qrun, [PYTHON, "sampler_hand.py", str(n)], folder)
        rows += pair_rows(f"{n:,} sampler jobs: qrun vs hand script, one PUB, parallel experiments", pairs, a, b, load)
    return rows


def rows_spec(n: int) -> str:
    """ONE estimator job of n parameter rows, the rows the n small jobs of spec(n) have: the same work for the hand."""
    values = ", ".join(["[0.1, 0.2, 0.3, 0.4]"] * n)
    job = f"  - {{name: scan, primitive: estimator, circuit: c, observables: [z], parameter_values: [{values}]}}\n"
    return SPEC_HEAD.replace("MAXTIME", "8h") + job


def one_job(folder: Path, n: int = 10_000, pairs: int = 5) -> list[dict]:
    """One job of n rows against the one-PUB and chunked hands (`hand.py` in `folder`)."""
    (folder / f"rows{n}.yaml").write_text(rows_spec(n))
    qrun = [*QRUN, f"rows{n}.yaml", "--quiet", "--out", "r"]
    rows = []
    for how, label in (
        ("parallel", "one PUB, parallel experiments"),
        ("chunked", "PUBs of 500 rows, parallel experiments"),
    ):
        a, b, load = interleaved(pairs, qrun, [PYTHON, "hand.py", str(n), how], folder)
        rows += pair_rows(f"one job of {n:,} rows: qrun vs hand script, {label}", pairs, a, b, load)
    return rows


def main(counts: tuple[int, ...] = (1_000, 10_000), pairs: int = 5) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "hand.py").write_text(HAND)
        for n in counts:
            (folder / f"k{n}.yaml").write_text(spec(n))
            qrun = [*QRUN, f"k{n}.yaml", "--quiet", "--out", "r"]
            for how, label in (
                ("each", "one job each"),
                ("pub", "one PUB"),
                ("parallel", "one PUB, parallel experiments"),
                ("chunked", "PUBs of 500 rows, parallel experiments"),
            ):
                a, b, load = interleaved(pairs, qrun, [PYTHON, "hand.py", str(n), how], folder)
                rows += pair_rows(f"{n:,} jobs: qrun vs hand script, {label}", pairs, a, b, load)
        rows += one_job(folder, max(counts), pairs)
        rows += samplers(folder, counts, pairs)
        rows += views(folder, pairs)
    return rows


def views(folder: Path, pairs: int = 5) -> list[dict]:
    """validate and plan of a 10,000-job spec against their targets; validate of 10,000 jobs bound to an earlier
    job's optimum (each `from:` looked up its job in a list of every name: 4.7 s); and validate of 10,000 jobs one of
    which is wrong (python-jsonschema explained the whole spec: 8.2 s), against validate of the valid spec."""
    rows = []
    cache = folder / "cache"  # the transpile and parse caches of these runs alone, not the user's
    os.environ["QRUN_CACHE_DIR"] = str(cache)
    (folder / "big.yaml").write_text(spec(10_000))
    bound = SPEC_HEAD.replace("MAXTIME", "20d") + "  - {name: opt, primitive: minimize, circuit: c, observables: [z]}\n"
    bound += "".join(
        f"  - {{name: j{i}, primitive: estimator, circuit: c, observables: [z], parameter_values: {{from: opt}}}}\n"
        for i in range(10_000)
    )
    (folder / "bound.yaml").write_text(bound)
    (folder / "typo.yaml").write_text(spec(10_000).replace("{name: j5000, ", "{name: j5000, shots: -5, "))
    medians = {}
    for what, args, target in (
        ("validate", ["validate", "big.yaml"], 1.0),
        ("plan, its default table", ["plan", "big.yaml"], 2.0),
        ("plan --json", ["plan", "--json", "big.yaml"], 2.0),
        ("validate, 10,000 jobs bound to an earlier job's optimum", ["validate", "bound.yaml"], 1.0),
    ):
        walls = sorted(timed([*QRUN, *args], folder)["wall"] for _ in range(pairs))
        medians[what] = median = statistics.median(walls)
        spec_ = "" if "10,000" in what else ", 10,000-job spec"
        name = f"qrun {what}{spec_} (whole process, s; median of {pairs}, {walls[0]:.2f}-{walls[-1]:.2f})"
        rows.append(row(f"{name} vs the {target:g} s target", median, target, "< 1"))
    # A spec is parsed by YAML once, then read from the parse cache (spec/parsecache.py), and a pass of the schema is
    # kept (spec/schema.py): the rows above read it warm (the first of their runs filled both); this one empties both
    # before each run, as for a spec never read before.
    walls = []
    for _ in range(pairs):
        shutil.rmtree(cache / "specs", ignore_errors=True)
        shutil.rmtree(cache / "verdicts", ignore_errors=True)
        walls.append(timed([*QRUN, "validate", "big.yaml"], folder)["wall"])
    walls.sort()
    name = (
        f"qrun validate, 10,000-job spec, neither its parse nor its schema verdict kept (whole process, s; median of "
        f"{pairs}, {walls[0]:.2f}-{walls[-1]:.2f}) vs validate from the cache"
    )
    rows.append(row(name, statistics.median(walls), medians["validate"], "-"))
    walls = sorted(timed([*QRUN, "validate", "typo.yaml"], folder, expect=2)["wall"] for _ in range(pairs))
    name = (
        f"qrun validate, one wrong job among 10,000 (whole process, s; median of {pairs}, {walls[0]:.2f}-"
        f"{walls[-1]:.2f}) vs validate of the valid spec"
    )
    rows.append(row(name, statistics.median(walls), medians["validate"], "-"))
    return rows


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["views"]:  # the views' rows alone
        with tempfile.TemporaryDirectory() as tmp:
            found = views(Path(tmp))
    elif sys.argv[1:2] == ["samplers"]:  # small sampler jobs alone: scale.py samplers [PAIRS]
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["QRUN_CACHE_DIR"] = str(Path(tmp) / "cache")
            found = samplers(Path(tmp), pairs=int(sys.argv[2]) if sys.argv[2:] else 5)
    elif sys.argv[1:2] == ["one-job"]:  # one job of many rows alone: scale.py one-job [ROWS [PAIRS]]
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "hand.py").write_text(HAND)
            os.environ["QRUN_CACHE_DIR"] = str(Path(tmp) / "cache")
            found = one_job(Path(tmp), *(int(a) for a in sys.argv[2:4]))
    else:
        found = main(tuple(int(a) for a in sys.argv[1:]) or (1_000, 10_000))
    for r in found:
        print(f"| {r['benchmark']} | {r['qrun']:.3f} | {r['other']:.3f} | {r['ratio']:.3f} | {r['target']} |")
