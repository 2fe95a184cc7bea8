"""The run folder: layout, metadata, per-job result files written atomically, and load() to read a run back."""

from __future__ import annotations

import errno
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..app import supervise
from ..errors import ResultsError, RunFolderError, SpecError
from ..model import durations
from ..model.outcomes import FINISHED, MinimizeOutcome, SweepOutcome
from ..planning import sweeps
from ..spec import MAX_SPEC_BYTES, safe_yaml
from . import provenance, records, runfolder
from .fsio import Appender, atomic_write, inside, write_json

if TYPE_CHECKING:  # kept off the import path: `qrun validate` reads history without numpy or qiskit
    from ..model.plan import JobPlan, Plan
    from ..spec import Spec


METADATA_FORMAT = 1


def new_run_dir(root: Path, name: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    run = inside(root, name, f"{stamp}-{secrets.token_hex(3)}")
    (run / "jobs").mkdir(parents=True, exist_ok=False)
    return run


# One encoder for points lines: json.dumps with options builds a new encoder per call.
_LINE = json.JSONEncoder(separators=(",", ":"))


def _event_line(event: dict[str, Any]) -> bytes:
    """A journal line: compact JSON by orjson (strict: a NaN is null), anything else as its str()."""
    import orjson  # deferred, as in fsio: only runs (qrun[run]) journal; validate never gets here

    return orjson.dumps(event, default=str, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE)


@dataclass
class RunWriter:
    """Receives the runner's events and keeps the run folder current: each event is one line appended to the run's
    journal (events.jsonl), and metadata.json is rewritten at most once a THROTTLE (or CHECKPOINT_SPACING times its
    own cost) and at the end, with the number of journal lines it includes. Readers replay the lines after that
    (read_metadata), so the cost of an event does not grow with the run: 1,000 jobs no longer rewrite a growing file
    4,000 times."""

    root: Path
    spec: Spec
    plan: Plan
    run_dir: Path | None = None

    # metadata.json and minimize traces are rewritten at most this often (a crash loses at most this much of a
    # trace; the journal loses nothing). A service run fsyncs every journal line: its job ids are what stop a
    # resume from paying twice, even after the machine itself goes down.
    THROTTLE = 1.0
    # While a local run is busy recording (a batch's thousands of events), its journal is flushed at most this
    # often; it is always flushed before qrun waits for a result, before a checkpoint and at the end. A flush per
    # event was a sixth of a 10,000-job run. A kill loses at most those unflushed lines, which a resume recomputes.
    LOCAL_FLUSH = 0.2
    # A checkpoint rewrites all of metadata.json: 8 MB at 10,000 jobs, more with each job. The next one comes no
    # sooner than this many times what the last one took, so checkpoints stay within a twentieth of a run however
    # large it is; at a fixed second apart, their cost grew with the square of the job count. The journal holds
    # every event in between.
    CHECKPOINT_SPACING = 20

    def __post_init__(self) -> None:
        self.metadata: dict[str, Any] = {}
        self._saved_at = 0.0
        self._checkpoint_cost = 0.0
        self._trace: tuple[Any, list] | None = None
        self._traced_at = 0.0
        self._journal: Any = None
        self._flushed_at = 0.0
        self._points: dict[str, list[dict[str, Any]]] = {}  # a short sweep's points, until its job is done
        self._streams: dict[str, tuple[Appender, Appender]] = {}  # a long sweep's points file and CSV, being written

    def open(self, run_dir: Path | None = None) -> Path:
        """Create the run folder (a new one under root, or `run_dir`, e.g. a multirun point) and its metadata."""
        if run_dir is None:
            self.run_dir = new_run_dir(self.root, self.plan.name)
        else:
            (run_dir / "jobs").mkdir(parents=True, exist_ok=False)
            self.run_dir = run_dir
        supervise.announce(self.run_dir)
        atomic_write(self.run_dir / "spec.yaml", self.spec.resolved_text())
        self.metadata = {
            "format": METADATA_FORMAT,
            "name": self.plan.name,
            "status": "running",
            "error": None,
            "spec": {
                "file": self.spec.file,
                "sha256": provenance.sha256(self.spec.text),
                "variables": self.spec.variables,
                "overrides": self.spec.overrides,
                "git": provenance.git_state(self.spec.path),
                **({"python": self._python()} if self.spec.data.get("allow_python") else {}),
            },
            "session": None,
            # the service's dry-run estimates beside qrun's (each job's "estimate"), or why there are none
            "usage_estimates": None if self.plan.service_estimates is None else self.plan.service_estimates.record(),
            "attempts": [],
            "jobs": [self._fresh_entry(j) for j in self.plan.jobs],
            "versions": provenance.versions(),
            "journal": 0,
        }
        self._checkpoint()
        self._hold_reserve()
        self._new_attempt()
        return self.run_dir

    def _python(self) -> dict[str, Any]:
        """The Python sources' files, content hashes and git state: a later run can tell the code changed."""
        from ..sources import pysource

        return pysource.of_spec(self.spec.data, self.spec.base_dir)

    def _fresh_entry(self, j: JobPlan) -> dict[str, Any]:
        return {
            "index": j.index,
            "name": j.name,
            "primitive": j.primitive,
            "status": "pending",
            "engine": j.engine,
            "content_hash": j.content_hash,
            "estimate_source": j.estimate_source,
            "units": None,
            "job_ids": [],
            "started": None,
            "submitted": None,
            "finished": None,
            "attempt": None,
            "estimate": j.estimate,
            "actual": None,
            "error": None,
            "warnings": [],
            "file": f"jobs/{j.file_stem}.json",
            # On a fake device qrun simulates only the physical qubits the job uses, with their own noise.
            **({"simulated_qubits": j.simulated_qubits} if j.simulated_qubits is not None else {}),
        }

    def _new_attempt(self) -> None:
        self.metadata["attempts"].append(
            {
                "attempt": len(self.metadata["attempts"]) + 1,
                "pid": os.getpid(),  # names the holder when a second qrun is refused this folder
                "started": durations.timestamp(),
                "ended": None,
                "status": "running",
                "session": None,
                "submissions": [],
            }
        )
        self._log({"new_attempt": self._attempt})

    @property
    def _attempt(self) -> dict[str, Any]:
        return self.metadata["attempts"][-1]

    def reopen(self, run_dir: Path) -> dict[str, Any]:
        """Continue an interrupted run in its own folder: keep finished jobs, reset the rest, start a new attempt.

        Returns what the runner needs: {"finished": {name: optimum or None}, "submissions": count so far}.
        """
        self.run_dir = run_dir
        self.metadata = read_metadata(run_dir)
        supervise.announce(run_dir)
        fresh = [self._fresh_entry(j) for j in self.plan.jobs]
        if [(e["name"], e["file"]) for e in self.metadata["jobs"]] != [(e["name"], e["file"]) for e in fresh]:
            raise RunFolderError(
                f"{run_dir / 'metadata.json'}: its jobs are not the spec's jobs; the run folder is damaged"
            )
        # Every path written or removed below is the plan's own, checked to stay inside with no symlink on the way.
        runfolder.member(run_dir, "jobs/x")
        _drop_partial_line(run_dir)  # so this attempt's lines start on a line of their own
        self._hold_reserve()
        for folder in (run_dir, run_dir / "jobs"):  # temp files of writes a kill cut short; never renamed, never read
            for stale in folder.glob(".*.tmp"):
                stale.unlink(missing_ok=True)
        finished: dict[str, Any] = {}
        submissions = 0
        for j, entry in zip(self.plan.jobs, self.metadata["jobs"]):
            body = read_job_body(run_dir, entry)
            if entry["status"] in FINISHED and body is not None and body.get("status") in FINISHED:
                finished[j.name] = (body.get("optimum") or {}).get("parameters")
                submissions += len(entry.get("job_ids") or [])
            else:
                for name in (entry["file"], f"jobs/{j.file_stem}.csv", f"jobs/{j.file_stem}.points.jsonl"):
                    runfolder.member(run_dir, name).unlink(missing_ok=True)
                entry.update(
                    {k: v for k, v in self._fresh_entry(j).items() if k not in ("estimate", "estimate_source")}
                )
        for attempt in self.metadata["attempts"]:
            if attempt["status"] == "running":  # its process was killed before it could say how it ended
                attempt["status"] = "died"
        self.metadata.update(status="running", error=None)
        self._checkpoint()  # the reset entries and attempts, in full
        self._new_attempt()
        return {"finished": finished, "submissions": submissions}

    def _log(self, event: dict[str, Any]) -> None:
        """Append one event to the journal, then checkpoint metadata.json if the last one is THROTTLE old."""
        assert self.run_dir is not None
        if self._journal is None:
            self._journal = runfolder.open_append(runfolder.member(self.run_dir, JOURNAL))
        self._journal.write(_event_line(event))
        if self.plan.backend_kind == "service":
            self._flush_journal()
            os.fsync(self._journal.fileno())
        elif time.monotonic() - self._flushed_at >= self.LOCAL_FLUSH:
            self._flush_journal()
        self.metadata["journal"] += 1
        if time.monotonic() - self._saved_at >= max(self.THROTTLE, self.CHECKPOINT_SPACING * self._checkpoint_cost):
            self._checkpoint()

    def waiting(self) -> None:
        """The runner waits for a result next: `qrun status` and a kill must see everything recorded so far."""
        self._flush_journal()

    def _flush_journal(self) -> None:
        if self._journal is not None:
            self._journal.flush()
            self._flushed_at = time.monotonic()

    def _checkpoint(self, last: bool = False) -> None:
        assert self.run_dir is not None
        self._flush_journal()  # every line the checkpoint counts is in the file before it says so
        began = time.monotonic()
        write_json(self.run_dir / "metadata.json", self.metadata, compact_fallback=last)
        self._saved_at = time.monotonic()
        self._checkpoint_cost = self._saved_at - began

    @property
    def _durable(self) -> bool:
        """Service results cost QPU time: they are fsynced. Local ones are atomic and can be recomputed."""
        return self.plan.backend_kind == "service"

    def _log_jobs(self, *entries: dict[str, Any]) -> None:
        self._log({"jobs": {str(e["index"]): e for e in entries}})

    def _set(self, job: JobPlan, **fields: Any) -> None:
        """Change some of a job's metadata fields, and journal only those: a whole entry on each of a job's four
        events was 2 KB of journal per job, 22 MB for 10,000 jobs, and a third of their bookkeeping."""
        self._job(job).update(fields)
        self._log({"set": {str(job.index): fields}})

    def _job(self, job: JobPlan) -> dict[str, Any]:
        return self.metadata["jobs"][job.index]

    def session_opened(self, session: dict[str, Any]) -> None:
        keep_session(self.metadata, self._attempt, session)
        self._log({"session": session})

    def session_started(self, session: dict[str, Any]) -> None:
        """The service named the session, or its first job started: the record gains its id, start and deadline."""
        self.session_opened(session)

    def session_closed(self, session: dict[str, Any]) -> None:
        keep_session(self.metadata, self._attempt, session)
        self._log({"session": session})

    def job_started(self, job: JobPlan) -> None:
        self._set(job, status="running", started=durations.timestamp(), attempt=self._attempt["attempt"])
        self._started = datetime.now(UTC)

    def jobs_submitted(self, jobs: list[JobPlan], job_id: str, pubs: list[int | None]) -> None:
        """Runtime job `job_id` went out for `jobs`, job k as PUB pubs[k] (None: the runtime job is that job's own).
        One journal line for them all: a batch of 250 jobs is one submission."""
        at = durations.timestamp()
        events = []
        for job, pub in zip(jobs, pubs, strict=True):
            entry = self._job(job)
            entry["job_ids"].append(job_id)
            entry["submitted"] = entry["submitted"] or at
            entry["batched"] = None if pub is None else {"id": job_id, "pub": pub}
            self._attempt["submissions"].append({"job": job.name, "id": job_id})
            event = {"index": job.index, "id": job_id, "at": entry["submitted"], "job": job.name}
            events.append(event if pub is None else {**event, "pub": pub})
        self._log({"submitted": events[0] if len(events) == 1 else events})

    def job_progress(self, job: JobPlan, trace: list[dict[str, Any]]) -> None:
        # Rewritten (atomically) while the job runs, so a crash keeps the trace so far.
        self._trace = (job, trace)
        if time.monotonic() - self._traced_at >= self.THROTTLE:
            self._flush_trace()

    def _flush_trace(self) -> None:
        if self._trace is None:
            return
        job, trace = self._trace
        partial = {**self._header(job), "status": "running", **records.minimize_settings(job), "trace": trace}
        write_json(self.run_dir / self._job(job)["file"], partial, durable=self._durable)
        self._traced_at = time.monotonic()
        self._trace = None

    def sweep_chunk(
        self, job: JobPlan, start: int, points: list[dict[str, Any]], groups: list[Any], results: list[Any]
    ) -> None:
        """A chunk of a sweep has its results: a short sweep keeps them for its JSON file; a long one appends them
        to its points file (JSON lines) and CSV, so memory holds one chunk whatever the sweep's length."""
        assert self.run_dir is not None and job.points is not None
        records.fill_points(job, points, groups, results)
        if len(job.points) <= sweeps.INLINE_POINTS:
            self._points.setdefault(job.name, []).extend(points)
            return
        if start == 0 or job.name not in self._streams:
            for stream in self._streams.pop(job.name, ()):
                stream.discard()
            jobs_dir = self.run_dir / "jobs"
            self._streams[job.name] = (
                Appender(jobs_dir / f"{job.file_stem}.points.jsonl", self._durable),
                Appender(jobs_dir / f"{job.file_stem}.csv", self._durable),
            )
        lines, table = self._streams[job.name]
        lines.write("\n".join(map(_LINE.encode, points)) + "\n")
        table.write(records.sweep_table(job, points, header=start == 0))

    def job_done(self, job: JobPlan, result: Any) -> None:
        self._trace = None  # the finished file replaces any partial one
        assert self.run_dir is not None
        entry_dir = self.run_dir / "jobs"
        entry = self._job(job)
        actual = (datetime.now(UTC) - self._started).total_seconds()
        points = self._points.pop(job.name, None)
        for stream in self._streams.pop(job.name, ()):
            stream.commit()  # the streamed rows are whole before the JSON file that points to them exists
        payload, encoded = self.job_file(job, result, actual, points)
        # A local job's file is atomic but not fsynced: a run is recomputed cheaply, 1,000 fsyncs are not cheap.
        write_json(self.run_dir / entry["file"], payload, durable=self._durable, raw=encoded)
        if points is not None:
            atomic_write(entry_dir / f"{job.file_stem}.csv", records.sweep_table(job, points), self._durable)
        self._set(
            job,
            status=payload["status"],
            finished=durations.timestamp(),
            actual=round(actual, 3),
            units=result.nfev if isinstance(result, MinimizeOutcome) else job.units,
        )

    def job_usage(self, job: JobPlan, record: dict[str, Any]) -> None:
        self._set(job, usage=[*self._job(job).get("usage", []), record])

    def job_warnings(self, job: JobPlan, messages: list[str]) -> None:
        if messages != self._job(job)["warnings"]:  # most jobs have none, and had none
            self._set(job, warnings=messages)

    def job_skipped(self, job: JobPlan, status: str) -> None:
        self._set(job, status=status)

    def job_file(
        self, job: JobPlan, result: Any, actual: float, points: list[dict[str, Any]] | None = None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """A finished job's JSON body, and its runtime encoding as JSON text (the file's last key)."""
        if job.points is not None:
            body = records.sweep_payload(job, result, points)
        elif job.primitive == "minimize":
            body = records.minimize_payload(job, result)
        elif job.primitive == "estimator":
            body = {"status": "done", **records.estimator_payload(job, result)}
        else:
            body = {"status": "done", **records.sampler_payload(job, result)}
        payload = {**self._header(job), **body, "seconds": round(actual, 3)}
        if isinstance(result, SweepOutcome) and not result.results:  # a long sweep: its points file holds it
            return payload, {}
        whole = result.result if isinstance(result, (MinimizeOutcome, SweepOutcome)) else result
        return payload, {"primitive_result": records.runtime_json_text(whole)}

    def _header(self, job: JobPlan) -> dict[str, Any]:
        return {
            "job": job.name,
            "index": job.index,
            "primitive": job.primitive,
            "circuit": job.circuit_name,
            "backend": self.plan.backend_name,
            "job_ids": self._job(job)["job_ids"],
            "parameters": job.parameter_names,
            **(
                {"parameter_values": job.parameter_values.tolist() if job.parameter_values is not None else [[]]}
                if job.primitive != "minimize"
                else {}
            ),
            **({"parameter_values_from": job.parameter_source} if job.parameter_source else {}),
        }

    def _drop_points(self, job: JobPlan) -> None:
        """An unfinished sweep leaves no points behind: its streamed files were never renamed into place."""
        self._points.pop(job.name, None)
        for stream in self._streams.pop(job.name, ()):
            stream.discard()

    def job_failed(self, job: JobPlan, error: str) -> None:
        self._flush_trace()
        self._drop_points(job)
        entry = self._job(job)
        entry.update(status="failed", finished=durations.timestamp(), error=error)
        self.metadata["status"] = "failed"
        self.metadata["error"] = f"job '{job.name}' failed: {error}"
        for later in self.metadata["jobs"][job.index + 1 :]:
            later["status"] = "not run"
        self._log(
            {
                "jobs": {str(e["index"]): e for e in self.metadata["jobs"][job.index :]},
                "top": {"status": "failed", "error": self.metadata["error"]},
            }
        )

    def job_interrupted(self, job: JobPlan) -> None:
        self._flush_trace()
        self._drop_points(job)
        entry = self._job(job)
        entry.update(status="interrupted", finished=durations.timestamp())
        for later in self.metadata["jobs"][job.index + 1 :]:
            later["status"] = "not run"
        self._log_jobs(*self.metadata["jobs"][job.index :])

    def finish(self, status: str, error: str | None = None) -> None:
        self._attempt.update(
            ended=durations.timestamp(),
            status=status if self.metadata["status"] == "running" else self.metadata["status"],
        )
        if self.metadata["status"] == "running":
            self.metadata["status"] = status
        if error and not self.metadata["error"]:
            self.metadata["error"] = error
        ended = _close_jobs(self.metadata["jobs"], status)
        event = {
            "set": ended,
            "attempt": self._attempt,
            "top": {"status": self.metadata["status"], "error": self.metadata["error"]},
        }
        try:
            self._log(event)
            self._checkpoint(last=True)
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            # The disk is full: give back the space held for this moment, then say how the run ended.
            self._release_reserve()
            self._log(event)
            self._checkpoint(last=True)
        finally:
            if self._journal is not None:
                self._journal.close()
                self._journal = None
            self._release_reserve()

    RESERVE = 256 * 1024  # bytes held back while a run writes, so that a full disk still lets it record its end

    def _hold_reserve(self) -> None:
        assert self.run_dir is not None
        try:
            runfolder.fill(runfolder.member(self.run_dir, ".reserve"), self.RESERVE)
        except OSError:
            pass  # already short of space: the run will say so at its first write

    def _release_reserve(self) -> None:
        if self.run_dir is not None:
            runfolder.member(self.run_dir, ".reserve").unlink(missing_ok=True)


JOURNAL = "events.jsonl"


def read_metadata(run_dir: Path) -> dict[str, Any]:
    """metadata.json brought up to date with the journal lines written after it, each value type-checked.

    The folder is untrusted input: RunFolderError (exit 2) names the file and the problem when it is not a qrun run
    folder, or is damaged."""
    if not run_dir.is_dir():
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
    _drop_partial_line(run_dir)  # the event below starts a line of its own
    ended = _close_jobs(meta["jobs"], "interrupted")
    if meta["attempts"]:
        meta["attempts"][-1].update(ended=durations.timestamp(), status="interrupted")
    meta.update(status="interrupted", error=meta.get("error") or error)
    event: dict[str, Any] = {"set": ended, "top": {"status": meta["status"], "error": meta["error"]}}
    if meta["attempts"]:
        event["attempt"] = meta["attempts"][-1]
    with runfolder.open_append(runfolder.member(run_dir, JOURNAL)) as journal:
        journal.write(_event_line(event))
    meta["journal"] = (meta.get("journal") or 0) + 1
    write_json(runfolder.member(run_dir, "metadata.json"), meta)
    runfolder.member(run_dir, ".reserve").unlink(missing_ok=True)


def record_usage(run_dir: Path, usage: dict[int, list[dict[str, Any]]]) -> None:
    """Write usage the service reported later (`qrun status`) into a run that has ended: each job's whole usage
    list, by job index, as one journal event and a rewritten metadata.json. The caller holds the run's lock."""
    meta = read_metadata(run_dir)
    _drop_partial_line(run_dir)
    changed = {str(index): {"usage": given} for index, given in usage.items()}
    for index, given in usage.items():
        meta["jobs"][index]["usage"] = given
    with runfolder.open_append(runfolder.member(run_dir, JOURNAL)) as journal:
        journal.write(_event_line({"set": changed}))
    meta["journal"] = (meta.get("journal") or 0) + 1
    write_json(runfolder.member(run_dir, "metadata.json"), meta)


def _close_jobs(jobs: list[dict[str, Any]], status: str) -> dict[str, Any]:
    """How a run's end leaves its jobs: a pending one `not run`, a running one `status`. Returns only the entries it
    changed, by index, for the journal (all of them was a 5 MB line at 10,000 jobs)."""
    ended: dict[str, Any] = {}
    for entry in jobs:
        if entry["status"] in ("pending", "running"):
            entry["status"] = "not run" if entry["status"] == "pending" else status
            ended[str(entry["index"])] = {"status": entry["status"]}
    return ended


def read_job_body(run_dir: Path, entry: dict[str, Any]) -> dict[str, Any] | None:
    """A job's file (None while it has none), type-checked; RunFolderError when it is damaged."""
    body = runfolder.read_json(run_dir, entry["file"], runfolder.MAX_JOB_FILE_BYTES, missing_ok=True)
    return None if body is None else runfolder.check_job_body(run_dir / entry["file"], body)


def read_spec(run_dir: Path) -> Any:
    """The resolved spec saved in a run folder (spec.yaml), parsed with qrun's YAML limits."""
    data = runfolder.read_bytes(run_dir, "spec.yaml", MAX_SPEC_BYTES)
    assert data is not None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RunFolderError(f"{run_dir / 'spec.yaml'}: is not UTF-8 text; the run folder is damaged") from None
    try:
        spec = safe_yaml(str(run_dir / "spec.yaml"), text)
    except SpecError as e:
        raise RunFolderError(f"{e}; the run folder is damaged") from None
    if not isinstance(spec, dict):
        raise RunFolderError(f"{run_dir / 'spec.yaml'}: is not a spec; the run folder is damaged")
    return spec


def _drop_partial_line(run_dir: Path) -> None:
    """Cut a journal back to its last complete line (a kill or a full disk can leave half of one)."""
    data = runfolder.read_bytes(run_dir, JOURNAL, runfolder.MAX_METADATA_BYTES, missing_ok=True)
    if data is None:
        return
    end = data.rfind(b"\n") + 1
    if end < len(data):
        runfolder.truncate(run_dir / JOURNAL, end)


def keep_session(meta: dict[str, Any], attempt: dict[str, Any] | None, session: dict[str, Any]) -> None:
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


def replay(meta: dict[str, Any], event: dict[str, Any]) -> None:
    """Apply one journal event to metadata (the inverse of RunWriter._log)."""
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
        entry["job_ids"].append(sub["id"])
        entry["submitted"] = entry.get("submitted") or sub["at"]
        entry["batched"] = None if sub.get("pub") is None else {"id": sub["id"], "pub": sub["pub"]}
        if meta["attempts"]:
            meta["attempts"][-1]["submissions"].append({"job": sub["job"], "id": sub["id"]})
    meta.update(event.get("top") or {})


def latest_run(root: Path, name: str) -> Path | None:
    """The newest run folder of spec `name` under `root` (folder names start with their UTC start time)."""
    folder = root / name
    runs = sorted(p for p in folder.iterdir() if (p / "metadata.json").exists()) if folder.is_dir() else []
    return runs[-1] if runs else None


class History:
    """Learned estimates: per (job name, content hash), the newest finished run's seconds per unit of work.

    Runs are read newest first, and only as far as a lookup needs: a rerun of an unchanged spec reads one
    metadata.json however many runs its folder holds. Reading them all up front took 1.9 s, and 50 MiB, in a folder
    of ten 10,000-job runs, on every run of a ten-job spec. A key no run has (a new or changed job) reads the rest
    once."""

    def __init__(self, root: Path, name: str):
        from .catalog import runs_of

        # folder names start with the UTC time: the newest is last, and read first; a multirun's points count
        self._unread = runs_of(root, name)
        self._learned: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, key: tuple[str, str]) -> dict[str, Any] | None:
        while key not in self._learned and self._unread:
            self._learn(self._unread.pop())
        return self._learned.get(key)

    def _learn(self, run_dir: Path) -> None:
        try:
            meta = runfolder.read_json(run_dir, "metadata.json", runfolder.MAX_METADATA_BYTES)
        except RunFolderError:
            return  # a run folder being written, or damaged: learn nothing from it
        jobs = meta.get("jobs", []) if isinstance(meta, dict) else []
        for entry in jobs if isinstance(jobs, list) else []:
            key = (entry.get("name"), entry.get("content_hash"))
            if (
                entry.get("status") == "done"
                and entry.get("units")
                and entry.get("actual")
                and key not in self._learned
            ):
                self._learned[key] = {"per_unit": entry["actual"] / entry["units"], "run": run_dir.name}


@dataclass
class Run:
    """A finished run read back: its metadata and, per job, the plain JSON and the qiskit PrimitiveResult."""

    path: Path
    metadata: dict[str, Any]
    jobs: dict[str, dict[str, Any]]

    def result(self, job: str) -> Any:
        """The job's qiskit PrimitiveResult, decoded from the runtime's own encoding in its file."""
        body = self._body(job)
        if "primitive_result" not in body:
            raise ResultsError(
                f"job '{job}' streamed its {body.get('point_count', 0):,} sweep points to "
                f"jobs/{body.get('points_file')}: it keeps no single PrimitiveResult; run.points('{job}') reads them"
            )
        return records.from_runtime_json(body["primitive_result"], f"{self.path}: job '{job}'")

    def points(self, job: str) -> list[dict[str, Any]]:
        """A swept job's points, each with its variables and value/stderr (or counts), inline or streamed."""
        return records.stored_points(self.path, self._body(job))

    def _body(self, job: str) -> dict[str, Any]:
        if job not in self.jobs:
            raise ResultsError(f"{self.path}: no finished job '{job}' (finished: {', '.join(self.jobs) or 'none'})")
        return self.jobs[job]

    def _repr_html_(self) -> str:
        """The run as an HTML table, for Jupyter: each job's kind, status and result."""
        import html

        rows = "".join(
            f"<tr><td>{html.escape(str(e['name']))}</td><td>{html.escape(str(e['primitive']))}</td>"
            f"<td>{html.escape(str(e['status']))}</td><td>"
            + html.escape(records.result_text(self.jobs[e["name"]]) if e["name"] in self.jobs else "-")
            + "</td></tr>"
            for e in self.metadata.get("jobs", [])
        )
        title = html.escape(f"{self.metadata.get('name')}: {self.metadata.get('status')} ({self.path.name})")
        return (
            f"<table><caption>{title}</caption><tr><th>job</th><th>kind</th><th>status</th><th>result</th></tr>"
            f"{rows}</table>"
        )


def load(run_dir: str | Path) -> Run:
    """Read a run folder back; RunFolderError (exit 2) names the file and the problem if it is damaged. A job
    without a file is left out (that job did not finish)."""
    path = Path(run_dir)
    meta = read_metadata(path)
    jobs = {}
    for entry in meta["jobs"]:
        body = read_job_body(path, entry)
        if body is not None:
            jobs[entry["name"]] = body
    return Run(path, meta, jobs)
