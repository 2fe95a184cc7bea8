"""Instructions, not seconds: valgrind's callgrind counts every instruction a whole process runs (qrun's supervisor
and its run together), for n small estimator jobs on aer against the hands of `scale.py`, or for qrun on this checkout
against another. The same command gives the same count to a few parts in ten thousand whatever else the machine is
doing (with its threads held at one: STEADY), so a change of 1% that wall-clock pairs on a shared machine cannot tell
from noise is measured.

    .venv/bin/python benchmarks/instructions.py [N ...]                 qrun against the hands (default N: 10 1000)
    .venv/bin/python benchmarks/instructions.py --against DIR [N ...]   this checkout's qrun against DIR's (a worktree)

`make bench` (run_all.py) adds 1,000 jobs against the one-PUB and chunked hands to its table (main()), where
valgrind is installed.

An instruction is not a second: a count leaves out waiting (disk, the kernel, a core taken by another process) and
instructions differ in cost, so the issue's targets stay in wall time (`run_all.py`); these counts say where the
work is and whether a change took some away. Under callgrind a process runs about fifty times slower. Needs valgrind
(Debian's package); says so and exits 2 where it is absent.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import PYTHON, ROOT, row
from scale import HAND, spec

COLLECTED = re.compile(r"Collected : (\d+)")
# One thread each for Aer's OpenMP and numpy's OpenBLAS: an idle thread spins, and under callgrind, which runs threads
# one at a time, how long it spins (so its count) changes from run to run. The hash seed fixes dict and set order.
STEADY = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
HANDS = (("pub", "one PUB"), ("parallel", "one PUB, parallel experiments"), ("chunked", "PUBs of 500 rows"))


def count(cmd: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Every instruction of `cmd` and of the processes it forks, summed (one 'Collected' line each)."""
    with tempfile.TemporaryDirectory(prefix="callgrind-") as out:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p", *cmd],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed under callgrind ({done.returncode}):\n{done.stderr[-2000:]}")
    return sum(int(m.group(1)) for m in COLLECTED.finditer(done.stderr))


def qrun_count(folder: Path, n: int, tree: Path) -> int:
    """qrun on n small jobs from `tree`'s package, after one run that fills the parse, schema and transpile caches (a
    re-run, as the interleaved benchmarks time it); a fresh results folder each, so no run learns from another."""
    env = {**os.environ, **STEADY, "PYTHONPATH": str(tree)}
    args = [PYTHON, "-m", "qrun", f"n{n}.yaml", "--quiet", "--out"]
    subprocess.run([*args, "warm"], cwd=folder, env=env, capture_output=True, check=True)
    shutil.rmtree(folder / "r", ignore_errors=True)
    return count([*args, "r"], folder, env)


def main() -> list[dict]:
    """run_all.py's rows: 1,000 small jobs against the one-PUB and chunked hands, in instructions (none, said on
    stderr, where valgrind is absent)."""
    if shutil.which("valgrind") is None:
        print("instructions.py: no valgrind, so no instruction counts", file=sys.stderr)
        return []
    rows = []
    with tempfile.TemporaryDirectory(prefix="qrun-instructions-") as tmp:
        folder = Path(tmp)
        (folder / "hand.py").write_text(HAND)
        (folder / "n1000.yaml").write_text(spec(1000))
        mine = qrun_count(folder, 1000, ROOT)
        env = {**os.environ, **STEADY}
        for how, label in (HANDS[0], HANDS[2]):
            other = count([PYTHON, "hand.py", "1000", how], folder, env)
            name = f"1,000 jobs: qrun vs hand script, {label} (instructions, millions; callgrind, threads at one)"
            rows.append(row(name, mine / 1e6, other / 1e6, "-"))
    return rows


def cli(argv: list[str]) -> int:
    if shutil.which("valgrind") is None:
        print("instructions.py: needs valgrind (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    against = None
    if argv[:1] == ["--against"]:
        against, argv = Path(argv[1]).resolve(), argv[2:]
        # the other checkout's bytecode, as `make bytecode` writes this one's
        subprocess.run([PYTHON, "-m", "compileall", "-q", "-f", str(against / "qrun")], check=True)
    counts = [int(a) for a in argv] or [10, 1000]
    with tempfile.TemporaryDirectory(prefix="qrun-instructions-") as tmp:
        folder = Path(tmp)
        (folder / "hand.py").write_text(HAND)
        print("| n jobs | qrun, M instructions | against | M instructions | ratio |\n|---:|---:|---|---:|---:|")
        for n in counts:
            (folder / f"n{n}.yaml").write_text(spec(n))
            mine = qrun_count(folder, n, ROOT)
            if against is not None:
                theirs = {f"qrun at {against.name}": qrun_count(folder, n, against)}
            else:
                env = {**os.environ, **STEADY}
                theirs = {
                    f"hand, {label}": count([PYTHON, "hand.py", str(n), how], folder, env) for how, label in HANDS
                }
            for label, other in theirs.items():
                print(f"| {n:,} | {mine / 1e6:,.1f} | {label} | {other / 1e6:,.1f} | {mine / other:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
