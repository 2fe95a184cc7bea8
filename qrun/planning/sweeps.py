"""Sweep expansion and grouping: pure functions from a job's `sweep:` block to points and broadcast groups."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from ..errors import SweepError
from ..model.experiment import Sweep, SweepValues, count

# Points per runtime job on a local simulator. Aer's cost per point grows with a PUB's size; its rows, run as parallel
# experiments, are as fast in chunks of 500 as of 2,000, with a quarter less memory at the peak, and smaller chunks cost
# more CPU time (benchmarks/RESULTS.md, "Batches and chunks of 500, a fake device's batches of 2,000").
LOCAL_CHUNK = 500
# On the service each runtime job costs seconds of overhead; a chunk there is bounded only by the result's size.
SERVICE_CHUNK = 100_000


class Column(Sequence[Any]):
    """A range's or linspace's values computed when asked for: numpy's arithmetic (start + i * step, a linspace's
    endpoint set exactly) without numpy, so validate stays light, and a million-value linspace costs no memory (as
    a list of floats it was 32 MB)."""

    def __init__(self, spec: Mapping[str, list[float]], name: str = ""):
        try:
            self.n = count(spec)
        except SweepError as e:
            raise SweepError(str(e), ("values", name)) from None
        if self.n == 0:
            raise SweepError(f"{spec} gives no values", ("values", name))
        ((self.kind, args),) = spec.items()
        self.start, self.stop = args[0], args[1]
        if self.kind == "linspace":
            self.step = (self.stop - self.start) / (self.n - 1) if self.n > 1 else 0.0
            self.ints = False
        else:
            step = args[2] if len(args) > 2 else 1
            self.ints = all(isinstance(a, int) for a in args)
            self.step = step if self.ints else (self.start + step) - self.start  # numpy's own step, rounding included

    def __len__(self) -> int:
        return self.n

    def take(self, indices: Iterable[int]) -> list[Any]:
        """The values at `indices` (each in range): a chunk's values in one comprehension rather than a call a value.
        The one place the arithmetic is written; indexing and slicing read it here too."""
        start, step = self.start, self.step
        if self.kind == "linspace":
            last = self.n - 1 if self.n > 1 else -1
            stop = float(self.stop)
            return [stop if i == last else float(start + i * step) for i in indices]
        if self.ints:
            return [start + i * step for i in indices]
        return [float(start + i * step) for i in indices]

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return self.take(range(*i.indices(self.n)))
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return self.take((i % self.n,))[0]


def column(spec: SweepValues, name: str = "") -> Sequence[Any]:
    """A variable's values as Points reads them: a list's own, a range or linspace computed on demand."""
    return list(spec) if isinstance(spec, list) else Column(spec, name)


def ends(spec: SweepValues, name: str = "") -> list[Any]:
    """A variable's values to check one by one: a list's own, or a range's or linspace's first and last (the
    values between lie between them), so a 10^7-value linspace is checked without building it."""
    if isinstance(spec, list):
        return list(spec)
    count(spec)  # a bad range is reported at the sweep's values, as validate has always located it
    col = Column(spec, name)
    return col[:] if len(col) <= 2 else [col[0], col[-1]]


def memory_bytes() -> int:
    """The memory this process may use: the machine's physical memory, or less under an address-space limit."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        import resource  # POSIX only: where it is absent the machine's memory is the limit

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            total = min(total, soft)
    except (ImportError, ValueError, OSError):  # no resource module (Windows): the physical memory it is
        pass
    return int(total)


def point_bytes(sweep: Sweep, runs: str, observables: int = 1, shots: int = 0) -> int:
    """What one point's stored results take in memory when a reader loads them (qrun show, plot, qrun.load): a
    dict of its variables, then value/stderr/observable/exact, or counts of up to min(shots, 1,024) outcomes."""
    variables = len(sweep.values)
    if runs == "sampler":
        return 256 + 64 * variables + 96 * min(max(shots, 1), 1024)
    return (256 + 64 * (variables + 4)) * max(observables, 1)


