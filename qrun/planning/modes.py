"""The execution mode a spec's jobs need: a session only where a job needs an earlier job's result, else a batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..jobs.registry import kind_of
from ..model.plan import Block, JobPlan

if TYPE_CHECKING:
    from ..model.experiment import Job

AUTO = "auto"
INTERACTIVE_TTL = 60.0  # s: IBM's default interactive timeout of a session (its details() may say otherwise)


def needs_session(jobs: Sequence[Job]) -> str | None:
    """Why the jobs need a session (a job uses an earlier one's result, or its kind waits on itself, as a minimize
    loop does), or None."""
    for job in jobs:
        if job.source is not None:
            return f"job '{job.name}' uses the result of job '{job.source}', so they run in order"
    for job in jobs:
        if (why := kind_of(job.primitive).session_reason(job)) is not None:
            return why
    for job in jobs:
        if job.dependent:
            return f"job '{job.name}' is marked dependent: it runs in a session with the job before it"
    return None


def resolve(asked: str, jobs: Sequence[Job]) -> tuple[str, str]:
    """(session or batch, why). IBM advises batch unless a job needs an earlier job's result: a session bills its
    wall-clock time, idle time included, and a batch the QPU time alone; and an Open Plan instance has no sessions."""
    if asked != AUTO:
        return asked, f"as the spec says (mode: {asked})"
    why = needs_session(jobs)
    if why is not None:
        return "session", why
    return "batch", RUN_BATCH_WHY


RUN_BATCH_WHY = "no job needs another's result, and a batch bills QPU time only (a session, its wall-clock time)"


BATCH_WHY = "no job in it needs another's result while it runs, and a batch bills QPU time only (a session, its wall-clock time)"


def session_asked(asked: str, jobs: Sequence[Job]) -> tuple[bool, str | None]:
    """Whether the spec asks for a session in so many words, which an Open Plan instance refuses (mode: auto otherwise
    runs there as a batch): mode: session, or under auto a job marked dependent (then its name)."""
    if asked == "session":
        return True, None
    marked = next((job.name for job in jobs[1:] if job.dependent), None) if asked == AUTO else None
    return marked is not None, marked


def without_sessions(jobs: Sequence[Job]) -> str:
    """Why an Open Plan instance's run of mode: auto is one batch, where a paid plan's would have had a session
    around a job whose kind waits on itself (a minimize loop)."""
    why = next((r for job in jobs if (r := kind_of(job.primitive).session_reason(job)) is not None), None)
    if why is None:
        return RUN_BATCH_WHY
    return (
        f"an Open Plan instance has no sessions, so a batch, though {why}; in a batch each may wait in the queue (a "
        "session, on a paid plan, would hold the device between them)"
    )


def blocks(asked: str, jobs: Sequence[JobPlan], sessions: bool = True) -> list[Block]:
    """The plan's jobs cut into blocks. mode: session or batch is one block of that mode. mode: auto opens a session
    only around jobs that need an earlier job's result while they run: a job whose kind says so (a minimize
    loop: each evaluation waits for the one before), and the jobs right after it that take its optimum (they stay in its session rather than queue
    again), and any job the spec marks `dependent: true` with the job before it; every other run of jobs goes out as
    a batch.

    `sessions` False: the instance is on the Open Plan, which opens none (IBM: its workloads run in job or batch
    mode), so mode: auto sends everything as one batch; qrun submits a job only once the result it takes is in, so
    the order holds. (A spec that asks for a session in so many words is refused before: session_asked.)"""
    if not jobs:
        return []
    if asked != AUTO:
        return [Block(asked, f"as the spec says (mode: {asked})", 0, len(jobs))]
    if not sessions:
        return [Block("batch", without_sessions([job.job for job in jobs]), 0, len(jobs))]
    # Each run's (mode, reason, start), and its stop apart, while the runs grow: making a frozen Block each time a run
    # grew by a job made 10,000 Blocks for a batch of 10,000 jobs.
    runs: list[tuple[str, str, int]] = []
    stops: list[int] = []
    for i, job in enumerate(jobs):
        in_session = bool(runs) and runs[-1][0] == "session"
        if (loop := kind_of(job.primitive).session_reason(job.job)) is not None:
            mode, why = "session", loop
        elif (job.parameter_source is not None or job.job.dependent) and in_session:
            mode, why = "session", ""
        elif job.job.dependent and i > 0:
            # the spec says this job needs the one before it while it runs: both go in a session of their own
            if runs and stops[-1] - runs[-1][2] == 1:
                runs.pop()
                stops.pop()
            elif runs:
                stops[-1] = i - 1
            runs.append(("session", f"job '{job.name}' is marked dependent on job '{jobs[i - 1].name}'", i - 1))
            stops.append(i + 1)
            continue
        else:
            mode, why = "batch", BATCH_WHY
        if runs and runs[-1][0] == mode:
            stops[-1] = i + 1
        else:
            runs.append((mode, why, i))
            stops.append(i + 1)
    return [Block(mode, reason, start, stop) for (mode, reason, start), stop in zip(runs, stops, strict=True)]


def overall(asked: str, cut: list[Block], jobs: Sequence[Job], sessions: bool = True) -> tuple[str, str]:
    """(session or batch, why) for the run as a whole: a session when any block is one (the Open Plan check and the
    idle-gap warnings ask this), with the blocks named when there is more than one."""
    if not sessions and len(cut) == 1 and asked == AUTO:
        return cut[0].mode, cut[0].reason  # an Open Plan instance's one batch, and why
    if len(cut) <= 1:
        return resolve(asked, jobs)
    mode = "session" if any(b.mode == "session" for b in cut) else "batch"
    opened = sum(b.mode == "session" for b in cut)
    return mode, (
        f"{len(cut) - opened} batch(es) of independent jobs and {opened} session(s) around the jobs that need an "
        "earlier result while they run"
    )
