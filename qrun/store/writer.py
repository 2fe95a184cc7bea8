"""Writing a run folder: RunWriter receives the runner's events and keeps the folder current, job files atomic."""

from __future__ import annotations

import errno
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ..app import supervise
from ..backends.registry import traits
from ..jobs import minimize
from ..model import defaults, durations
from ..model.outcomes import MinimizeOutcome
from ..planning import sweeps
from ..sources import pysource
from . import batchfile, provenance, records, reopening
from .fsio import Appender, atomic_write, inside, json_items, json_lines, write_json
from .jobfile import batch_bodies, header, job_file
from .journal import Journal, close_jobs, keep_session, read_metadata

if TYPE_CHECKING:  # kept off the import path: `qrun validate` reads history without numpy or qiskit
    from collections.abc import Sequence

    from qiskit.primitives import PrimitiveResult

    from ..model.outcomes import JobResult
    from ..model.plan import JobPlan, Plan
    from ..model.records import Attempt, Carried, Evaluation, JobEntry, RunMetadata, SessionRecord, Usage
    from ..spec import Spec


METADATA_FORMAT = 1


def new_run_dir(root: Path, name: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    run = inside(root, name, f"{stamp}-{secrets.token_hex(3)}")
    (run / "jobs").mkdir(parents=True, exist_ok=False)
    return run


@dataclass
class RunWriter:
    """Receives the runner's events and keeps the run folder current: each event is one line of the run's journal
    (journal.Journal, which checkpoints metadata.json by its own policy), each finished job one atomic file.
    Readers replay the lines after the last checkpoint (read_metadata), so an event's cost does not grow with the
    run."""

    root: Path
    spec: Spec
    plan: Plan
    run_dir: Path | None = None

    # a minimize job's trace file is rewritten at most this often (a crash loses at most this much of it)
    THROTTLE = 1.0

    def __post_init__(self) -> None:
        self.metadata: RunMetadata = {"name": self.plan.name, "status": "pending", "jobs": [], "attempts": []}
        self._trace: tuple[JobPlan, list[Evaluation]] | None = None
        self._traced_at = 0.0
        self._journal: Journal | None = None
        self._points: dict[str, list[bytes]] = {}  # a short sweep's points as JSON, a chunk each, until it is done
        self._streams: dict[str, tuple[Appender, ...]] = {}  # a sweep's CSV (a long one's points file too), unfinished
        self._lowest: dict[str, dict[str, records.Point]] = {}  # a long sweep's lowest points, as they stream

    def open(self, run_dir: Path | None = None) -> Path:
        """Create the run folder (a new one under root, or `run_dir`, e.g. a multirun point) and its metadata."""
        if run_dir is None:
            self.run_dir = new_run_dir(self.root, self.plan.name)
        else:
            (run_dir / "jobs").mkdir(parents=True, exist_ok=False)
            self.run_dir = run_dir
        supervise.announce(self.run_dir)
        atomic_write(self.run_dir / "spec.yaml", self.spec.resolved_text(), self._durable)
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
        self._start_journal()
        self._new_attempt()
        return self.run_dir

    def _python(self) -> dict[str, object]:
        """The Python sources' files, content hashes and git state: a later run can tell the code changed."""

        return pysource.of_spec(self.spec.data, self.spec.base_dir)

    def _fresh_entry(self, j: JobPlan) -> JobEntry:
        entry: JobEntry = {
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
        }
        if j.simulated_qubits is not None:  # on a fake device qrun simulates only the physical qubits the job uses
            entry["simulated_qubits"] = list(j.simulated_qubits)
        return entry

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
    def _attempt(self) -> Attempt:
        return self.metadata["attempts"][-1]

    def reopen(self, run_dir: Path) -> Carried:
        """Continue an interrupted run in its own folder: keep finished jobs, reset the rest, start a new attempt.

        Returns what the runner needs: {"finished": {name: optimum or None}, "submissions": count so far}.
        """
        self.run_dir = run_dir
        self.metadata = read_metadata(run_dir)
        supervise.announce(run_dir)
        finished, submissions = reopening.keep_finished(run_dir, self.plan, self.metadata, self._fresh_entry)
        for attempt in self.metadata["attempts"]:
            if attempt["status"] == "running":  # its process was killed before it could say how it ended
                attempt["status"] = "died"
        self.metadata["status"], self.metadata["error"] = "running", None
        self._start_journal()  # a checkpoint of the reset entries and attempts, in full
        self._new_attempt()
        return {"finished": finished, "submissions": submissions}

    def _log(self, event: dict[str, object]) -> None:
        assert self._journal is not None
        self._journal.log(event)

    def waiting(self) -> None:
        """The runner waits for a result next: `qrun status` and a kill must see everything recorded so far."""
        if self._journal is not None:
            self._journal.flush()

    def _start_journal(self) -> None:
        assert self.run_dir is not None
        self._journal = Journal(self.run_dir, self.metadata, durable=self._durable)
        self._journal.checkpoint()
        self._journal.hold_reserve()

    @property
    def _durable(self) -> bool:
        """Service results cost QPU time: they are fsynced. A local run's files (metadata.json too) are atomic only."""
        return traits(self.plan.backend_kind).remote

    def _log_jobs(self, *entries: JobEntry) -> None:
        self._log({"jobs": {str(e["index"]): e for e in entries}})

    def _set(self, job: JobPlan, **fields: object) -> None:
        """Change some of a job's metadata fields, and journal only those: a whole entry on each of a job's four
        events was kilobytes of journal per job, and a third of their bookkeeping (benchmarks/RESULTS.md)."""
        self._job(job).update(cast("JobEntry", fields))  # its callers name JobEntry's keys
        self._log({"set": {str(job.index): fields}})

    def _job(self, job: JobPlan) -> JobEntry:
        return self.metadata["jobs"][job.index]

    def session_opened(self, session: SessionRecord) -> None:
        keep_session(self.metadata, self._attempt, session)
        self._log({"session": session})

    def session_started(self, session: SessionRecord) -> None:
        """The service named the session, or its first job started: the record gains its id, start and deadline."""
        self.session_opened(session)

    session_closed = session_opened  # the record keeps each state of the session alike

    def session_time(self, seconds: float) -> None:
        """A rehearsal's device time moved on: the record keeps when the session started and closed, no more."""

    def job_started(self, job: JobPlan) -> None:
        self.jobs_started([job])

    def jobs_started(self, jobs: list[JobPlan]) -> None:
        """Several jobs go out as one runtime job: one journal line for them all, not one each."""
        fields = {"status": "running", "started": durations.timestamp(), "attempt": self._attempt["attempt"]}
        for job in jobs:
            self._job(job).update(cast("JobEntry", fields))
        self._log({"set": {str(job.index): fields for job in jobs}})
        self._started = datetime.now(UTC)

    def jobs_submitted(self, jobs: list[JobPlan], job_id: str, pubs: list[int | None]) -> None:
        """Runtime job `job_id` went out for `jobs`, job k as PUB pubs[k] (None: the runtime job is that job's own).
        One journal line for them all: a batch of 250 jobs is one submission."""
        at, entries, submissions = durations.timestamp(), self.metadata["jobs"], self._attempt["submissions"]
        events: list[dict[str, object]] = []
        for job, pub in zip(jobs, pubs, strict=True):
            entry = entries[job.index]
            entry["job_ids"].append(job_id)
            entry["submitted"] = entry["submitted"] or at
            entry["batched"] = None if pub is None else {"id": job_id, "pub": pub}
            submissions.append({"job": job.name, "id": job_id})
            events.append({"index": job.index, "id": job_id, "at": entry["submitted"], "job": job.name})
            if pub is not None:
                events[-1]["pub"] = pub
        self._log({"submitted": events[0] if len(events) == 1 else events})

    def job_progress(self, job: JobPlan, trace: list[Evaluation]) -> None:
        # Rewritten (atomically) while the job runs, so a crash keeps the trace so far.
        self._trace = (job, trace)
        if time.monotonic() - self._traced_at >= self.THROTTLE:
            self._flush_trace()

    def _flush_trace(self) -> None:
        if self._trace is None:
            return
        job, trace = self._trace
        partial = {
            **header(job, self.plan.backend_name, self._job(job)["job_ids"]),
            "status": "running",
            **minimize.settings(job),
            "trace": trace,
        }
        assert self.run_dir is not None
        write_json(self.run_dir / self._job(job)["file"], partial, durable=self._durable)
        self._traced_at = time.monotonic()
        self._trace = None

    def sweep_chunk(
        self,
        job: JobPlan,
        start: int,
        points: list[dict[str, object]],
        groups: list[sweeps.Group],
        results: list[PrimitiveResult],
    ) -> None:
        """A sweep's chunk has its results: appended to its CSV, and to a long sweep's points file (JSON lines); a short
        sweep keeps them as JSON text for its job file. Memory holds one chunk as values, whatever the sweep's length."""
        assert self.run_dir is not None and job.points is not None
        records.fill_points(job, points, groups, results)
        short = len(job.points) <= defaults.INLINE_POINTS
        if start == 0 or job.name not in self._streams:
            self._drop_points(job)
            jobs_dir = self.run_dir / "jobs"
            self._streams[job.name] = (Appender(jobs_dir / f"{job.file_stem}.csv", self._durable),)
            if short:
                self._points[job.name] = []
            else:
                self._streams[job.name] += (Appender(jobs_dir / f"{job.file_stem}.points.jsonl", self._durable),)
        streams = self._streams[job.name]
        streams[0].write(records.sweep_table(job, points, header=start == 0))
        if short:
            self._points[job.name].append(json_items(points))
        else:
            streams[1].write(json_lines(points))
            records.keep_lowest(self._lowest.setdefault(job.name, {}), points)

    def job_done(self, job: JobPlan, result: JobResult) -> None:
        self._trace = None  # the finished file replaces any partial one
        assert self.run_dir is not None
        entry = self._job(job)
        actual = (datetime.now(UTC) - self._started).total_seconds()
        points = self._points.pop(job.name, None)
        for stream in self._streams.pop(job.name, ()):
            stream.commit()  # the streamed rows are whole before the JSON file that points to them exists
        payload, encoded = job_file(job, result, actual, points, self.plan.backend_name, self._job(job)["job_ids"])
        if lowest := self._lowest.pop(job.name, None):  # a long sweep's, headed as a short one's inline points are
            payload["lowest"] = lowest
        # A local job's file is atomic but not fsynced: a run is recomputed cheaply, 1,000 fsyncs are not cheap.
        write_json(self.run_dir / entry["file"], payload, durable=self._durable, raw=encoded)
        self._set(
            job,
            status=payload["status"],
            finished=durations.timestamp(),
            actual=round(actual, 3),
            units=result.nfev if isinstance(result, MinimizeOutcome) else job.units,
        )

    def jobs_done(self, jobs: list[JobPlan], results: Sequence[PrimitiveResult]) -> None:
        """A local run of BATCH_FROM jobs or more keeps each batch in one columnar file (store/batchfile.py), written
        atomically before the one journal line that marks its jobs done; otherwise each job gets its own file."""
        assert self.run_dir is not None
        actual = (datetime.now(UTC) - self._started).total_seconds()
        stored = None
        if not self._durable and len(self.plan.jobs) >= batchfile.BATCH_FROM:
            backend = self.plan.backend_name
            bodies = batch_bodies(jobs, results, actual, backend, [self._job(j)["job_ids"] for j in jobs])
            stored = batchfile.store(self.run_dir, f"jobs/{jobs[0].file_stem}.batch.npz", bodies, results)
        if stored is None:
            for job, result in zip(jobs, results, strict=True):
                self.job_done(job, result)
            return
        at, seconds, entries, changes = durations.timestamp(), round(actual, 3), self.metadata["jobs"], {}
        for row, (job, body) in enumerate(zip(jobs, bodies, strict=True)):
            change = {"status": body["status"], "finished": at, "actual": seconds, "units": job.units, "file": stored}
            change["row"] = row
            changes[str(job.index)] = change
            entries[job.index].update(cast("JobEntry", change))
        self._log({"set": changes})

    def job_usage(self, job: JobPlan, record: Usage) -> None:
        self._set(job, usage=[*(self._job(job).get("usage") or []), record])

    def job_warnings(self, job: JobPlan, messages: list[str]) -> None:
        if messages != self._job(job)["warnings"]:  # most jobs have none, and had none
            self._set(job, warnings=messages)

    def job_skipped(self, job: JobPlan, status: str) -> None:
        self._set(job, status=status)

    def _drop_points(self, job: JobPlan) -> None:
        """An unfinished sweep leaves no points behind: its streamed files were never renamed into place."""
        self._points.pop(job.name, None)
        self._lowest.pop(job.name, None)
        for stream in self._streams.pop(job.name, ()):
            stream.discard()

    def job_failed(self, job: JobPlan, error: str) -> None:
        self._flush_trace()
        self._drop_points(job)
        entry = self._job(job)
        entry["status"], entry["finished"], entry["error"] = "failed", durations.timestamp(), error
        self.metadata["status"] = "failed"
        self.metadata["error"] = f"job '{job.name}' failed: {error}"
        for later in self.metadata["jobs"][job.index + 1 :]:
            later["status"] = "not run"
        failed = {str(e["index"]): e for e in self.metadata["jobs"][job.index :]}
        self._log({"jobs": failed, "top": {"status": "failed", "error": self.metadata["error"]}})

    def job_interrupted(self, job: JobPlan) -> None:
        self._flush_trace()
        self._drop_points(job)
        entry = self._job(job)
        entry["status"], entry["finished"] = "interrupted", durations.timestamp()
        for later in self.metadata["jobs"][job.index + 1 :]:
            later["status"] = "not run"
        self._log_jobs(*self.metadata["jobs"][job.index :])

    def finish(self, status: str, error: str | None = None) -> None:
        self._attempt["ended"] = durations.timestamp()
        self._attempt["status"] = status if self.metadata["status"] == "running" else self.metadata["status"]
        if self.metadata["status"] == "running":
            self.metadata["status"] = status
        if error and not self.metadata["error"]:
            self.metadata["error"] = error
        ended = close_jobs(self.metadata["jobs"], status)
        event: dict[str, object] = {
            "set": ended,
            "attempt": self._attempt,
            "top": {"status": self.metadata["status"], "error": self.metadata["error"]},
        }
        journal = self._journal
        assert journal is not None
        try:
            journal.log(event, then_checkpoint=False)
            journal.checkpoint(last=True)
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            # The disk is full: give back the space held for this moment, then say how the run ended.
            journal.release_reserve()
            journal.log(event, then_checkpoint=False)
            journal.checkpoint(last=True)
        finally:
            journal.close()
            self._journal = None
