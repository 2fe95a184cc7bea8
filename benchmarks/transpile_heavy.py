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
from common import PYTHON, best_of, row, timed, whole_process_rows  # noqa: E402

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

# qrun's plan stage timed inside the process: the part the cache speeds up.
PLAN_TIMER = """
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


def main(repeats: int = 3) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "spec.yaml").write_text(SPEC)
        (tmp / "timer.py").write_text(PLAN_TIMER)
        (tmp / "hand.py").write_text(HAND)
        os.environ["QRUN_CACHE_DIR"] = str(tmp / "cache")
        cold = timed([PYTHON, str(tmp / "timer.py"), str(tmp / "spec.yaml"), str(tmp / "r"), "cache"])
        warm = best_of(repeats, [PYTHON, str(tmp / "timer.py"), str(tmp / "spec.yaml"), str(tmp / "r"), "cache"])
        hand = best_of(repeats, [PYTHON, str(tmp / "hand.py")])
        qrun = best_of(
            repeats,
            [PYTHON, "-m", "qrun", "plan", str(tmp / "spec.yaml"), "--json", "--no-cache", "--out", str(tmp / "r")],
        )
        json.loads(qrun["stdout"])  # the plan really was made
    return [
        row(
            "transpile-heavy: cache hit vs cold transpile (transpile step, s)",
            warm["transpile"],
            cold["transpile"],
            "<= 0.20 (>= 5x faster)",
        ),
        row("transpile-heavy: warm cache vs cold (plan stage, s)", warm["plan"], cold["plan"], "-"),
        *whole_process_rows("transpile-heavy, no cache", qrun, hand),
    ]


if __name__ == "__main__":
    for r in main():
        print(
            f"{r['benchmark']:<58} qrun {r['qrun']:8.3f}  other {r['other']:8.3f}  ratio {r['ratio']:6.3f}  target {r['target']}"
        )