def ceiling(sweep: Sweep, runs: str, observables: int = 1, shots: int = 0) -> int:
    """The most points this spec's sweep may have: what half of the memory holds of its stored results.

    A run streams its points to disk and holds one chunk at a time; the limit protects whoever reads them back.
    """
    return memory_bytes() // 2 // point_bytes(sweep, runs, observables, shots)


def check_size(sweep: Sweep, runs: str, observables: int = 1, shots: int = 0, limit: int | None = None) -> None:
    """A SweepError when the sweep has more points than `limit` (limits.sweep_points) or, without one, than memory
    allows (ceiling); counted by arithmetic, before anything is built. Also checks a zip's lengths."""
    total = sweep.size * (max(observables, 1) if runs == "estimator" else 1)
    if limit is not None and total > limit:
        raise SweepError(
            f"the sweep has {total:,} points, more than the limit of {limit:,} (limits.sweep_points); "
            "raise it to allow more",
            ("values",),
        )
    if limit is None and total > (most := ceiling(sweep, runs, observables, shots)):
        need = total * point_bytes(sweep, runs, observables, shots) / max(observables, 1) / 2**30
        raise SweepError(
            f"the sweep has {total:,} points, more than the {most:,} this machine's memory allows: their results "
            f"take about {need:,.1f} GiB to read back, more than half of the {memory_bytes() / 2**30:,.1f} GiB "
            "this process may use (limits.sweep_points sets the limit yourself)",
            ("values",),
        )
    if sweep.mode == "zip":
        _zip_lengths({n: count(v) for n, v in sweep.values.items()})


def _zip_lengths(lengths: dict[str, int]) -> None:
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{n} has {k}" for n, k in lengths.items())
        raise SweepError(f"zip needs every variable to have as many values; {listed}", ("values",))


