"""The views of a results root holding two 10,000-job runs of the `scale.py` spec: show, list, diff and report.

Usage: python benchmarks/views_big.py [JOBS]   (default 10,000). Prints the median and min-max of 5 whole-process
runs of each command, and its peak RSS; the runs live in a temporary folder."""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import scale
from common import QRUN, timed


def main(jobs: int = 10_000, repeats: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "many.yaml").write_text(scale.spec(jobs))
        a, b = (timed([*QRUN, "many.yaml", "--out", "results", "-q"], folder)["stdout"].strip() for _ in range(2))
        for name, args in (
            ("qrun show A", ["show", a]),
            ("qrun list", ["list", "results"]),
            ("qrun diff A B", ["diff", a, b]),
            ("qrun report", ["report", "results", "--html", "report.html"]),
            ("qrun report --compare A B", ["report", "results", "--html", "report.html", "--compare", a, b]),
        ):
            runs = [timed([*QRUN, *args], folder) for _ in range(repeats)]
            walls = [r["wall"] for r in runs]
            print(
                f"{name}, two {jobs:,}-job runs: median {statistics.median(walls):.2f} s "
                f"({min(walls):.2f}-{max(walls):.2f}), peak RSS {max(r['rss_mib'] for r in runs):.0f} MiB",
                flush=True,
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
