"""The events a runner reports: one typed protocol (Sink), a base that ignores them (NullSink), and one fan-out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from ..model.outcomes import JobResult
    from ..model.plan import JobPlan
    from ..model.records import Evaluation, SessionRecord, Usage
    from ..planning import sweeps


class Sink(Protocol):
    """Where the runner reports what happens; writer.RunWriter and progress.Reporter are the real ones."""

    def session_opened(self, session: SessionRecord) -> None: ...
    def session_started(self, session: SessionRecord) -> None: ...
    def job_started(self, job: JobPlan) -> None: ...
    def jobs_started(self, jobs: list[JobPlan]) -> None: ...  # a PUB-batched runtime job's jobs, about to go out
    def jobs_submitted(self, jobs: list[JobPlan], job_id: str, pubs: list[int | None]) -> None: ...
    def job_progress(self, job: JobPlan, trace: list[Evaluation]) -> None: ...
    def job_done(self, job: JobPlan, result: JobResult) -> None: ...
    def jobs_done(self, jobs: list[JobPlan], results: Sequence[PrimitiveResult]) -> None: ...  # a batch, in order
    def sweep_chunk(
        self,
        job: JobPlan,
        start: int,
        points: list[dict[str, object]],
        groups: list[sweeps.Group],
        results: list[PrimitiveResult],
    ) -> None: ...
    def job_failed(self, job: JobPlan, error: str) -> None: ...
    def job_skipped(self, job: JobPlan, status: str) -> None: ...
    def job_warnings(self, job: JobPlan, messages: list[str]) -> None: ...
    def job_interrupted(self, job: JobPlan) -> None: ...
    def job_usage(self, job: JobPlan, record: Usage) -> None: ...
    def waiting(self) -> None: ...  # the runner is about to wait for a result: what was recorded must be visible now
    def session_time(self, seconds: float) -> None: ...  # a rehearsal's session time (the device's seconds) moved on
    def session_closed(self, session: SessionRecord) -> None: ...


EVENTS = tuple(name for name in Sink.__dict__ if not name.startswith("_"))


class NullSink:
    """A sink that ignores every event: the base of a sink that handles only some (a progress reporter)."""

    def session_opened(self, session: SessionRecord) -> None:
        """A session or batch was opened."""

    def session_started(self, session: SessionRecord) -> None:
        """The service named the session, or its first job started."""

    def job_started(self, job: JobPlan) -> None:
        """A job is about to be submitted."""

    def jobs_started(self, jobs: list[JobPlan]) -> None:
        """Several jobs are about to go out as one runtime job: by default, each job's own event."""
        for job in jobs:
            self.job_started(job)

    def jobs_submitted(self, jobs: list[JobPlan], job_id: str, pubs: list[int | None]) -> None:
        """A runtime job went out for `jobs`."""

    def job_progress(self, job: JobPlan, trace: list[Evaluation]) -> None:
        """A minimize job finished an evaluation."""

    def job_done(self, job: JobPlan, result: JobResult) -> None:
        """A job finished."""

    def jobs_done(self, jobs: list[JobPlan], results: Sequence[PrimitiveResult]) -> None:
        """The jobs of one runtime job finished, each with its own result: by default, each job's own event, where the
        sink has one (a stacked batch makes each job's result when asked: for a sink that keeps none, for nothing)."""
        if type(self).job_done is NullSink.job_done:
            return
        for job, result in zip(jobs, results, strict=True):
            self.job_done(job, result)

    def sweep_chunk(
        self,
        job: JobPlan,
        start: int,
        points: list[dict[str, object]],
        groups: list[sweeps.Group],
        results: list[PrimitiveResult],
    ) -> None:
        """A chunk of a sweep has its results."""

    def job_failed(self, job: JobPlan, error: str) -> None:
        """A job failed; the run stops."""

    def job_skipped(self, job: JobPlan, status: str) -> None:
        """A job was not run (the session's max_time)."""

    def job_warnings(self, job: JobPlan, messages: list[str]) -> None:
        """The warnings a job's libraries raised."""

    def job_interrupted(self, job: JobPlan) -> None:
        """Ctrl-C or a signal stopped a job."""

    def job_usage(self, job: JobPlan, record: Usage) -> None:
        """A service job's usage, read after its session closed."""

    def waiting(self) -> None:
        """The runner waits for a result next."""

    def session_time(self, seconds: float) -> None:
        """On a fake device, the session's time, which its deadline counts: the device's seconds for what has run."""

    def session_closed(self, session: SessionRecord) -> None:
        """A session or batch was closed."""


