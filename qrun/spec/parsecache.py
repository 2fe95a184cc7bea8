"""Specs' parsed values by the hash of their text, so a spec goes through YAML once, not per command.

YAML is the slow part of reading a big spec: libyaml hands PyYAML an event object per key and value, where a JSON
parser reads the same values several times faster (benchmarks/RESULTS.md has the figures); and a small spec read
back from here needs no PyYAML at all, whose import costs more than its parse. `qrun validate`, `qrun plan`, the
run and every view of it read the same text again, so the values of a plain parse (marks.plain_yaml) are kept as
JSON in the transpile cache's folder, keyed by the text's SHA-256 and the installed PyYAML (source.yaml_identity),
which resolved its scalars.

Only values JSON gives back exactly are stored (string keys; no date, NaN or infinity), written and read by orjson.
An entry that cannot be read is a miss, and the text is parsed again. The folder is the user's own, as the transpile
cache is: what is in it is trusted as theirs, and the values still go through the schema and every check after.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

import orjson

from .. import collector
from ..errors import RunFolderError
from ..planning.cache import cache_dir
from ..store import runfolder
from ..store.fsio import atomic_write_bytes
from .source import MAX_SPEC_BYTES, yaml_identity

if TYPE_CHECKING:
    from pathlib import Path

    from ..model.raw import Yaml

FORMAT = 2  # bump when what marks.plain_yaml makes of a text changes: older entries are then never read
KEEP = 32  # entries kept; the least recently used go first (a big template's multirun points are a text each)
MISS = object()


def folder() -> Path:
    return cache_dir() / "specs"


def _path(text: bytes) -> Path:
    digest = hashlib.sha256(f"{FORMAT}\0{yaml_identity()}\0".encode())
    digest.update(text)
    return folder() / f"{digest.hexdigest()}.json"


def lookup(text: bytes) -> Yaml | object:
    """The values stored for `text`, or MISS: none stored, or unreadable."""
    return load_entry(_path(text))


def load_entry(path: Path) -> object:
    """An entry's JSON values (this cache's, or another's that shares its store), or MISS: none, or unreadable."""
    data = read_entry(path)
    if data is None:
        return MISS
    try:
        with collector.paused():  # one object per value and none freed
            return orjson.loads(data)
    except (ValueError, RecursionError):  # orjson's JSONDecodeError is a ValueError
        return MISS


def keep(text: bytes, values: Yaml) -> None:
    """Store `values`, which marks.plain_yaml made from `text` and found JSON keeps exactly (string keys; no date,
    NaN or infinity); a cache that cannot be written is only slower, never an error."""
    try:
        data = orjson.dumps(values)  # refuses what JSON cannot hold (an integer past 64 bits) with a TypeError
    except TypeError:
        return
    write_entry(_path(text), data)


def read_entry(path: Path) -> bytes | None:
    """An entry's bytes (at most 2 * MAX_SPEC_BYTES), marked as used; None when missing or unreadable."""
    try:
        data = runfolder.read_bytes(path.parent, path.name, 2 * MAX_SPEC_BYTES, missing_ok=True)
    except (RunFolderError, OSError):
        return None
    if data is not None:
        try:
            os.utime(path)  # used: the last to be evicted
        except OSError:
            pass
    return data


def write_entry(path: Path, data: bytes) -> None:
    """Write an entry atomically and keep the KEEP most recently used of its folder; failing to is only slower."""
    try:
        atomic_write_bytes(path, data, durable=False)
        entries = list(path.parent.glob("*.json"))
        if len(entries) > KEEP:  # only then is each entry's time read
            for old in sorted(entries, key=lambda p: p.stat().st_mtime)[:-KEEP]:
                old.unlink(missing_ok=True)
    except OSError:
        pass
