"""What checking a long sweep's points file costs a reader (`qrun diff`, `qrun plot`, `run.points`): its lines read
and parsed as `store/records.stored_points` does, with and without the check against `POINTS_SCHEMA`.

Usage: python benchmarks/points_check.py [N]   (default 1,000,000 points). Interleaved pairs in one process, 5 of
each; prints the medians and min-max."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from qrun.store import runfolder
from qrun.store.records import stored_points


def main(count: int = 1_000_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp)
        (run / "jobs").mkdir()
        point = {"theta": 0.0, "observable": "zz", "value": 0.5, "stderr": 0.01, "exact": 0.49}
        lines = (json.dumps({**point, "theta": k * 1e-6}) + "\n" for k in range(count))
        (run / "jobs" / "s.points.jsonl").write_text("".join(lines))
        body = {"points_file": "s.points.jsonl"}
        check = runfolder.check_points
        with_check, without = [], []
        for _ in range(5):
            for out, checked in ((with_check, True), (without, False)):
                runfolder.check_points = check if checked else (lambda *a: None)
                start = time.perf_counter()
                stored_points(run, body)
                out.append(time.perf_counter() - start)
        runfolder.check_points = check
        for name, times in (("read and check", with_check), ("read only", without)):
            print(
                f"{name}, {count:,} points: median {statistics.median(times):.2f} s ({min(times):.2f}-{max(times):.2f})"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
