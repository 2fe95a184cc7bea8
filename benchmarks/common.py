"""Shared helpers for the benchmarks: run a command as its own process, time it, read its peak RSS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
QRUN = [PYTHON, "-m", "qrun"]


def timed(cmd: list[str], cwd: Path | None = None, expect: int = 0) -> dict:
    """Wall time and peak RSS (MiB) of one child process, plus the JSON it printed last, if any; the child must exit
    with `expect` (2: a spec refused, as a benchmark of the error path wants)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
        child = subprocess.Popen(
            cmd, cwd=cwd, stdout=out_f, stderr=err_f, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}
        )
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not the sum over all children
        wall = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        out_f.seek(0)
        err_f.seek(0)
        stdout, stderr = out_f.read(), err_f.read()
    if child.returncode != expect:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({child.returncode}):\n{stderr[-2000:]}")
    # rusage of a reaped child includes its own reaped children (Linux): qrun's supervised run and Aer's threads
    out = {"wall": wall, "rss_mib": usage.ru_maxrss / 1024, "cpu": usage.ru_utime + usage.ru_stime, "stdout": stdout}
    last = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    if last.startswith("{"):
        out.update(json.loads(last))
    return out


def best_of(n: int, cmd: list[str], cwd: Path | None = None) -> dict:
    """The fastest of n runs (the least disturbed by the machine), by wall time."""
    return min((timed(cmd, cwd) for _ in range(n)), key=lambda r: r["wall"])


def run_dir_of(stdout: str) -> Path:
    return Path(stdout.strip().splitlines()[-1])


def row(name: str, qrun: float, other: float, target: str) -> dict:
    return {
        "benchmark": name,
        "qrun": qrun,
        "other": other,
        "ratio": qrun / other if other else float("inf"),
        "target": target,
    }


def whole_process_rows(label: str, qrun: dict, hand: dict) -> list[dict]:
    """The two whole-process comparisons every benchmark reports: wall time and peak RSS."""
    return [
        row(f"{label}: qrun vs hand script (whole process, s)", qrun["wall"], hand["wall"], "<= 1.10"),
        row(f"{label}: qrun vs hand script (peak RSS, MiB)", qrun["rss_mib"], hand["rss_mib"], "<= 1.10"),
    ]


def interleaved(
    pairs: int,
    a: list[str],
    b: list[str],
    cwd: Path | None = None,
    read_a: Callable[[dict], dict] | None = None,
    paired: tuple[str, ...] = (),
) -> tuple[dict, dict, str]:
    """Medians of `pairs` interleaved A/B runs (A, B, A, B, ...), and the load average while they ran: a peer
    can see that neither contender had the quieter machine. A's dict also holds the A/B ratio of each pair's wall
    times as median, min and max ("ratio", "ratio_min", "ratio_max"), and so for each `paired` number both sides
    report ("KEY_ratio", "KEY_ratio_min", "KEY_ratio_max"). `read_a(run)`: numbers of A's that its output does not
    print, read from what it wrote (qrun's metadata), added to each A run."""
    import statistics

    runs_a, runs_b = [], []
    load_before = os.getloadavg()[0]
    for _ in range(pairs):
        run_a = timed(a, cwd)
        if read_a is not None:
            run_a.update(read_a(run_a))
        runs_a.append(run_a)
        runs_b.append(timed(b, cwd))
    load = f"load {load_before:.1f} -> {os.getloadavg()[0]:.1f}"

    def median(runs: list[dict]) -> dict:
        out = {k: statistics.median(r[k] for r in runs) for k in ("wall", "rss_mib")}
        extra = [k for k in runs[0] if k not in ("wall", "rss_mib", "stdout") and isinstance(runs[0][k], (int, float))]
        out.update({k: statistics.median(r[k] for r in runs) for k in extra})
        return out

    ratios = [x["wall"] / y["wall"] for x, y in zip(runs_a, runs_b)]
    first = median(runs_a)
    first.update(ratio=statistics.median(ratios), ratio_min=min(ratios), ratio_max=max(ratios))
    for key in paired:
        each = [x[key] / y[key] for x, y in zip(runs_a, runs_b)]
        first.update(
            {f"{key}_ratio": statistics.median(each), f"{key}_ratio_min": min(each), f"{key}_ratio_max": max(each)}
        )
    return first, median(runs_b), load


def pair_rows(label: str, pairs: int, a: dict, b: dict, load: str, target: str = "<= 1.10") -> list[dict]:
    """The wall-time row (the median of the pairs' ratios, with their range), the CPU-time row (user and system,
    every thread and child process) and the peak-RSS row of one comparison."""
    spread = f"pair ratios {a['ratio_min']:.2f}-{a['ratio_max']:.2f}" if pairs > 1 else "one pair"
    wall = row(f"{label} (whole process, s; {pairs} pairs, {spread}; {load})", a["wall"], b["wall"], target)
    wall["ratio"] = a["ratio"]  # the median of the pairs' ratios, not the ratio of the medians
    return [
        wall,
        row(f"{label} (CPU time, user+sys, s)", a["cpu"], b["cpu"], target),
        row(f"{label} (peak RSS, MiB)", a["rss_mib"], b["rss_mib"], "<= 1.10"),
    ]
