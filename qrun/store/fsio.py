"""Files written atomically, and paths confined to a root: the one place qrun touches the disk for writing."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from ..errors import ResultsError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    Raw = Mapping[str, orjson.Fragment | list[orjson.Fragment]]  # write_json's values already JSON, by key

# How qrun writes JSON: numpy arrays and scalars natively; int dict keys (jobs by index) as strings, as json writes them
JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def atomic_write(path: Path, text: str, durable: bool = True) -> None:
    """Write `text` to `path` via a temp file and rename, so a reader never sees half a file."""
    atomic_write_bytes(path, text.encode("utf-8"), durable)


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write via a temp file in the same folder, fsync (unless not `durable`), rename. Atomic either way: a killed
    process leaves the old file or the new one; `durable` also survives the machine going down. The temp name is this process's own (O_EXCL),
    cheaper than mkstemp's random names, which showed up in the VQE profile."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:  # left by an earlier write of this pid that a signal cut short
        tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        # A failed write() names no file; say which one, so the one-line error can (e.g. a full disk).
        raise OSError(e.errno, e.strerror or str(e), str(path)) from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def json_items(items: Sequence[object]) -> bytes:
    """Items as the inside of a compact JSON list, as write_json writes them on one line: a list encoded a part at
    a time, as its items come (a list of orjson.Fragment of such parts is written as the one list)."""
    return orjson.dumps(items, default=plain, option=JSON_OPTIONS)[1:-1]


def json_lines(items: Sequence[object]) -> str:
    """Each item as one line of compact JSON, written by orjson as write_json's files are (a NaN as null): json's
    encoder, called once per point, was a tenth of a 100,000-point sweep's time."""
    return b"".join(orjson.dumps(item, default=plain, option=JSON_OPTIONS) + b"\n" for item in items).decode()


# Past this size (as compact JSON: a run of about 400 jobs), a file is for `qrun show`, jq or a script rather than an
# editor, and is written on one line: indentation made a large run's metadata.json, written at its start and its end,
# much larger, and its dump the run's peak memory (benchmarks/RESULTS.md, "Fewer imports, a kept schema verdict").
READABLE_BYTES = 256 * 1024


def write_json(
    path: Path, data: object, compact_fallback: bool = False, durable: bool = True, raw: Raw | None = None
) -> None:
    """JSON indented by two spaces while it is small enough to read by eye (READABLE_BYTES as compact JSON), on one
    line past that, atomically. With compact_fallback, a write the disk has no room for (the temp file doubles the
    space needed) is retried as compact JSON over the old file's own blocks: used only to record how a run ended.
    `raw` (data a dict) holds values already JSON (orjson.Fragment, or a list of them), written as they are: in data's
    place for a key data has too, after data's keys for the rest. One dump writes them all, so a large value is not
    copied again to splice it in.

    orjson writes it: json's indented dump runs in Python, and was a third of a 1,000-job run's bookkeeping. As
    strict JSON, a NaN or an infinity is written as null (json would write NaN, which no other reader accepts)."""
    options = JSON_OPTIONS
    if raw and isinstance(data, dict):
        data = {**data, **raw}  # a key data has keeps its place
    # orjson's own newline: `text += b"\n"` copied the whole text (8 MB of metadata at 10,000 jobs)
    compact = orjson.dumps(data, default=plain, option=options | orjson.OPT_APPEND_NEWLINE)
    if len(compact) > READABLE_BYTES:
        text = compact
    else:
        text = orjson.dumps(data, default=plain, option=options | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    try:
        atomic_write_bytes(path, text, durable)
    except OSError as e:
        if not compact_fallback or e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        overwrite_in_place(path, compact.decode())


def overwrite_in_place(path: Path, text: str) -> None:
    """Rewrite a file through its existing blocks, when the new text fits in what the file already holds."""
    data = text.encode("utf-8")
    if len(data) > path.stat().st_blocks * 512:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    with open(path, "r+b") as f:
        f.write(data)
        f.truncate()
        f.flush()
        os.fsync(f.fileno())


def plain(value: object) -> object:
    """What orjson cannot write itself, as JSON: numpy values as Python ones, paths as text; TypeError otherwise."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def inside(root: Path, *parts: str) -> Path:
    """root/parts..., refusing anything that would land outside root."""
    root = root.resolve()
    target = root.joinpath(*parts).resolve()
    if target != root and root not in target.parents:
        raise ResultsError(f"refusing to write outside the results root {root}: {target}")
    return target


class Appender:
    """A file written piece by piece that appears whole or not at all: appended to a hidden temp file (a resume
    sweeps up `.*.tmp` left by a kill), renamed onto `path` by commit()."""

    def __init__(self, path: Path, durable: bool = True):
        self.path = path
        self.durable = durable
        self.tmp = path.with_name(f".{path.name}.stream.tmp")
        self.file = open(self.tmp, "w", encoding="utf-8")  # noqa: SIM115 (kept open across chunks)

    def write(self, text: str) -> None:
        try:
            self.file.write(text)
        except OSError as e:
            raise OSError(e.errno, e.strerror or str(e), str(self.path)) from e

    def commit(self) -> None:
        try:
            self.file.flush()
            if self.durable:
                os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self.tmp, self.path)
        except OSError as e:
            raise OSError(e.errno, e.strerror or str(e), str(self.path)) from e

    def discard(self) -> None:
        self.file.close()
        self.tmp.unlink(missing_ok=True)


def confinement_root(base_dir: Path) -> Path:
    """Where a spec may read files from: the enclosing git repository, else the spec's own folder."""
    base = base_dir.resolve()
    for folder in (base, *base.parents):
        if (folder / ".git").exists():
            return folder
    return base
