"""What a job's run produced, and the job states: the types execute hands to results (both import them from here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import sweeps

SESSION_EXPIRED = "not run: session expired"
STOPPED_DEADLINE = "stopped: deadline"
FINISHED = ("done", STOPPED_DEADLINE)  # job states whose results a resumed run keeps
# Job statuses after which nothing more will happen; the service reports e.g. "CANCELLED - RAN TOO LONG".
FINAL_STATUS_PREFIXES = ("DONE", "ERROR", "CANCELLED")


def is_final(status: Any) -> bool:
    """True for a runtime job status that will not change again, including the whole CANCELLED family."""
    text = str(getattr(status, "name", status)).upper()
    return text.startswith(FINAL_STATUS_PREFIXES)


@dataclass
class MinimizeOutcome:
    """What a minimize job found: every evaluation, the optimum, and how scipy (or the deadline) ended it."""

    trace: list[dict[str, Any]]
    optimum: dict[str, Any]
    nfev: int
    message: str
    success: bool
    stopped: str | None
    result: Any = field(repr=False)  # the PrimitiveResult of the evaluation that gave the optimum's value


@dataclass
class SweepOutcome:
    """A swept job's broadcast groups and the PrimitiveResult of each (one runtime job per group)."""

    groups: list[sweeps.Group]
    results: list[Any] = field(repr=False)

    @property
    def result(self) -> Any:
        """One PrimitiveResult holding each group's PUB result, in group order."""
        from qiskit.primitives import PrimitiveResult  # deferred: results reads outcomes without qiskit

        return PrimitiveResult([r[0] for r in self.results], metadata={"groups": [g.setting for g in self.groups]})
