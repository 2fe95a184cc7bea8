"""A local run's max_time, told to its supervisor: the sink that announces the deadline as the first job starts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..backends.registry import traits
from ..model import durations
from ..running.events import NullSink
from . import supervise

if TYPE_CHECKING:
    from ..model.plan import JobPlan, Plan
    from ..model.records import SessionRecord


class Deadline(NullSink):
    """On aer (and any backend that is neither the service's nor a fake device's rehearsal, whose deadline is the
    device's time), the runner sends no job that would start past max_time, but cannot stop one that computes past
    it: Aer holds the interpreter. The supervisor can; this tells it when the deadline is (max_time after the
    session's first job starts, as the runner counts it), and when the session closes. The service stops its own
    sessions, and a job it runs is not this machine's to stop."""

    def __init__(self, plan: Plan) -> None:
        kind = traits(plan.backend_kind)
        self.watched = not (kind.remote or kind.rehearsed)
        self.max_time = plan.max_time
        self.started = False

    def session_opened(self, session: SessionRecord) -> None:
        self.started = False  # each session (a multirun's backends in turn) counts its own max_time

    def jobs_started(self, jobs: list[JobPlan]) -> None:
        if self.watched and not self.started:
            self.started = True
            supervise.announce_deadline(time.time() + self.max_time, durations.format(self.max_time))

    def job_started(self, job: JobPlan) -> None:
        self.jobs_started([job])

    def session_closed(self, session: SessionRecord) -> None:
        if self.watched:
            supervise.announce_deadline(None)
