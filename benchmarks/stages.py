"""Where a run of n small estimator jobs on aer, or a sweep of n points, spends its time and memory, stage by stage,
beside Aer's own floor.

    .venv/bin/python benchmarks/stages.py [N [RUNS]]
    .venv/bin/python benchmarks/stages.py sampler [N [RUNS]]
    .venv/bin/python benchmarks/stages.py sweep [POINTS [RUNS]]

Each run is a fresh process running `qrun SPEC --quiet` in process (no supervisor), with the functions named in
STAGES wrapped to add up their wall time; a function that runs while Aer works in its thread (a batch's submission
records) shares the interpreter lock with Aer, so its time and Aer's overlap. Memory is the process's RSS at each
stage's edges. Medians over RUNS processes, after one run that fills the parse, schema and transpile caches (a
re-run's path, as the interleaved benchmarks time it). The floor is the hand's own work, timed in its process: its
imports, and Aer's estimator on the rows in PUBs of 500 (`scale.HAND`), Aer's sampler on one PUB of every row
(`scale.SAMPLER_HAND`, for n small sampler jobs of 100 shots), or on the sweep's chunks with each chunk's values written
to disk (`scale_sweeps.HAND_SWEEP`). A sweep is `scale_sweeps.SWEEP`, a 2-qubit estimator at precision
0.01; its stages are per chunk (500 points), summed over the sweep.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import PYTHON
from scale import SAMPLER_JOB, spec
from scale_sweeps import SWEEP

# (module, attribute path, label, whether RSS is read at its edges), in the order a run reaches them
STAGES = [
    ("qrun.app.prepare", "check", "read and check the spec", False),
    ("qrun.planning.plan", "build", "plan", False),
    ("qrun.app.pipeline", "prepare", "prepare: check, plan, learned history", True),
    ("qrun.store.writer", "RunWriter.open", "open the run folder", True),
    ("qrun.running.base", "RunnerBase.next_seeds", "each job's seed", False),
    ("qrun.running.batching", "merged_estimator_pubs", "merge a batch's PUBs", False),
    ("qiskit_aer.primitives", "EstimatorV2.run", "Aer: submit", False),
    ("qrun.store.writer", "RunWriter.jobs_submitted", "record submissions (overlaps Aer)", False),
    ("qrun.running.base", "RunnerBase.collect", "wait for Aer", False),
    ("qrun.running.batching", "shot_noise_results", "each job's shot noise", False),
    ("qrun.store.writer", "RunWriter.jobs_done", "batch files and records", False),
    ("qrun.running.runner", "Runner.run", "run the jobs (the eight rows above, and the rest)", True),
    ("qrun.store.writer", "RunWriter.finish", "finish the run folder", True),
    ("qrun.store.learned", "remember", "keep what the run teaches", False),
]

# n small sampler jobs' stages, in the same form: their rows go to Aer as one PUB a batch, and come back stacked
SAMPLER_STAGES = [
    ("qrun.app.pipeline", "prepare", "prepare: check, plan, learned history", True),
    ("qrun.store.writer", "RunWriter.open", "open the run folder", True),
    ("qrun.running.batching", "merged_sampler_pubs", "merge a batch's PUBs", False),
    ("qiskit_aer.primitives", "SamplerV2.run", "Aer: submit", False),
    ("qrun.store.writer", "RunWriter.jobs_submitted", "record submissions (overlaps Aer)", False),
    ("qrun.running.base", "RunnerBase.collect", "wait for Aer", False),
    ("qrun.running.batching", "stacked_sampler_shares", "the batch's registers stacked", False),
    ("qrun.store.writer", "RunWriter.jobs_done", "counts, batch files and records", False),
    ("qrun.running.runner", "Runner.run", "run the jobs (the rows above, and the rest)", True),
    ("qrun.store.writer", "RunWriter.finish", "finish the run folder", True),
    ("qrun.store.learned", "remember", "keep what the run teaches", False),
]

# A sweep's stages, in the same form; a generator's time is its own work between the values it yields.
SWEEP_STAGES = [
    ("qrun.app.pipeline", "prepare", "prepare: check, plan, learned history", True),
    ("qrun.store.writer", "RunWriter.open", "open the run folder", True),
    ("qrun.planning.sweeps", "Points.chunks", "make each chunk's points", False),
    ("qrun.planning.work", "chunk_groups", "group each chunk's points", False),
    ("qrun.running.sweeping", "sweep_estimator_pub", "each chunk's PUB", False),
    ("qiskit_aer.primitives", "EstimatorV2.run", "Aer: submit", False),
    ("qrun.running.base", "RunnerBase.receive", "wait for Aer", False),
    ("qrun.store.records", "fill_points", "fill in each point's result", False),
    ("qrun.store.writer", "json_lines", "the points as JSON lines (a long sweep)", False),
    ("qrun.store.writer", "json_items", "the points as JSON text kept for the job file (a short sweep)", False),
    ("qrun.store.records", "sweep_table", "the points as CSV rows", False),
    ("qrun.store.writer", "RunWriter.sweep_chunk", "store each chunk (the four rows above, and the appends)", False),
    ("qrun.store.writer", "RunWriter.job_done", "the job's file (a short sweep's points in it)", False),
    ("qrun.running.runner", "Runner.run", "run the sweep (the rows above, and the rest)", True),
    ("qrun.store.writer", "RunWriter.finish", "finish the run folder", True),
]

CHILD = r"""
import importlib, inspect, json, os, resource, sys, time
began = time.perf_counter()
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
spent, memory = {}, {"start": rss()}
from qrun import collector
collector.hold()
from qrun.cli import main
for module, path, label, edges in json.loads(sys.argv[2]):
    owner = importlib.import_module(module)
    *outer, name = path.split(".")
    for part in outer:
        owner = getattr(owner, part)
    def wrapped(*a, _f=getattr(owner, name), _label=label, _edges=edges, **k):
        t = time.perf_counter()
        try:
            return _f(*a, **k)
        finally:
            spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - t
            if _edges:
                memory["after: " + _label] = rss()
    def generated(*a, _f=getattr(owner, name), _label=label, **k):
        values = _f(*a, **k)
        while True:
            t = time.perf_counter()
            try:
                value = next(values)
            except StopIteration:
                return
            finally:
                spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - t
            yield value
    setattr(owner, name, generated if inspect.isgeneratorfunction(getattr(owner, name)) else wrapped)
