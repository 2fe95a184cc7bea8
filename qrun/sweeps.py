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


def values_of(spec: Any, name: str = "") -> list[Any]:
    """A variable's values: a list, {range: [start, stop, step]} (stop excluded) or {linspace: [start, stop, num]}."""
    if isinstance(spec, list):
        return list(spec)
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
    if step == 0 or (stop - start) / step > MAX_POINTS:
        raise SweepError(f"range {args} gives no values or more than {MAX_POINTS}", ("values", name))
    count = max(0, math.ceil((stop - start) / step))
    if all(isinstance(a, int) for a in (start, stop, step)):
        return [start + i * step for i in range(count)]
    delta = (start + step) - start  # numpy's own step, rounding included
    return [float(start + i * delta) for i in range(count)]


def expand(sweep: dict[str, Any]) -> list[dict[str, Any]]:
    """The points of a sweep, in order: grid is the cartesian product (last variable fastest), zip is lockstep."""
    names = list(sweep["values"])
    columns = [values_of(sweep["values"][n], n) for n in names]
    if sweep.get("mode", "grid") == "zip":
        lengths = {n: len(c) for n, c in zip(names, columns)}
        if len(set(lengths.values())) > 1:
            listed = ", ".join(f"{n} has {k}" for n, k in lengths.items())
            raise SweepError(f"zip needs every variable to have as many values; {listed}", ("values",))
        rows: Iterable[tuple[Any, ...]] = zip(*columns)
    else:
        total = math.prod(len(c) for c in columns)
        if total > MAX_POINTS:
            raise SweepError(f"the grid has {total} points, more than {MAX_POINTS}", ("values",))
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
