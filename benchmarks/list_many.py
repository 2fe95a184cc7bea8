"""`qrun list` and `qrun report` over many stored runs: a results root of N copies of one finished run.

Usage: python benchmarks/list_many.py [N]   (default 10,000). Prints the median and min-max of 5 whole-process
runs of each command, and its peak RSS; the copies live in a temporary folder."""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from common import QRUN, ROOT, timed


def main(count: int = 10_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "results"
        one = timed([*QRUN, str(ROOT / "experiments" / "bell.yaml"), "--out", str(root), "-q"])["stdout"].strip()
        first = Path(one)
        for k in range(count - 1):
            shutil.copytree(first, first.parent / f"{first.name[:16]}-{k:06d}")
        for name, cmd in (
            ("qrun list", [*QRUN, "list", str(root)]),
            ("qrun list --json", [*QRUN, "list", str(root), "--json"]),
        ):
            runs = [timed(cmd) for _ in range(5)]
            walls = [r["wall"] for r in runs]
            print(
                f"{name} of {count:,} runs: median {statistics.median(walls):.2f} s "
                f"({min(walls):.2f}-{max(walls):.2f}), peak RSS {max(r['rss_mib'] for r in runs):.0f} MiB"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
