"""A run folder's journal: events.jsonl, one event per line, and the metadata.json checkpoints it brings up to date.

RunWriter appends; read_metadata replays what came after the last checkpoint; record_stop and record_usage append
the end or the usage of a run whose writer is gone."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import orjson

from ..errors import RunFolderError
from ..model import durations
from ..model.records import Attempt, JobEntry, RunMetadata, SessionRecord, Usage
from . import runfolder
from .fsio import write_json

if TYPE_CHECKING:
    from typing import IO

JOURNAL = "events.jsonl"


def event_line(event: dict[str, object]) -> bytes:
    """A journal line: compact JSON by orjson (strict: a NaN is null), anything else as its str()."""
    return orjson.dumps(event, default=str, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE)


class Journal:
    """The writing end: appends events, flushes and fsyncs by policy, checkpoints metadata.json, and holds a little
    disk back so that a full disk still lets a run record its end."""

    # metadata.json is rewritten at most this often (the journal loses nothing in between). A service run fsyncs
    # every journal line: its job ids are what stop a resume from paying twice, even after the machine goes down.
    THROTTLE = 1.0
    # While a local run is busy recording (a batch's thousands of events), its journal is flushed at most this
    # often; it is always flushed before qrun waits for a result, before a checkpoint and at the end. A kill loses
    # at most those unflushed lines, which a resume recomputes (RESULTS.md has what a flush per event cost).
    LOCAL_FLUSH = 0.2
    # A checkpoint rewrites all of metadata.json, which grows with the job count. The next one comes no sooner than
    # this many times what the last one took, so checkpoints stay within a twentieth of a run however large it is;
    # and not before the journal has grown by as many bytes as that metadata.json, so a reader replays at most about
    # that much, and a run writes about as many bytes of checkpoints as of journal. Timing alone let a 10,000-job
    # run write its 8 MB metadata.json five times over, and the disk's writeback then slowed every later write.
    CHECKPOINT_SPACING = 20
    RESERVE = 256 * 1024  # bytes held back while a run writes

    def __init__(self, run_dir: Path, metadata: RunMetadata, durable: bool):
        self.run_dir, self.metadata, self.durable = run_dir, metadata, durable
        self._file: IO[bytes] | None = None
        self._flushed_at = 0.0
        self._saved_at = 0.0
        self._cost = 0.0
        self._saved_bytes = 0  # the size of metadata.json at the last checkpoint
        self._since = 0  # journal bytes written since then

    def log(self, event: dict[str, object], then_checkpoint: bool = True) -> None:
        """Append one event, then checkpoint metadata.json if the last checkpoint is old enough (not when the caller
        checkpoints next itself: a run's last event was followed by two full rewrites of metadata.json)."""
        if self._file is None:
            self._file = runfolder.open_append(runfolder.member(self.run_dir, JOURNAL))
        line = event_line(event)
        self._file.write(line)
        self._since += len(line)
        if self.durable:
            self.flush()
            os.fsync(self._file.fileno())
        elif time.monotonic() - self._flushed_at >= self.LOCAL_FLUSH:
            self.flush()
        self.metadata["journal"] += 1
        if (
            then_checkpoint
            and self._since >= self._saved_bytes
            and time.monotonic() - self._saved_at >= max(self.THROTTLE, self.CHECKPOINT_SPACING * self._cost)
        ):
            self.checkpoint()

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()
            self._flushed_at = time.monotonic()

    def checkpoint(self, last: bool = False) -> None:
        self.flush()  # every line the checkpoint counts is in the file before it says so
        began = time.monotonic()
        # as durable as the journal: a service run's survives the machine going down, a local run's is atomic only
        write_json(self.run_dir / "metadata.json", self.metadata, compact_fallback=last, durable=self.durable)
        self._saved_at = time.monotonic()
        self._cost = self._saved_at - began
        self._saved_bytes, self._since = os.stat(self.run_dir / "metadata.json").st_size, 0

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.release_reserve()

    def hold_reserve(self) -> None:
        try:
            runfolder.fill(runfolder.member(self.run_dir, ".reserve"), self.RESERVE)
        except OSError:
            pass  # already short of space: the run will say so at its first write

    def release_reserve(self) -> None:
        runfolder.member(self.run_dir, ".reserve").unlink(missing_ok=True)


def read_metadata(run_dir: Path) -> RunMetadata:
    """metadata.json brought up to date with the journal lines written after it, each value type-checked.

    The folder is untrusted input: RunFolderError (exit 2) names the file and the problem when it is not a qrun run
    folder, or is damaged."""
    if not os.path.isdir(run_dir):  # (Path.is_dir raised on a name too long for a file's)
        raise RunFolderError(f"{run_dir}: not a qrun run folder (not a folder)")
    raw = runfolder.read_bytes(run_dir, "metadata.json", runfolder.MAX_METADATA_BYTES, missing_ok=True)
    if raw is None:
        raise RunFolderError(f"{run_dir}: not a qrun run folder (no metadata.json)")
    meta = runfolder.check_metadata(run_dir, runfolder.parse_json(run_dir / "metadata.json", raw))
    data = runfolder.read_bytes(run_dir, JOURNAL, runfolder.MAX_METADATA_BYTES, missing_ok=True)
    lines = data.split(b"\n") if data else []
    seen = meta.get("journal") or 0
    for number, line in enumerate(lines[seen:], seen + 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            if number < len(lines) - (0 if data and not data.endswith(b"\n") else 1):
                raise RunFolderError(
                    f"{run_dir / JOURNAL}: line {number} is not JSON; the run folder is damaged"
                ) from None
            break  # the last line, cut short by a kill
        try:
            replay(meta, event)
        except (KeyError, TypeError, IndexError, ValueError, AttributeError):
            raise RunFolderError(
                f"{run_dir / JOURNAL}: line {number} is not an event qrun writes; the run folder is damaged"
            ) from None
        meta["journal"] = (meta.get("journal") or 0) + 1
    if meta.get("journal") == seen:
        return meta  # nothing replayed: checked above already (a list of 10,000 runs checked each twice)
    return runfolder.check_metadata(run_dir, meta)


def record_stop(run_dir: Path, error: str) -> None:
    """How a run ended when its process was killed in a job that would not return (see supervise): what
    RunWriter.finish would have written, from the journal's replay. A run that had ended is left as it is."""
    meta = read_metadata(run_dir)
    if meta["status"] != "running":
        return
    drop_partial_line(run_dir)  # the event below starts a line of its own
    ended = close_jobs(meta["jobs"], "interrupted")
    if meta["attempts"]:
        meta["attempts"][-1]["ended"] = durations.timestamp()
        meta["attempts"][-1]["status"] = "interrupted"
    meta["status"], meta["error"] = "interrupted", meta.get("error") or error
    event: dict[str, object] = {"set": ended, "top": {"status": meta["status"], "error": meta["error"]}}
    if meta["attempts"]:
        event["attempt"] = meta["attempts"][-1]
    with runfolder.open_append(runfolder.member(run_dir, JOURNAL)) as journal:
        journal.write(event_line(event))
    meta["journal"] = (meta.get("journal") or 0) + 1
    write_json(runfolder.member(run_dir, "metadata.json"), meta)
    runfolder.member(run_dir, ".reserve").unlink(missing_ok=True)


def record_usage(run_dir: Path, usage: Mapping[int, list[Usage]]) -> None:
    """Write usage the service reported later (`qrun status`) into a run that has ended: each job's whole usage
    list, by job index, as one journal event and a rewritten metadata.json. The caller holds the run's lock."""
    meta = read_metadata(run_dir)
    drop_partial_line(run_dir)
    changed = {str(index): {"usage": given} for index, given in usage.items()}
    for index, given in usage.items():
        meta["jobs"][index]["usage"] = given
    with runfolder.open_append(runfolder.member(run_dir, JOURNAL)) as journal:
        journal.write(event_line({"set": changed}))
    meta["journal"] = (meta.get("journal") or 0) + 1
    write_json(runfolder.member(run_dir, "metadata.json"), meta)


def close_jobs(jobs: list[JobEntry], status: str) -> dict[str, object]:
    """How a run's end leaves its jobs: a pending one `not run`, a running one `status`. Returns only the entries it
    changed, by index, for the journal (all of them was a 5 MB line at 10,000 jobs)."""
    ended: dict[str, object] = {}
    for entry in jobs:
        if entry["status"] in ("pending", "running"):
            entry["status"] = "not run" if entry["status"] == "pending" else status
            ended[str(entry["index"])] = {"status": entry["status"]}
    return ended


def drop_partial_line(run_dir: Path) -> None:
    """Cut a journal back to its last complete line (a kill or a full disk can leave half of one)."""
    data = runfolder.read_bytes(run_dir, JOURNAL, runfolder.MAX_METADATA_BYTES, missing_ok=True)
    if data is None:
        return
    end = data.rfind(b"\n") + 1
    if end < len(data):
        runfolder.truncate(run_dir / JOURNAL, end)


def keep_session(meta: RunMetadata, attempt: Attempt | None, session: SessionRecord) -> None:
    """The run's latest session record; a run cut into blocks (mode: auto) also keeps each block's own in its
    attempt's "sessions", in order, so every session it opened can be found, shown and closed."""
    meta["session"] = session
    if attempt is None:
        return
    attempt["session"] = session
    block = session.get("block")
    if isinstance(block, int):
        kept = attempt.setdefault("sessions", [])
        kept[:] = [s for s in kept if s.get("block") != block] + [session]
        kept.sort(key=lambda s: s.get("block", 0))


def replay(meta: RunMetadata, event: dict[str, Any]) -> None:
    """Apply one journal event to metadata (the inverse of RunWriter._log). An event is a journal line as parsed:
    JSON that qrun wrote, untyped until check_metadata has checked the metadata it makes."""
    for index, entry in (event.get("jobs") or {}).items():
        meta["jobs"][int(index)] = entry
    for index, fields in (event.get("set") or {}).items():
        meta["jobs"][int(index)].update(fields)
    if "new_attempt" in event:
        meta["attempts"].append(event["new_attempt"])
    if "attempt" in event and meta["attempts"]:
        meta["attempts"][-1] = event["attempt"]
    if "session" in event:
        keep_session(meta, meta["attempts"][-1] if meta["attempts"] else None, event["session"])
    submitted = event.get("submitted") or []
    for sub in [submitted] if isinstance(submitted, dict) else submitted:  # one job's, or a batch's list
        entry = meta["jobs"][sub["index"]]
        entry.setdefault("job_ids", []).append(sub["id"])
        entry["submitted"] = entry.get("submitted") or sub["at"]
        entry["batched"] = None if sub.get("pub") is None else {"id": sub["id"], "pub": sub["pub"]}
        if meta["attempts"]:
            meta["attempts"][-1]["submissions"].append({"job": sub["job"], "id": sub["id"]})
    meta.update(cast(RunMetadata, event.get("top") or {}))  # status and error; read_metadata checks the result