class Points(Sequence[dict[str, Any]]):
    """A sweep's points in order, made on demand (a million-point grid is never a million dicts at once).

    Grid is the cartesian product (last variable fastest), zip is lockstep. An estimator that lists its observables
    measures each at every point: they are the innermost variable.
    """

    def __init__(self, sweep: Sweep, observables: list[str] | None = None):
        self.names = sweep.variables
        self.columns = [column(sweep.values[n], n) for n in self.names]
        self.zip = sweep.mode == "zip"
        if self.zip:
            lengths = {n: len(c) for n, c in zip(self.names, self.columns)}
            _zip_lengths(lengths)
            self.base = max(lengths.values(), default=0)
        else:
            self.base = math.prod(len(c) for c in self.columns)
        self.observables: list[str | None] = [*observables] if observables else [None]
        self.strides = [math.prod(len(c) for c in self.columns[k + 1 :]) for k in range(len(self.columns))]

    def __len__(self) -> int:
        return self.base * len(self.observables)

    def _point(self, i: int) -> dict[str, Any]:
        base, o = divmod(i, len(self.observables))
        if self.zip:
            point = {n: c[base] for n, c in zip(self.names, self.columns)}
        else:
            point = {n: c[(base // s) % len(c)] for n, c, s in zip(self.names, self.columns, self.strides)}
        if self.observables[o] is not None:
            point["observable"] = self.observables[o]
        return point

    def _points(self, start: int, stop: int) -> list[dict[str, Any]]:
        """Points start..stop-1, as _point makes each: every variable's values for the chunk's bases taken at once,
        then one dict a point (a call a point and a value was most of a long sweep's bookkeeping)."""
        if start >= stop:
            return []
        per = len(self.observables)
        bases = range(start // per, (stop - 1) // per + 1)
        values = []
        for c, s in zip(self.columns, self.strides):
            at = bases if self.zip else [(b // s) % len(c) for b in bases]
            values.append(c.take(at) if isinstance(c, Column) else [c[k] for k in at])
        rows = list(zip(*values)) if values else [()] * len(bases)
        names, first = self.names, bases[0]
        points = []
        for i in range(start, stop):
            b, o = divmod(i, per)
            point = dict(zip(names, rows[b - first]))
            if (observable := self.observables[o]) is not None:
                point["observable"] = observable
            points.append(point)
        return points

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, i: int | slice) -> dict[str, object] | list[dict[str, Any]]:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step == 1:
                return self._points(start, stop)
            return [self._point(k) for k in range(start, stop, step)]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._point(i % len(self))

    def chunks(self, size: int) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """(offset, points) for consecutive runs of at most `size` points."""
        for start in range(0, len(self), size):
            yield start, self[start : start + size]


Setting = dict[str, float | None]  # what a sweep point runs with: {"precision": p} or {"shots": n} (None: not given)


@dataclass
class Group:
    """Points that differ only in parameter values or observables: ONE broadcast PUB, one runtime job."""

    setting: Setting  # {"precision": p} or {"shots": n}
    points: list[int]  # indices into the job's points
    observables: list[str] = field(default_factory=list)
    rows: list[tuple[float, ...]] = field(default_factory=list)
    product: bool = False  # the points are exactly observables x rows, in any order
    where: list[tuple[int, int]] = field(default_factory=list)  # per point: (observable index, row index)


def group(
    points: list[dict[str, Any]],
    parameters: Sequence[str],
    fixed: dict[str, float],
    setting_keys: tuple[str, ...],
    defaults: Setting,
) -> list[Group]:
    """Split resolved points into broadcast groups, one per distinct precision/shots setting, in first-seen order."""
    groups: dict[tuple, Group] = {}
    first = points[0] if points else {}
    uniform = all(p.keys() == first.keys() for p in points)
    if uniform and not any(k in first for k in setting_keys):  # the usual sweep: one setting for every point
        setting = {k: defaults.get(k) for k in setting_keys}
        groups[tuple(setting.values())] = Group(setting, list(range(len(points))))
    else:
        for i, point in enumerate(points):
            setting = {k: point.get(k, defaults.get(k)) for k in setting_keys}
            key = tuple(setting.values())
            g = groups.setdefault(key, Group(setting, []))
            g.points.append(i)
    for g in groups.values():
        observables: dict[str, int] = {}
        obs = [observables.setdefault(str(points[i].get("observable", "")), len(observables)) for i in g.points]
        if uniform:
            g.rows, row_of = _rows_by_column(points, g.points, parameters, fixed)
        else:
            rows: dict[tuple, int] = {}
            row_of = [
                rows.setdefault(tuple(float(points[i].get(p, fixed.get(p, 0.0))) for p in parameters), len(rows))
                for i in g.points
            ]
            g.rows = list(rows)
        g.where = list(zip(obs, row_of))
        g.observables = [o for o in observables if o]
        # A full grid goes out as observables (n, 1) x rows (m, k): each point reads its own (o, r) cell.
        g.product = len(set(g.where)) == len(g.where) == len(observables) * len(g.rows)
    return list(groups.values())


def _rows_by_column(
    points: list[dict[str, Any]], indices: list[int], parameters: Sequence[str], fixed: dict[str, float]
) -> tuple[list[tuple[float, ...]], list[int]]:
    """The distinct parameter rows of points that all have the same keys, in first-seen order, and each point's
    row: the table is filled column by column (a million points, row by row in Python, was most of a long sweep's
    overhead), then deduplicated through a dict (numpy's unique over rows sorts, and was slower still)."""
    import numpy as np

    first = points[indices[0]]
    table = np.empty((len(indices), len(parameters)))
    for j, name in enumerate(parameters):
        table[:, j] = [points[i][name] for i in indices] if name in first else float(fixed.get(name, 0.0))
    rows: dict[tuple[float, ...], int] = {}
    row_of = [rows.setdefault(row, len(rows)) for row in map(tuple, table.tolist())]
    return list(rows), row_of
