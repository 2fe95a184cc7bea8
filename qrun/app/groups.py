"""A multirun group as a whole: find it, and resume every point that did not finish, each in its own folder."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import UsageError
from ..running.clock import SYSTEM, Clock
from ..store.catalog import MANIFEST, read_manifest
from ..store.journal import read_metadata
from . import multirun
from .lock import RunLock
from .pipeline import run


def group_of(folder: Path) -> Path | None:
    """The group folder `folder` is (it holds multirun.json) or is a point of; None for a plain run folder.
    os.path.isfile, not Path.is_file: a name longer than a file's is no group, where Python 3.11's raised."""
    if os.path.isfile(folder / MANIFEST):
        return folder
    if os.path.isfile(folder.parent / MANIFEST):
        return folder.parent
    return None


def point_names(group: Path) -> list[str]:
    """The folder names of a group's points, in its manifest's order."""
    return [folder.name for _, folder in read_manifest(group)]


def latest_group(out: Path, name: str) -> Path | None:
    """The newest multirun group of spec `name` under `out` (group folders start with multirun-<UTC time>)."""
    folder = out / name
    found = sorted(p for p in folder.glob("multirun-*") if (p / MANIFEST).is_file()) if folder.is_dir() else []
    return found[-1] if found else None


def resume(
    spec: str | Path,
    target: Path,
    out: str | Path,
    grid: dict[str, list[object]] | None,
    progress: str = "auto",
    estimates: str = "learned",
    use_cache: bool = True,
    clock: Clock = SYSTEM,
) -> tuple[Path, list[Path]]:
    """Resume the group `target` (every unfinished point), or the one point `target` names; then rewrite the group's
    table. Each point resumes in a session of its own, with the variables and overrides it was made with. Returns
    the group folder and the points resumed."""
    group = group_of(target)
    if group is None:
        raise UsageError(f"--resume {target}: not a multirun group or one of its points (no multirun.json)")
    lock = RunLock(group)  # as the multirun held it: not while it, or another resume of it, runs
    try:
        return _resume(spec, target, group, out, grid, progress, estimates, use_cache, clock)
    finally:
        lock.release()


def _resume(
    spec: str | Path,
    target: Path,
    group: Path,
    out: str | Path,
    grid: dict[str, list[object]] | None,
    progress: str,
    estimates: str,
    use_cache: bool,
    clock: Clock,
) -> tuple[Path, list[Path]]:
    rows = read_manifest(group)
    if grid:
        wanted = sorted(multirun.label(p) for p in multirun.points(grid))
        if wanted != sorted(multirun.label(p) for p, _ in rows):
            raise UsageError(
                f"--resume {target}: the multirun's points are not the group's; resume with the values it was "
                "started with, or without -m"
            )
    same = target.resolve()
    todo = [d for _, d in rows] if target == group else [d for _, d in rows if d.resolve() == same]
    if not todo:
        raise UsageError(f"--resume {target}: not one of the points of {group}")
    resumed = []
    index = {d.resolve(): k for k, (_, d) in enumerate(rows)}
    for point_dir in todo:
        if read_metadata(point_dir)["status"] == "completed":
            continue
        # the point's place in the group picks its seeds: resumed alone, it repeats what the group would have drawn
        run(
            spec,
            out,
            progress=progress,
            estimates=estimates,
            resume=point_dir,
            use_cache=use_cache,
            point=index[point_dir.resolve()],
            clock=clock,
        )
        resumed.append(point_dir)
    multirun.table(group, rows)
    return group, resumed
