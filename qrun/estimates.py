"""The time model of a plan: per-job estimates in seconds, and the budget verdict against max_time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import durations


@dataclass(frozen=True)
class Budget:
    """The sum of the estimates against max_time."""

    max_time: int
    total: float
    per_job: tuple[tuple[str, float], ...]

    @property
    def fits(self) -> bool:
        return self.total <= self.max_time

    @property
    def shortfall(self) -> float:
        return max(0.0, self.total - self.max_time)

    def explain(self) -> str:
        """The error text when the estimates do not fit, naming the largest jobs."""
        largest = sorted(self.per_job, key=lambda kv: -kv[1])[:3]
        names = ", ".join(f"{n} {durations.format(s)}" for n, s in largest)
        return (
            f"{durations.format(self.max_time)} ({self.max_time} s) is less than the sum of the job estimates, "
            f"{durations.format(self.total)} ({self.total:g} s); short by {durations.format(self.shortfall)}. "
            f"Largest: {names}. Raise max_time to at least {durations.format(self.total)} or lower the estimates"
        )


def declared(job: dict[str, Any]) -> float:
    """The job's declared estimate in seconds: per evaluation for minimize, so x (maxiter + 1)."""
    seconds = durations.parse(job["estimate"])
    if job.get("primitive") == "minimize":
        return float(seconds * evaluations(job))
    return float(seconds)


def evaluations(job: dict[str, Any]) -> int:
    """The most estimator evaluations a minimize job may make: maxiter + 1 (scipy's COBYLA can take one extra)."""
    return int((job.get("optimizer") or {}).get("maxiter", 100)) + 1


def budget(max_time: int, per_job: list[tuple[str, float]]) -> Budget:
    return Budget(max_time, float(sum(s for _, s in per_job)), tuple(per_job))