class Fanout(NullSink):
    """One sink that hands every event to several, in order. A job's events go to the sinks `for_jobs` names, so a
    multirun can send each point's jobs to that point's writer only."""

    def __init__(self, sinks: Sequence[Sink]):
        self.sinks = list(sinks)

    def for_jobs(self, jobs: Sequence[JobPlan]) -> list[tuple[Sink, list[JobPlan]]]:
        """Which sinks receive an event about `jobs`, each with the jobs that concern it: here, all of them, as the
        event's own list (sinks read it, none changes it)."""
        every = jobs if isinstance(jobs, list) else list(jobs)
        return [(sink, every) for sink in self.sinks]

    def session_opened(self, session: SessionRecord) -> None:
        for sink in self.sinks:
            sink.session_opened(session)

    def session_started(self, session: SessionRecord) -> None:
        for sink in self.sinks:
            sink.session_started(session)

    def session_closed(self, session: SessionRecord) -> None:
        for sink in self.sinks:
            sink.session_closed(session)

    def session_time(self, seconds: float) -> None:
        for sink in self.sinks:
            sink.session_time(seconds)

    def waiting(self) -> None:
        for sink in self.sinks:
            sink.waiting()

    def jobs_submitted(self, jobs: list[JobPlan], job_id: str, pubs: list[int | None]) -> None:
        chosen: dict[int, int | None] = {}  # each job's PUB, looked up only for a sink given some of the jobs
        for sink, mine in self.for_jobs(jobs):
            if _all_of(mine, jobs):
                sink.jobs_submitted(mine, job_id, pubs)
            elif mine:
                chosen = chosen or {id(job): pub for job, pub in zip(jobs, pubs, strict=True)}
                sink.jobs_submitted(mine, job_id, [chosen[id(job)] for job in mine])

    def job_started(self, job: JobPlan) -> None:
        for sink, _ in self.for_jobs([job]):
            sink.job_started(job)

    def jobs_started(self, jobs: list[JobPlan]) -> None:
        for sink, mine in self.for_jobs(jobs):
            if mine:
                sink.jobs_started(mine)

    def jobs_done(self, jobs: list[JobPlan], results: Sequence[PrimitiveResult]) -> None:
        row: dict[int, int] = {}  # each job's place, looked up only for a sink given some of the jobs
        for sink, mine in self.for_jobs(jobs):
            if _all_of(mine, jobs):
                sink.jobs_done(mine, results)  # all of them: as they are (stacked results stay stacked)
            elif mine:
                row = row or {id(job): k for k, job in enumerate(jobs)}
                sink.jobs_done(mine, [results[row[id(job)]] for job in mine])

    def job_progress(self, job: JobPlan, trace: list[Evaluation]) -> None:
        for sink, _ in self.for_jobs([job]):
            sink.job_progress(job, trace)

    def job_done(self, job: JobPlan, result: JobResult) -> None:
        for sink, _ in self.for_jobs([job]):
            sink.job_done(job, result)

    def sweep_chunk(
        self,
        job: JobPlan,
        start: int,
        points: list[dict[str, object]],
        groups: list[sweeps.Group],
        results: list[PrimitiveResult],
    ) -> None:
        for sink, _ in self.for_jobs([job]):
            sink.sweep_chunk(job, start, points, groups, results)

    def job_failed(self, job: JobPlan, error: str) -> None:
        for sink, _ in self.for_jobs([job]):
            sink.job_failed(job, error)

    def job_skipped(self, job: JobPlan, status: str) -> None:
        for sink, _ in self.for_jobs([job]):
            sink.job_skipped(job, status)

    def job_warnings(self, job: JobPlan, messages: list[str]) -> None:
        for sink, _ in self.for_jobs([job]):
            sink.job_warnings(job, messages)

    def job_interrupted(self, job: JobPlan) -> None:
        for sink, _ in self.for_jobs([job]):
            sink.job_interrupted(job)

    def job_usage(self, job: JobPlan, record: Usage) -> None:
        for sink, _ in self.for_jobs([job]):
            sink.job_usage(job, record)


def _all_of(mine: Sequence[JobPlan], jobs: Sequence[JobPlan]) -> bool:
    """Whether a sink's share of an event's jobs is all of them, in order: it then gets the event's own lists."""
    return mine is jobs or (len(mine) == len(jobs) and all(a is b for a, b in zip(mine, jobs, strict=True)))
