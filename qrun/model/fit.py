"""A derived value fitted to a curve: a model in x and its parameters, fitted to results at each x (store/fits.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ..errors import DerivedError

MAX_POINTS = 1_000  # a curve is tens of points; derived.json keeps each fit's, and a view fits a stored spec's


@dataclass(frozen=True)
class Fit:
    """`t1: {fit: a * exp(-x / T1) + b, x: [0, 50], y: [t0.z, t50.z], start: {T1: 100, a: 1, b: 0}}`: the derived
    value is the parameter `value` (the first of `start` unless named), fitted by least squares to the y values at
    each x, weighted by their covariance."""

    model: str
    x: tuple[float, ...]  # empty until read from the run where `x_from` names a job's parameter (store/fits.resolved)
    y: tuple[str, ...]  # an expression for each x; or, `each`, one read at each x's parameter set or sweep point
    start: Mapping[str, float]
    value: str
    each: bool = False
    x_from: str = ""  # `x: rabi.theta`: the job's parameter (or swept variable) at each parameter set (or point)

    @classmethod
    def of(cls, raw: Mapping[str, object]) -> Fit:
        """The fit a spec's entry writes. A run's own spec passed the schema; a stored one read by a view is checked
        here, and a shape the schema refuses is a DerivedError, as any value that cannot be computed."""
        model, xs, ys, start = (raw.get(k) for k in ("fit", "x", "y", "start"))
        if not isinstance(model, str) or not model:
            raise DerivedError("a fit needs its model as text: fit: a * exp(-x / T) + b")
        x_from = xs if isinstance(xs, str) else ""
        if x_from:  # the job's name may hold dots, a parameter's name none
            job, dot, name = x_from.rpartition(".")
            if not (dot and job and name):
                raise DerivedError(f"x: '{x_from}' names no job's parameter: write it job.parameter, as rabi.theta")
            xs = []
        if not isinstance(xs, list) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in xs):
            raise DerivedError("a fit's x is a list of numbers, or a job's parameter: x: rabi.theta")
        each = isinstance(ys, str)  # y: e.z, read at [0], [1], ... as x has values
        if each:
            ys = [ys]
        if not isinstance(ys, list) or not all(isinstance(v, str) for v in ys):
            raise DerivedError("a fit's y is a list of expressions, one for each x, or one read at each x's index")
        if not each and not x_from and len(xs) != len(ys):
            raise DerivedError(f"a fit's x has {len(xs)} values and its y {len(ys)}; they pair one to one")
        if len(xs) > MAX_POINTS:
            raise DerivedError(f"a fit takes at most {MAX_POINTS:,} points")
        if not isinstance(start, Mapping) or not start:
            raise DerivedError("a fit needs a start value for each parameter: start: {T: 100, a: 1, b: 0}")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in start.values()):
            raise DerivedError("a fit's start values are numbers")
        if xs and len(xs) < len(start):
            raise DerivedError(too_few(len(xs), list(map(str, start)), "x has"))
        value = raw.get("value", next(iter(start)))
        if value not in start:
            raise DerivedError(f"value: '{value}' is not a parameter of start ({', '.join(map(str, start))})")
        return cls(
            model,
            tuple(float(v) for v in xs),
            tuple(ys),
            MappingProxyType({str(k): float(v) for k, v in start.items()}),
            str(value),
            each,
            x_from,
        )

    def text(self) -> str:
        """How views write it: "T1 of a * exp(-x / T1) + b, fitted at 4 points (x 0 to 300)"; "w of a * cos(w * x),
        fitted over rabi.theta" where x is read from the run."""
        if not self.x:
            return f"{self.value} of {self.model}, fitted over {self.x_from}"
        said = self.x_from or "x"
        return (
            f"{self.value} of {self.model}, fitted at {len(self.x)} points ({said} {min(self.x):g} to {max(self.x):g})"
        )

    @property
    def x_job(self) -> tuple[str, str]:
        """(job, parameter) that `x_from` names."""
        job, _, name = self.x_from.rpartition(".")
        return job, name


def too_few(points: int, parameters: list[str], said: str) -> str:
    """Why `points` cannot fit a model of these parameters: as many points at least (scipy's curve_fit refuses
    fewer, and one each leaves the fit no error)."""
    return (
        f"{said} {points:,} value{'s' * (points != 1)}; a fit of {len(parameters)} parameters "
        f"({', '.join(parameters)}) needs at least {len(parameters)} points"
    )
