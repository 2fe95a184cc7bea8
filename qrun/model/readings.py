"""A value a finished job holds, as every view reads it: value, standard error, exact value, deviation, unit."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Reading:
    """One value of a finished job. `key` names it within its job: an observable, the optimum, a sweep point."""

    job: str
    key: str
    index: int  # the parameter set or sweep point (0 for an optimum)
    value: float
    stderr: float | None
    exact: float | None
    unit: str | None = None
    at: str = ""  # a sweep point's variables, "theta=0.1, observable=zz"

    @property
    def deviation(self) -> float | None:
        """(value - exact) / stderr: how many standard errors the value lies from the exact one."""
        if self.exact is None or self.stderr is None or not self.stderr > 0:
            return None
        return (self.value - self.exact) / self.stderr


def number(value: object) -> float | None:
    """A finite number as a float; None for anything else (a stored file is untrusted input)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
