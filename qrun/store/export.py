"""Each finished job's result in the runtime's own JSON encoding (RuntimeEncoder's), one file per job, on request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import records, runfolder
from .fsio import atomic_write, inside
from .reader import load

if TYPE_CHECKING:
    from pathlib import Path


def runtime_json(run_dir: Path, out: Path | None = None) -> tuple[Path, list[Path]]:
    """Write every finished job's PrimitiveResult as `NN-name.json` under `out` (default: RUN/runtime-json), in the
    encoding qiskit-ibm-runtime's RuntimeDecoder reads; a batch file's jobs included. A swept job that streamed its
    points keeps no single result and is skipped. Returns the folder and the files written."""
    run = load(run_dir)
    folder = out if out is not None else runfolder.member(run.path, "runtime-json")
    written = []
    for entry in run.metadata["jobs"]:
        body = run.jobs.get(entry["name"])
        if body is None or "points_file" in body:
            continue
        target = inside(folder, f"{entry['index']:02d}-{entry['name']}.json")
        atomic_write(target, records.runtime_json_text(run.result(entry["name"])), durable=False)
        written.append(target)
    return folder, written
