"""What a job's run produced, and the job states: the types the runner hands to results (both import them from here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from ..planning import sweeps
from .records import Evaluation, Optimum

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

SESSION_EXPIRED = "not run: session expired"
STOPPED_DEADLINE = "stopped: deadline"
FINISHED = ("done", STOPPED_DEADLINE)  # job states whose results a resumed run keeps
# Job statuses after which nothing more will happen; the service reports e.g. "CANCELLED - RAN TOO LONG".
FINAL_STATUS_PREFIXES = ("DONE", "ERROR", "CANCELLED")


def is_final(status: object) -> bool:
    """True for a runtime job status that will not change again, including the whole CANCELLED family."""
    text = str(getattr(status, "name", status)).upper()
    return text.startswith(FINAL_STATUS_PREFIXES)


@dataclass
class MinimizeOutcome:
    """What a minimize job found: every evaluation, the optimum, and how scipy (or the deadline) ended it."""

    trace: list[Evaluation]
    optimum: Optimum
    nfev: int
    message: str
    success: bool
    stopped: str | None
    result: PrimitiveResult = field(repr=False)  # the PrimitiveResult of the evaluation that gave the optimum's value


@dataclass
class SweepOutcome:
    """A swept job's settings (precision or shots) with how many points each had, how many runtime jobs it took,
    and each runtime job's (setting, PrimitiveResult), kept for a sweep short enough for its JSON file, else none."""

    settings: list[dict[str, float | None]]  # each setting of the sweep's, and its "points"
    runtime_jobs: int
    results: list[tuple[sweeps.Setting, PrimitiveResult]] = field(repr=False)

    def add(self, groups: list[sweeps.Group], results: list[PrimitiveResult]) -> None:
        """Count one chunk's groups (one runtime job each) under their settings, in first-seen order."""
        for g in groups:
            entry = next((e for e in self.settings if all(e[k] == v for k, v in g.setting.items())), None)
            if entry is None:
                self.settings.append({**g.setting, "points": 0})
                entry = self.settings[-1]
            entry["points"] = (entry["points"] or 0) + len(g.points)
        self.runtime_jobs += len(groups)
        self.results += [(g.setting, r) for g, r in zip(groups, results)]

    @property
    def result(self) -> PrimitiveResult | None:
        """One PrimitiveResult holding each runtime job's PUB result, in order (None when none were kept)."""
        from qiskit.primitives import PrimitiveResult  # deferred: results reads outcomes without qiskit

        if not self.results:
            return None
        return PrimitiveResult([r[0] for _, r in self.results], metadata={"groups": [s for s, _ in self.results]})


JobResult: TypeAlias = "PrimitiveResult | MinimizeOutcome | SweepOutcome"  # what running a job gives its payload


def primitive_result(result: JobResult) -> PrimitiveResult:
    """The PrimitiveResult of a kind that runs one primitive (a minimize loop's or a sweep's outcome is none)."""
    if isinstance(result, MinimizeOutcome | SweepOutcome):
        raise TypeError(f"a {type(result).__name__} where a PrimitiveResult belongs")
    return result
