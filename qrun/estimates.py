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


GRADIENT_METHODS = ("BFGS", "L-BFGS-B", "CG", "SLSQP", "TNC", "trust-constr")
DEFAULT_MAXITER = 100


def declared(job: dict[str, Any], num_parameters: int = 0) -> float:
    """The job's declared estimate in seconds: per evaluation for minimize, per point for a sweep."""
    seconds = durations.parse(job["estimate"])
    if job.get("primitive") == "minimize":
        return float(seconds * evaluations(job, num_parameters))
    if job.get("sweep"):
        return float(seconds * points(job))
    return float(seconds)


def points(job: dict[str, Any]) -> int:
    """How many sweep points a job expands to; the estimate of a swept job is per point."""
    from .sweeps import expand

    return len(expand(job["sweep"])) if job.get("sweep") else 1


def evaluations(job: dict[str, Any], num_parameters: int = 0) -> int:
    """The most estimator evaluations a minimize job may make, which qrun also enforces.

    maxiter optimizer steps plus one final evaluation at the optimum. With a finite-difference gradient each step
    also costs num_parameters (2-point) or 2 x num_parameters (3-point) evaluations.
    """
    optimizer = job.get("optimizer") or {}
    per_step = 1 + {"2-point": 1, "3-point": 2}.get(optimizer.get("jac"), 0) * num_parameters
    return int(optimizer.get("maxiter", DEFAULT_MAXITER)) * per_step + 1


def budget(max_time: int, per_job: list[tuple[str, float]]) -> Budget:
    return Budget(max_time, float(sum(s for _, s in per_job)), tuple(per_job))
