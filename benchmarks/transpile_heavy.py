"""A transpile-heavy spec: efficient_su2(20, reps=3, entanglement="full") at optimization_level 3 on fake_kolkata (27q).

Measured with `qrun plan` (transpile and estimate, no simulation of 20 noisy qubits): a cold on-disk cache, then a
warm one (target: >= 5x faster planning), and qrun's whole process against a hand-written transpile script.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PYTHON, interleaved, pair_rows, row, timed  # noqa: E402

SPEC = """version: 1
name: transpile-heavy
backend: fake_kolkata
max_time: 1h
options: {optimization_level: 3, seed: 7}
circuits:
  ansatz: {library: {name: efficient_su2, args: {num_qubits: 20, reps: 3, entanglement: full}}}
observables:
  z0: "ZIIIIIIIIIIIIIIIIIII"
jobs:
  - {name: energy, primitive: estimator, circuit: ansatz, observables: [z0], parameter_values: [[PARAMS]], estimate: 10s}
""".replace("PARAMS", ", ".join(["0.1"] * 160))

# qrun's plan stage timed inside the process: the part the cache speeds up. Collection held from the first line, as the
# `qrun` command holds it, so the stage is timed as a run has it.
PLAN_TIMER = """
from qrun import collector
collector.hold()
import json, sys, time
import qiskit.transpiler, qiskit.qpy, qiskit.circuit.library, qiskit_ibm_runtime.fake_provider  # imports: not planning
from qrun.planning import plan
from qrun.app.prepare import prepare
spent = [0.0]
real = plan.cached_transpile
def timed(*args):
    t = time.perf_counter()
    out = real(*args)
    spent[0] += time.perf_counter() - t
    return out
plan.cached_transpile = timed
t0 = time.perf_counter()
prepare(sys.argv[1], out=sys.argv[2], use_cache=sys.argv[3] == "cache")
print(json.dumps({"plan": time.perf_counter() - t0, "transpile": spent[0]}))
"""

HAND = """
from qiskit.circuit.library import efficient_su2
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime.fake_provider import FakeKolkataV2
backend = FakeKolkataV2()
isa = generate_preset_pass_manager(backend=backend, optimization_level=3, seed_transpiler=7).run(efficient_su2(20, reps=3, entanglement="full"))
op = SparsePauliOp("Z" + "I" * 19).apply_layout(isa.layout)
print(isa.depth(), op.num_qubits)
"""


def main(pairs: int = 3) -> list[dict]:
    """Cold against warm as pairs: each pair's cold run starts from an empty cache of its own, and its warm run reads
    what the cold one stored; medians of the pairs. qrun's whole `qrun plan --no-cache` against the hand, as
    interleaved pairs."""
    import statistics

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "spec.yaml").write_text(SPEC)
        (folder / "timer.py").write_text(PLAN_TIMER)
        (folder / "hand.py").write_text(HAND)
        timer = [PYTHON, "timer.py", "spec.yaml", "r", "cache"]
        cold, warm = [], []
        for k in range(pairs):
            os.environ["QRUN_CACHE_DIR"] = str(folder / f"cache{k}")  # empty: this pair's cold run
            cold.append(timed(timer, folder))
            warm.append(timed(timer, folder))
        qrun = [PYTHON, "-m", "qrun", "plan", "spec.yaml", "--json", "--no-cache", "--out", "r"]
        json.loads(timed(qrun, folder)["stdout"])  # the plan really is made
        a, hand, load = interleaved(pairs, qrun, [PYTHON, "hand.py"], folder)

    def median(runs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    return [
        row(
            f"transpile-heavy: cache hit vs cold transpile (transpile step, s; medians of {pairs} pairs)",
            median(warm, "transpile"),
            median(cold, "transpile"),
            "<= 0.20 (>= 5x faster)",
        ),
        row("transpile-heavy: warm cache vs cold (plan stage, s)", median(warm, "plan"), median(cold, "plan"), "-"),
        *pair_rows("transpile-heavy, no cache: qrun plan vs hand transpile", pairs, a, hand, load),
    ]


if __name__ == "__main__":
    for r in main():
        print(
            f"{r['benchmark']:<58} qrun {r['qrun']:8.3f}  other {r['other']:8.3f}  ratio {r['ratio']:6.3f}  target {r['target']}"
        )
