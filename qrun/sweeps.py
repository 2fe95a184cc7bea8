"""Sweep expansion and grouping: pure functions from a job's `sweep:` block to points and broadcast groups."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import SweepError

MAX_POINTS = 100_000
# Sweep variables that are not circuit parameters, by job kind.
SPECIAL = {"estimator": ("precision", "observable"), "sampler": ("shots",)}


def count(spec: Any) -> int:
    """How many values a variable has, by arithmetic alone: a 10^7-point linspace is refused without building it."""
    if isinstance(spec, list):
        return len(spec)
    ((kind, args),) = spec.items()
    if kind == "linspace":
        return max(int(args[2]), 0)
    start, stop, *rest = args
    step = rest[0] if rest else 1
    if step == 0:
        raise SweepError(f"range {args} has a step of 0", ("values",))
    if not all(math.isfinite(a) for a in (start, stop, step)):
        raise SweepError(f"range {args} must have finite numbers", ("values",))
    return max(0, math.ceil((stop - start) / step))


def points_in(sweep: dict[str, Any]) -> int:
    """How many points a sweep expands to (grid: the product; zip: the common length), without expanding it."""
    counts = [count(sweep["values"][n]) for n in sweep["values"]]
    if sweep.get("mode", "grid") == "zip":
        return max(counts, default=0)
    return math.prod(counts)


def values_of(spec: Any, name: str = "") -> list[Any]:
    """A variable's values: a list, {range: [start, stop, step]} (stop excluded) or {linspace: [start, stop, num]}."""
    if isinstance(spec, list):
        return list(spec)
    try:
        n = count(spec)
    except SweepError as e:
        raise SweepError(str(e), ("values", name)) from None
    if n == 0:
        raise SweepError(f"{spec} gives no values", ("values", name))
    # numpy's arithmetic (start + i * step, the endpoint set exactly) without numpy: validate stays light.
    ((kind, args),) = spec.items()
    if kind == "linspace":
        start, stop, num = args
        step = (stop - start) / (num - 1) if num > 1 else 0.0
        values = [float(start + i * step) for i in range(int(num))]
        if num > 1:
            values[-1] = float(stop)
        return values
    start, stop, *rest = args
    step = rest[0] if rest else 1
    if all(isinstance(a, int) for a in (start, stop, step)):
        return [start + i * step for i in range(n)]
    delta = (start + step) - start  # numpy's own step, rounding included
    return [float(start + i * delta) for i in range(n)]


def expand(sweep: dict[str, Any], limit: int | None = MAX_POINTS) -> list[dict[str, Any]]:
    """The points of a sweep, in order: grid is the cartesian product (last variable fastest), zip is lockstep.

    More than `limit` points (counted before anything is built) is a SweepError; None means no limit.
    """
    names = list(sweep["values"])
    if limit is not None:
        total = points_in(sweep)
        if total > limit:
            raise SweepError(
                f"the sweep has {total:,} points, more than the limit of {limit:,} "
                "(limits.sweep_points); raise it to allow more",
                ("values",),
            )
    columns = [values_of(sweep["values"][n], n) for n in names]
    if sweep.get("mode", "grid") == "zip":
        lengths = {n: len(c) for n, c in zip(names, columns)}
        if len(set(lengths.values())) > 1:
            listed = ", ".join(f"{n} has {k}" for n, k in lengths.items())
            raise SweepError(f"zip needs every variable to have as many values; {listed}", ("values",))
        rows: Iterable[tuple[Any, ...]] = zip(*columns)
    else:
        rows = itertools.product(*columns)
    return [dict(zip(names, row)) for row in rows]


@dataclass
class Group:
    """Points that differ only in parameter values or observables: ONE broadcast PUB, one runtime job."""

    setting: dict[str, Any]  # {"precision": p} or {"shots": n}
    points: list[int]  # indices into the job's points
    observables: list[str] = field(default_factory=list)
    rows: list[tuple[float, ...]] = field(default_factory=list)
    product: bool = False  # the points are exactly observables x rows, in any order
    where: list[tuple[int, int]] = field(default_factory=list)  # per point: (observable index, row index)


def group(
    points: list[dict[str, Any]],
    parameters: list[str],
    fixed: dict[str, float],
    setting_keys: tuple[str, ...],
    defaults: dict[str, Any],
) -> list[Group]:
    """Split resolved points into broadcast groups, one per distinct precision/shots setting, in first-seen order."""
    groups: dict[tuple, Group] = {}
    for i, point in enumerate(points):
        setting = {k: point.get(k, defaults.get(k)) for k in setting_keys}
        key = tuple(setting.values())
        g = groups.setdefault(key, Group(setting, []))
        g.points.append(i)
    for g in groups.values():
        rows: dict[tuple, int] = {}
        observables: dict[str, int] = {}
        for i in g.points:
            row = tuple(float(points[i].get(p, fixed.get(p, 0.0))) for p in parameters)
            ri = rows.setdefault(row, len(rows))
            oi = observables.setdefault(points[i].get("observable", ""), len(observables))
            g.where.append((oi, ri))
        g.rows = list(rows)
        g.observables = [o for o in observables if o]
        # A full grid goes out as observables (n, 1) x rows (m, k): each point reads its own (o, r) cell.
        g.product = len(set(g.where)) == len(g.where) == len(observables) * len(rows)
    return list(groups.values())
