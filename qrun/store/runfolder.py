"""A run folder read as untrusted input: paths confined to it, no symlinks, regular files only, sizes and types checked."""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from ..errors import RunFolderError
from ..model.jobfile import JobFile
from ..model.records import RunMetadata
from .folder_schema import JOB_SCHEMA, METADATA_SCHEMA, POINTS_SCHEMA

if TYPE_CHECKING:
    import jsonschema.protocols
    import jsonschema_rs
    from jsonschema.exceptions import ValidationError

# A 10,000-job run's metadata.json is about 8 MB and its journal 4 MB; a job file holds one job's results (a sweep's
# long point list goes to its own points file, read line by line).
MAX_METADATA_BYTES = 256 * 1024 * 1024
MAX_JOB_FILE_BYTES = 256 * 1024 * 1024
MAX_POINTS_LINE_BYTES = 1024 * 1024


def member(run_dir: Path, relative: object, what: str = "a file") -> Path:
    """run_dir/relative, where `relative` is a plain relative path inside the folder and no folder on the way (nor
    the file, if it exists) is a symlink. A path read from the folder's own files is refused otherwise."""
    if not isinstance(relative, str) or not relative or "\\" in relative or "\0" in relative:
        raise RunFolderError(f"{run_dir}: {what} is named {relative!r}, which is not a path inside the run folder")
    parts = relative.split("/")
    if relative.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise RunFolderError(f"{run_dir}: {what} is named {relative!r}, which is not a path inside the run folder")
    path = os.fspath(run_dir)  # strings on the way, one Path at the end: `qrun list` walks this 30,000 times
    for i, part in enumerate(parts):
        path = os.path.join(path, part)
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            break  # the rest does not exist yet: a writer creates it (as real folders and files)
        if stat.S_ISLNK(mode):
            raise RunFolderError(f"{path}: is a symlink; qrun follows no symlink inside a run folder")
        if i < len(parts) - 1 and not stat.S_ISDIR(mode):
            raise RunFolderError(f"{path}: is not a folder; the run folder is damaged")
    return run_dir / relative


def _open_regular(path: Path, flags: int, reading: bool) -> int:
    """A descriptor of the regular file at `path`, opened without following a symlink and without blocking (a FIFO in a
    file's place must not block the open; fstat then refuses it). A missing file raises FileNotFoundError; any other
    failure to read is a RunFolderError, while a failure to write stays an OSError (a full disk is exit 1)."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise RunFolderError(f"{path}: is a symlink; qrun follows no symlink inside a run folder") from None
        if reading and e.errno != errno.ENOENT:
            raise RunFolderError(f"{path}: cannot be read ({e.strerror})") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RunFolderError(f"{path}: is not a regular file; the run folder is damaged")
    return fd


def read_bytes(run_dir: Path, relative: object, limit: int, missing_ok: bool = False) -> bytes | None:
    """The bytes of a regular file inside the run folder, at most `limit` of them; None if missing and missing_ok."""
    path = member(run_dir, relative)
    try:
        fd = _open_regular(path, os.O_RDONLY, reading=True)
    except FileNotFoundError:
        if missing_ok:
            return None
        raise RunFolderError(f"{path}: is missing; the run folder is damaged") from None
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(fd).st_size
        if size > limit:
            raise RunFolderError(f"{path}: is larger than the {limit:,} bytes qrun reads; the run folder is damaged")
        data = f.read(size + 1)  # not limit + 1: read() sizes its buffer by the request
    if len(data) > limit:
        raise RunFolderError(f"{path}: is larger than the {limit:,} bytes qrun reads; the run folder is damaged")
    return data


def read_json(run_dir: Path, relative: object, limit: int, missing_ok: bool = False) -> Any:
    """A JSON file inside the run folder, parsed; RunFolderError naming the file if it is not valid JSON."""
    data = read_bytes(run_dir, relative, limit, missing_ok)
    return None if data is None else parse_json(run_dir / str(relative), data)


def parse_json(path: Path, data: bytes) -> Any:
    try:
        import orjson  # about twice as fast as json on job files; json still reads what orjson refuses (NaN)

        return orjson.loads(data)
    except ImportError:
        pass
    except ValueError:  # orjson.JSONDecodeError: judged again by json, which also takes NaN and Infinity
        pass
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise RunFolderError(f"{path}: is not valid JSON; the run folder is damaged") from None


def open_lines(run_dir: Path, relative: object) -> IO[bytes]:
    """A file of JSON lines inside the run folder, opened for reading as bytes (regular files only)."""
    path = member(run_dir, relative)
    try:
        return os.fdopen(_open_regular(path, os.O_RDONLY, reading=True), "rb")
    except FileNotFoundError as e:
        raise RunFolderError(f"{path}: cannot be read ({e.strerror})") from None


def open_append(path: Path) -> IO[bytes]:
    """A file inside a run folder, opened to append: created if missing, never through a symlink, regular only."""
    return os.fdopen(_open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, reading=False), "ab")


def truncate(path: Path, size: int) -> None:
    """Cut a regular file inside a run folder to `size` bytes, never through a symlink."""
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.ftruncate(fd, size)
    finally:
        os.close(fd)


def fill(path: Path, size: int) -> None:
    """A new regular file of `size` NUL bytes (the disk reserve): any old entry, a symlink included, is removed first,
    and the new one is created exclusively, so nothing outside the folder is ever written."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(b"\0" * size)


