"""Where stored runs are: a run folder, a multirun group's points, or every run (points included) under a results root."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RunFolderError
from . import runfolder

METADATA = "metadata.json"
MANIFEST = "multirun.json"  # a multirun group folder: its points and their folders


@dataclass(frozen=True)
class Found:
    """One run folder; for a multirun point, its group folder and the values swept to make it."""

    path: Path
    group: Path | None = None
    swept: dict[str, object] = field(default_factory=dict)


def discover(target: Path) -> list[Found]:
    """The runs at `target` (a results root, a spec's folder in it, a group or a run), oldest first (folder names
    start with their UTC start time); a group's points in the order of its multirun.json. A damaged multirun.json
    leaves that group out: `qrun show` of a point says why.
    os.path.isfile, not Path.is_file: a target longer than a file's name holds no runs, where Python 3.11's raised."""
    if os.path.isfile(target / METADATA):
        group = target.parent if os.path.isfile(target.parent / MANIFEST) else None
        return [_point(target, group)] if group is not None else [Found(target)]
    if os.path.isfile(target / MANIFEST):
        return _group(target)
    found: list[Found] = []
    # os.scandir and strings, not Path.glob: a root of 10,000 runs is walked in a tenth of the time
    children = _subfolders(os.fspath(target))
    if any(_holds_a_run(child.path) for child in children):  # a spec's own folder (results/vqe-h2): its runs
        folders = [(entry.name, "", entry.path) for entry in children]
    else:  # a results root: each spec's folder, then its runs
        folders = [(entry.name, spec.name, entry.path) for spec in children for entry in _subfolders(spec.path)]
    for _, _, path in sorted(folders, key=lambda f: (f[0].removeprefix("multirun-"), f[1])):
        if os.path.isfile(os.path.join(path, MANIFEST)):
            found.extend(_group(Path(path)))
        elif os.path.isfile(os.path.join(path, METADATA)):
            found.append(Found(Path(path)))
    return found


def _holds_a_run(path: str) -> bool:
    return os.path.isfile(os.path.join(path, MANIFEST)) or os.path.isfile(os.path.join(path, METADATA))


def _subfolders(path: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as entries:
            return [e for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:  # not a folder, or unreadable: nothing under it
        return []


def runs_of(root: Path, name: str) -> list[Path]:
    """Every run folder of spec `name` under `root`, a multirun's points included, oldest first."""
    folder = root / name
    out: list[Path] = []
    children = sorted(folder.iterdir(), key=lambda p: p.name.removeprefix("multirun-")) if folder.is_dir() else []
    for child in children:
        if (child / MANIFEST).is_file():
            out += [found.path for found in _group(child)]
        elif child.is_dir():
            out.append(child)
    return out


def _group(folder: Path) -> list[Found]:
    try:
        rows = read_manifest(folder)
    except RunFolderError:
        return []
    return [Found(path, folder, dict(variables)) for variables, path in rows if (path / METADATA).is_file()]


def _point(path: Path, group: Path) -> Found:
    for found in _group(group):
        if found.path == path:
            return found
    return Found(path, group)


def read_manifest(folder: Path) -> list[tuple[dict[str, object], Path]]:
    """A group folder's points and their run folders, from its multirun.json (untrusted: checked)."""
    data = runfolder.read_json(folder, MANIFEST, runfolder.MAX_METADATA_BYTES, missing_ok=True)
    if data is None:
        raise RunFolderError(f"{folder}: not a multirun group (no {MANIFEST})")
    points = data.get("points") if isinstance(data, dict) else None
    rows = []
    damaged = RunFolderError(f"{folder / MANIFEST}: not a list of points and their folders; the group is damaged")
    for entry in points if isinstance(points, list) else [None]:
        if not isinstance(entry, dict):
            raise damaged
        variables, name = entry.get("variables"), entry.get("run")
        if not isinstance(variables, dict) or not isinstance(name, str) or "/" in name or name in ("", ".", ".."):
            raise damaged
        rows.append((variables, runfolder.member(folder, name)))
    return rows