memory["after the imports"] = rss()
imported = time.perf_counter()
sys.argv = ["qrun", sys.argv[1], "--quiet", "--out", "r"]
try:
    main()
except SystemExit:
    pass
spent["imports: qrun, qiskit, Aer"] = imported - began
spent["the run's main(), whole"] = time.perf_counter() - imported
memory["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"spent": spent, "memory": memory}), file=sys.stderr)
"""

FLOOR = r"""
import json, sys, time
began = time.perf_counter()
import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.primitives import EstimatorV2
imported = time.perf_counter()
n = int(sys.argv[1])
qc, op, rows = real_amplitudes(2, reps=1), SparsePauliOp("ZI"), np.tile([0.1, 0.2, 0.3, 0.4], (n, 1))
options = {"method": "statevector", "runtime_parameter_bind_enable": True, "max_parallel_experiments": 0}
est = EstimatorV2(options={"default_precision": 0.1, "backend_options": options})
est.run([(qc, op, rows[i : i + 500]) for i in range(0, n, 500)]).result()
done = time.perf_counter()
print(json.dumps({"imports: qiskit, Aer": imported - began, "Aer's estimator": done - imported}), file=sys.stderr)
"""

SAMPLER_FLOOR = r"""
import json, sys, time
began = time.perf_counter()
import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit_aer.primitives import SamplerV2
imported = time.perf_counter()
n = int(sys.argv[1])
qc, rows = real_amplitudes(2, reps=1).measure_all(inplace=False), np.tile([0.1, 0.2, 0.3, 0.4], (n, 1))
named = {"method": "statevector", "runtime_parameter_bind_enable": True, "max_parallel_experiments": 0}
bits = SamplerV2(default_shots=100, options={"backend_options": named}).run([(qc, rows)]).result()[0].data.meas
ran = time.perf_counter()
np.save("hand.npy", bits.array)
done = time.perf_counter()
print(json.dumps({"imports: qiskit, Aer": imported - began, "Aer's sampler": ran - imported, "the shots to disk": done - ran}), file=sys.stderr)
"""

SWEEP_FLOOR = r"""
import json, sys, time
began = time.perf_counter()
import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.primitives import EstimatorV2
imported = time.perf_counter()
n = int(sys.argv[1])
qc, op, theta = real_amplitudes(2, reps=1), SparsePauliOp("ZI"), np.linspace(0, 3.14, n)
named = {"method": "statevector", "runtime_parameter_bind_enable": True, "max_parallel_experiments": 0}
est = EstimatorV2(options={"default_precision": 0.01, "run_options": {"seed_simulator": 1}, "backend_options": named})
spent = {"Aer's estimator": 0.0, "the values to disk": 0.0}
with open("hand.csv", "w") as out:
    for s in range(0, n, 500):
        rows = np.tile([0.1, 0.2, 0.3, 0.4], (min(500, n - s), 1))
        rows[:, 0] = theta[s : s + 500]
        t = time.perf_counter()
        data = est.run([(qc, op, rows)]).result()[0].data
        t1 = time.perf_counter()
        out.writelines(f"{x},{v},{e}\n" for x, v, e in zip(rows[:, 0], data.evs, data.stds))
        spent["Aer's estimator"] += t1 - t
        spent["the values to disk"] += time.perf_counter() - t1
print(json.dumps({"imports: qiskit, Aer": imported - began, **spent}), file=sys.stderr)
"""


def child(code: str, args: list[str], cwd: Path) -> dict:
    p = subprocess.run([PYTHON, "-c", code, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return json.loads(p.stderr.strip().splitlines()[-1])


# what each command line measures: its spec, its stages, the hand's floor, and what it is called
KINDS = {
    "estimator": (spec, STAGES, FLOOR, "{n:,} small estimator jobs"),
    "sampler": (lambda n: spec(n, SAMPLER_JOB), SAMPLER_STAGES, SAMPLER_FLOOR, "{n:,} small sampler jobs"),
    "sweep": (lambda n: SWEEP.replace("POINTS", str(n)), SWEEP_STAGES, SWEEP_FLOOR, "a sweep of {n:,} points"),
}


def main(n: int = 1_000, runs: int = 7, kind: str = "estimator") -> str:
    make_spec, stage_list, floor, title = KINDS[kind]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["QRUN_CACHE_DIR"] = str(folder / "cache")
        (folder / "k.yaml").write_text(make_spec(n))
        stages = json.dumps(stage_list)
        child(CHILD, ["k.yaml", stages], folder)  # fills the caches, as a re-run finds them
        found = [child(CHILD, ["k.yaml", stages], folder) for _ in range(runs)]
        floors = [child(floor, [str(n)], folder) for _ in range(runs)]
    what = title.format(n=n)
    lines = [f"{what} on aer, medians of {runs} processes (load {os.getloadavg()[0]:.1f})", ""]
    lines += ["| stage | wall, ms |", "|---|---:|"]
    for label in found[0]["spent"]:
        lines.append(f"| {label} | {statistics.median(r['spent'].get(label, 0.0) for r in found) * 1e3:.1f} |")
    for label in floors[0]:
        lines.append(f"| the hand: {label} | {statistics.median(r[label] for r in floors) * 1e3:.1f} |")
    lines += ["", "| RSS at | MiB |", "|---|---:|"]
    for label in found[0]["memory"]:
        lines.append(f"| {label} | {statistics.median(r['memory'].get(label, 0.0) for r in found):.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    named = sys.argv[1] if sys.argv[1:2] in (["sampler"], ["sweep"]) else "estimator"
    numbers = [int(a) for a in sys.argv[1 + (named != "estimator") :][:2]] or ([100_000] if named == "sweep" else [])
    print(main(*numbers, kind=named))