def held(run_dir: Path) -> bool:
    """Whether a qrun holds the run folder now: app.lock.RunLock's exclusive flock on the folder, which the OS drops
    when its process ends however it ends. Probed with a shared lock, let go at once (RunLock waits such a probe
    out); True where it cannot tell."""
    try:
        import fcntl  # POSIX only: elsewhere a run is as recorded
    except ImportError:
        return True
    try:
        fd = os.open(run_dir, os.O_RDONLY)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:  # held (BlockingIOError), or a file system without locks: as recorded
        return True
    finally:
        os.close(fd)  # and with it the shared lock, if it was taken
    return False


def status_now(run_dir: Path, meta: RunMetadata) -> str:
    """The run's status as the views show it: as recorded, but "died" for a run recorded as running that no qrun
    holds (killed with its supervisor, or its machine went down, before it could record its end), as a resume
    names that attempt. A multirun's point is held by the qrun that holds its group."""
    status = str(meta.get("status"))
    if status != "running" or held(run_dir):
        return status
    grouped = (run_dir.parent / "multirun.json").is_file()  # store.catalog.MANIFEST, which imports this module
    return "running" if grouped and held(run_dir.parent) else "died"


def died_note(run_dir: Path, meta: RunMetadata) -> str:
    """What the views say of a run that died: what that means, and the command that continues it."""
    spec = (meta.get("spec") or {}).get("file") or "SPEC"
    return (
        "died: recorded as running, but no qrun holds it: killed before it could record its end, or its machine went "
        f"down. qrun {spec} --resume {run_dir} continues it"
    )


def check_metadata(run_dir: Path, meta: object) -> RunMetadata:
    """metadata.json (replayed) as the readers expect it, or RunFolderError naming the first wrong value."""
    _check(run_dir / "metadata.json", meta, "metadata")
    return cast(RunMetadata, meta)  # METADATA_SCHEMA holds it to the shape RunMetadata types


def check_job_body(path: Path, body: object) -> JobFile:
    """A job file's body as the readers expect it, or RunFolderError naming the first wrong value."""
    _check(path, body, "job")
    return cast(JobFile, body)  # JOB_SCHEMA holds it to the shape JobFile types


def check_points(path: Path, points: Sequence[object], every: int = 1) -> None:
    """A points file's points (every `every`-th line of it) as the readers expect them, or RunFolderError naming
    the line and its first wrong value."""
    error = _first_error(points, "points")
    if error is not None:
        line, *within = error.absolute_path
        where = _where(within) or "the point"
        raise RunFolderError(
            f"{path}: line {int(line) * every + 1}: {where}: {_words(error)}; the run folder is damaged"
        )


def _check(path: Path, data: object, schema: str) -> None:
    error = _first_error(data, schema)
    if error is not None:
        where = _where(error.absolute_path) or "the document"
        raise RunFolderError(f"{path}: {where}: {_words(error)}; the run folder is damaged")


def _first_error(data: object, schema: str) -> ValidationError | None:
    # jsonschema-rs says "valid" at C speed (a 10,000-job metadata.json); python-jsonschema words the rare refusal
    if _fast(schema).is_valid(data):
        return None
    return next(_wording(schema).iter_errors(data), None)


def _where(path: Iterable[object]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _words(error: ValidationError) -> str:
    if error.validator == "pattern":  # a file name: say what it should be, not the regular expression
        return f"{_short(repr(error.instance))} is not a file name qrun writes there"
    return _short(error.message)


def _short(message: str) -> str:
    return message if len(message) <= 120 else message[:117] + "..."


_SCHEMAS = {"metadata": METADATA_SCHEMA, "job": JOB_SCHEMA, "points": POINTS_SCHEMA}  # folder_schema.py


@cache
def _fast(name: str) -> jsonschema_rs.Validator:
    import jsonschema_rs

    return jsonschema_rs.validator_for(_SCHEMAS[name])


@cache
def _wording(name: str) -> jsonschema.protocols.Validator:
    import jsonschema  # only a damaged folder needs its words

    return jsonschema.Draft202012Validator(_SCHEMAS[name])
