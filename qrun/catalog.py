"""Where stored runs are: a run folder, a multirun group's points, or every run (points included) under a results root."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import multirun
from .errors import RunFolderError

METADATA = "metadata.json"


@dataclass(frozen=True)
class Found:
    """One run folder; for a multirun point, its group folder and the values swept to make it."""

    path: Path
    group: Path | None = None
    swept: dict[str, Any] = field(default_factory=dict)


def discover(target: Path) -> list[Found]:
    """The runs at `target`, oldest first (folder names start with their UTC start time); a group's points in the
    order of its multirun.json. A damaged multirun.json leaves that group out: `qrun show` of a point says why."""
    if (target / METADATA).is_file():
        group = target.parent if (target.parent / multirun.MANIFEST).is_file() else None
        return [_point(target, group)] if group is not None else [Found(target)]
    if (target / multirun.MANIFEST).is_file():
        return _group(target)
    found: list[Found] = []
    for folder in sorted(
        (p for p in target.glob("*/*") if p.is_dir() and not p.is_symlink()),
        key=lambda p: (p.name.removeprefix("multirun-"), p.parent.name),
    ):
        if (folder / multirun.MANIFEST).is_file():
            found.extend(_group(folder))
        elif (folder / METADATA).is_file():
            found.append(Found(folder))
    return found


def _group(folder: Path) -> list[Found]:
    try:
        rows = multirun.read_manifest(folder)
    except RunFolderError:
        return []
    return [Found(path, folder, dict(variables)) for variables, path in rows if (path / METADATA).is_file()]


def _point(path: Path, group: Path) -> Found:
    for found in _group(group):
        if found.path == path:
            return found
    return Found(path, group)
