"""Validate and plan at scale: `qrun validate`, `qrun plan` (its default table) and `qrun plan --json` of a
10,000-job spec, this tree against an earlier revision (default: the last one before the spec became frozen
dataclasses), as medians of interleaved pairs.

    .venv/bin/python benchmarks/model_build.py [REV] [PAIRS]

Both contenders run as whole processes on the same interpreter and installed packages; only PYTHONPATH differs
(the earlier revision is checked out in a temporary git worktree and byte-compiled first, as `make` does here).
"""

from __future__ import annotations

import compileall
import subprocess
import sys
import tempfile
from pathlib import Path

from common import PYTHON, ROOT, interleaved, row
from scale import spec

BEFORE = "1025b76"  # main before the typed experiment model


def main(rev: str = BEFORE, pairs: int = 7, n: int = 10_000) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), rev], check=True)
        try:
            for where in (tree, ROOT):
                compileall.compile_dir(str(where / "qrun"), quiet=1)
            path = Path(tmp) / "many.yaml"
            path.write_text(spec(n))
            for label, args in (("validate", ["validate"]), ("plan", ["plan"]), ("plan --json", ["plan", "--json"])):
                now = ["env", f"PYTHONPATH={ROOT}", PYTHON, "-m", "qrun", *args, str(path)]
                then = ["env", f"PYTHONPATH={tree}", PYTHON, "-m", "qrun", *args, str(path)]
                interleaved(1, now, then, cwd=Path(tmp))  # warm the facts and transpile caches for both
                a, b, load = interleaved(pairs, now, then, cwd=Path(tmp))
                name = f"qrun {label}, {n:,} jobs: this tree vs {rev} (whole process, s; {pairs} pairs; {load})"
                rows.append(row(name, a["wall"], b["wall"], "<= 1.05"))
                rows.append(
                    row(
                        f"qrun {label}, {n:,} jobs: this tree vs {rev} (peak RSS, MiB)",
                        a["rss_mib"],
                        b["rss_mib"],
                        "<= 1.05",
                    )
                )
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)
    return rows


if __name__ == "__main__":
    for r in main(*(sys.argv[1:2] or [BEFORE]), *(int(a) for a in sys.argv[2:3])):
        print(f"| {r['benchmark']} | {r['qrun']:.3f} | {r['other']:.3f} | {r['ratio']:.3f} | {r['target']} |")
