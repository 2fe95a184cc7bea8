"""The budget: the summed job estimates plus the margin, against max_time, and what to say when they do not fit."""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import durations
from .defaults import DEFAULT_MAX_TIME_LIMIT

LONGEST = 30 * 86400  # the longest max_time the schema accepts


@dataclass(frozen=True)
class Budget:
    """The summed estimates plus the margin, against max_time."""

    max_time: int
    total: float
    per_job: tuple[tuple[str, float], ...]
    margin: float = 0.0
    limit: int = DEFAULT_MAX_TIME_LIMIT  # the longest session the spec may ask for (max_time_limit)
    rehearsal: str | None = None  # a fake device: the real device whose time these estimates rehearse
    local: bool = False  # aer: nothing is billed, and the budget only informs

    @property
    def needed(self) -> float:
        return self.total + self.margin

    @property
    def fits(self) -> bool:
        return self.needed <= self.max_time

    def explain(self) -> str:
        """The error text when the estimates do not fit, naming the largest jobs."""
        largest = sorted(self.per_job, key=lambda kv: -kv[1])[:3]
        names = ", ".join(f"{n} {durations.format(s)}" for n, s in largest)
        with_margin = f" plus the {durations.format(self.margin)} margin" if self.margin >= 0.5 else ""
        needed = math.ceil(self.needed)  # whole seconds, rounded up: the advice must be enough
        rehearsing = f" (rehearsing {self.rehearsal}: the time the real device would take)" if self.rehearsal else ""
        if needed <= min(self.limit, LONGEST):
            advice = f"Raise max_time to at least {durations.format(needed)} or lower the estimates"
        else:  # advice qrun itself would refuse is no advice: past the longest session, only less work helps
            advice = (
                f"No session may last that long (max_time_limit {durations.format(min(self.limit, LONGEST))}): "
                "lower the work (precision, shots, maxiter, sweep points) or split the jobs over several runs"
            )
        return (
            f"{durations.format(self.max_time)} ({self.max_time} s) is less than the sum of the job estimates"
            f"{rehearsing}{with_margin}, {durations.format(self.needed)} ({round(self.needed, 1):g} s); short by "
            f"{durations.format(needed - self.max_time)}. Largest: {names}. {advice}"
        )

    def overruns(self) -> list[str]:
        """On aer, where nothing is billed and no plan is refused, each job a run will still not finish: max_time's
        clock starts with the first job, a later job whose own estimate is longer than what is left of it is not
        sent (the runner's check on every backend), and a job still computing past it is stopped (app/watchdog.py)."""
        if not self.local or self.total <= self.max_time:  # no job can pass it alone: most runs, in one comparison
            return []
        return [
            f"warning: jobs[{k}] ({name}): estimated at {_short(seconds)} of wall time on this machine, more than "
            f"max_time ({durations.format(self.max_time)}): aer bills nothing, but "
            + (
                "a run starts no job whose estimate is longer than what is left of max_time"
                if k
                else "a job still computing when max_time has passed is stopped"  # the `qrun` command's supervisor
            )
            + "; raise max_time to run it"
            for k, (name, seconds) in enumerate(self.per_job)
            if seconds > self.max_time
        ]

    def verdict(self) -> str:
        share = self.needed / self.max_time * 100 if self.max_time else float("inf")
        if self.local:
            return (
                f"local: about {_short(self.total)} of wall time on this machine; aer bills nothing, so the "
                f"budget does not apply (max_time {durations.format(self.max_time)} only stops a runaway run)"
            )
        head = "fits" if self.fits else "does NOT fit"
        rehearsing = f"rehearsing {self.rehearsal}, the time the real device would take: " if self.rehearsal else ""
        return (
            f"{rehearsing}{head}: {durations.format(self.total)} estimated + {durations.format(self.margin)} "
            f"margin = {durations.format(self.needed)} of max_time {durations.format(self.max_time)} ({share:.0f}%)"
        )


def _short(seconds: float) -> str:
    return durations.format(seconds) if seconds >= 1 else f"{seconds:.2g} s"
