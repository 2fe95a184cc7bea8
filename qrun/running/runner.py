"""The runner: a plan's jobs in order, block by block, each block in one session or batch, every step to a sink."""

from __future__ import annotations

import time
import warnings
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import numpy as np

from .. import collector
from ..backends.calibration import at, of_device
from ..backends.kind import OpenSession
from ..backends.registry import traits
from ..backends.service import sentence, usage_record
from ..errors import RunError, ServiceError
from ..jobs.registry import kind_of
from ..model import durations
from ..model.outcomes import SESSION_EXPIRED, MinimizeOutcome
from ..model.plan import JobPlan
from ..model.records import Usage
from ..model.words import counted
from .batching import Batching
from .failures import failure
from .minimizing import Minimizing
from .submission import distinct, open_session, quietly
from .sweeping import Sweeping

if TYPE_CHECKING:
    from ..model.outcomes import JobResult


class Runner(Batching, Sweeping, Minimizing):
    """Submits a plan's jobs through its sessions and batches, and reports every step to a sink."""

    def run(self) -> None:
        """Run every job, block by block (plan.blocks: on the service, mode: auto opens a session only around the jobs
        that need one, and sends the rest as batches); RunError if one fails or a session's max_time runs out."""
        plan = self.plan
        blocks = plan.blocks if traits(plan.backend_kind).remote and len(plan.blocks) > 1 else []
        if not blocks:  # one session (or batch) for the whole run, as the spec's mode says
            self._run_block(plan.mode, plan.mode_reason, 0, len(plan.jobs), None)
            return
        for k, block in enumerate(blocks):
            if all(j.name in self.finished for j in plan.jobs[block.start : block.stop]):
                continue  # a resumed run opens nothing for blocks it finished
            self._run_block(block.mode, block.reason, block.start, block.stop, k)

    def _run_block(self, mode: str, reason: str, start: int, stop: int, block: int | None) -> None:
        """Jobs start..stop-1 in one session or batch of their own: opened, run, closed, its usage read."""
        plan = self.plan
        self.opened = time.perf_counter()
        # each session's max_time clock starts when its own first job starts
        self.deadline, self.session_started, self.idle_since = float("inf"), None, None
        self.session_record = {
            "backend": plan.backend_name,
            "mode": mode,
            "mode_reason": reason,
            **({"block": block, "jobs": [start, stop]} if block is not None else {}),
            # a ladder's engine names each of its rungs' ("a+b"): each engine once in all
            "engine": "+".join(sorted({e for j in plan.jobs[start:stop] for e in j.engine.split("+")})),
            "max_time": plan.max_time,
            # The runtime keeps no such record in local mode (session_id, details() are None), so qrun does.
            "session_id": None,
            "requested": durations.timestamp(),
            **({"dask": self.cluster.record} if self.cluster is not None else {}),
            "started": None,
            "deadline": None,
            "closed": None,
        }
        if traits(plan.backend_kind).rehearsed:  # a fake device's properties are fixed: its calibration, once per run
            self.session_record["calibration"] = of_device(plan.device)
        session = None
        try:
            try:
                session = open_session(plan, mode)
            except Exception as e:  # the service refused the session: say which backend and why, not "internal error"
                raise ServiceError(
                    f"{plan.backend_name}: the service refused to open a {mode}: {sentence(e)}"
                ) from None
            self.session = session
            self.session_record["session_id"] = session.session_id
            self.sink.session_opened(self.session_record.copy())
            self._run_jobs(session, start, stop)
        finally:
            if session is not None:
                # Closed only after the last job completed (or the run stopped), never while one is pending.
                quietly(session.close)
                self.session_record["closed"] = durations.timestamp()
                self.session_record["session_id"] = session.session_id
                # From opening the session to the last result in hand, before any file is written.
                self.session_record["execution_seconds"] = round(max(self.last_result - self.opened, 0.0), 6)
                self.sink.session_closed(self.session_record.copy())
                self.record_usage()

    def record_usage(self) -> None:
        """Each service job's usage, read once the session is closed so no REST call sits between session jobs.

        The runtime reports 0 while a job's usage is still being computed; qrun waits a little for the final
        figure and otherwise records it as pending (`qrun status` shows it later).
        """
        records = [(job, usage_record(handle, sleep=self.clock.sleep)) for job, handle in self.handles]
        self._calibrations([r for _, r in records])
        for job, record in records:
            self.sink.job_usage(job, record)
        self.handles = []

    def _calibrations(self, records: list[Usage]) -> None:
        """Each service job's calibration, as of when it ran. The last job's is asked for first: made before the first
        job ran, it was every job's (one call, each of which fetches and decodes the device's whole properties).
        Otherwise the first job's too, and only if they differ (the device was recalibrated during the run) every
        job's."""
        if not traits(self.plan.backend_kind).remote or not records:
            return

        def running(r: Usage) -> str | None:
            return (r.get("timestamps") or {}).get("running")

        last = at(self.plan.device, running(records[-1]))
        made, began = durations.parse_timestamp(last), durations.parse_timestamp(running(records[0]))
        ends = {last} if made and began and made <= began else {last, at(self.plan.device, running(records[0]))}
        for r in records:
            r["calibration"] = last if len(ends) == 1 else at(self.plan.device, running(r))

    def _run_jobs(self, session: OpenSession, start: int, stop: int) -> None:
        skip = 0
        for position, job in enumerate(self.plan.jobs[start:stop], start):
            if job.name in self.finished:
                continue
            if skip:
                skip -= 1
                continue
            self.stop_if_asked()  # the jobs from here on are "not run"
            batch = self.batch_from(position, stop)
            alone = len(batch) == 1 and self.rows_in_chunks(job)
            now = self.session_clock.monotonic
            if (len(batch) > 1 or alone) and now() + sum(j.estimate for j in batch) <= self.deadline:
                with _collections_for(batch[0]):
                    self.run_batch(batch, session)
                self.spent(batch)
                skip = len(batch) - 1
                continue
            first = self.evaluation_seconds(job)  # a loop's first evaluation
            if now() + first > self.deadline:
                # Never submit what cannot finish before the service ends the session at max_time.
                left = [later for later in self.plan.jobs[position:] if later.name not in self.finished]
                for later in left:
                    self.sink.job_skipped(later, SESSION_EXPIRED)
                if now() >= self.deadline:
                    raise RunError(
                        f"the session reached max_time ({durations.format(self.plan.max_time)}) before "
                        f"job '{job.name}'; {counted(len(left), 'job')} not run"
                    )
                raise RunError(
                    f"the session has {durations.format(max(self.deadline - now(), 0))} of its max_time "
                    f"({durations.format(self.plan.max_time)}) left, less than job '{job.name}' needs "
                    f"({durations.format(first)}); {counted(len(left), 'job')} not run. Resume with --resume to run "
                    f"{'it' if len(left) == 1 else 'them'} in a new session"
                )
            self.sink.job_started(job)
            # Library warnings (e.g. from ZNE fits) belong to the job's record, not scattered over the terminal.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    job = self.bind(job)
                    result = self.run_job(job, session)
                except KeyboardInterrupt:
                    self.sink.job_interrupted(job)
                    raise
                except Exception as e:  # any failure of a job stops the run; its reason goes to the record
                    message = failure(e)
                    self.sink.job_warnings(job, distinct(caught))
                    self.sink.job_failed(job, message)
                    raise RunError(f"job '{job.name}' failed: {message}") from e
            self.sink.job_warnings(job, distinct(caught))
            if isinstance(result, MinimizeOutcome):  # its evaluations were spent one by one
                self.optima[(job.run_key, job.name)] = np.asarray(result.optimum["parameters"], dtype=float)
            else:
                self.spent([job])
            self.sink.job_done(job, result)

    def run_job(self, job: JobPlan, session: OpenSession) -> JobResult:
        """One job: a sweep chunk by chunk, else as its kind runs it (jobs/), through this runner's submissions."""
        if job.points is not None:
            with _collections_for(job):
                return self.sweep(job, session)
        return kind_of(job.primitive).run(self, job, session)


def _collections_for(job: JobPlan) -> AbstractContextManager[None]:
    """Sparse young collections while Aer's own primitives run the job's batch or sweep (collector.sparse says why),
    Python's thresholds for every other engine."""
    return collector.sparse(job.engine == "aer-primitives")
