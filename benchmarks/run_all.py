"""Run every benchmark and write benchmarks/LATEST.md: ratios of qrun against the fastest hand-written scripts.

RESULTS.md is written by hand from these tables, with what each measurement says and the older ones kept as history;
this script never overwrites it."""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import engines_and_validate  # noqa: E402
import instructions  # noqa: E402
import scale  # noqa: E402
import scale_sweeps  # noqa: E402
import seed_and_vqe  # noqa: E402
import sweep_200  # noqa: E402
import transpile_100  # noqa: E402
import transpile_heavy  # noqa: E402

# about 10 minutes on 2 cores (instructions.py's counts under callgrind take one of them, where valgrind is installed);
# scale_sweeps.main((1_000_000,), (28,), 12_000) adds the 10^6 sweep, 28 qubits and Dask
BENCHMARKS = [
    seed_and_vqe,
    sweep_200,
    transpile_heavy,
    engines_and_validate,
    scale,
    transpile_100,
    scale_sweeps,
    instructions,
]


def machine() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("qrun", "qiskit", "qiskit-ibm-runtime", "qiskit-aer"))
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.system()} {cpu}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}; {versions}"
    )


def main() -> None:
    rows = [row for bench in BENCHMARKS for row in bench.main()]
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `make bench` on: {machine()}.",
        "",
        "Times in seconds, memory in MiB; ratio = qrun / other (below 1 means qrun is faster or smaller).",
        "",
        "| benchmark | qrun | other | ratio | target |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r['benchmark']} | {r['qrun']:.3f} | {r['other']:.3f} | {r['ratio']:.3f} | {r['target']} |" for r in rows
    ]
    text = "\n".join(lines) + "\n"
    (HERE / "LATEST.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
