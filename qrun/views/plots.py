"""Figures of a finished run (matplotlib, the optional `plot` extra): convergence, sweep curves, count histograms."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MissingExtraError, PlotError
from ..jobs.kind import floats, sigmas, unit_suffix
from ..jobs.registry import kind_of
from ..model.jobfile import JobFile
from ..model.readings import number
from ..model.records import JobEntry
from ..model.rows import HEAD, TAIL
from ..store.catalog import MANIFEST, discover
from ..store.derived import readings_of as derived_readings
from ..store.fsio import atomic_write_bytes, inside
from ..store.reader import load
from ..store.readings import Reading, job_readings, stated_exact
from ..store.records import stored_points
from ..store.specfile import read_spec
from .fitplots import write_fit_figures

if TYPE_CHECKING:
    from types import ModuleType

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PLOT_POINTS = 10_000
MAX_CATEGORIES = 20  # a swept key of names drawn side by side; more would not be read


def _stride(total: int) -> int:
    """Past PLOT_POINTS points, every k-th: a figure cannot show a million error bars apart anyway."""
    return max(1, -(-total // PLOT_POINTS))


def _drawn(body: JobFile) -> tuple[list[dict[str, object]], int, int]:
    """The sweep points a figure draws (every k-th past PLOT_POINTS), k, and how many points the sweep has."""
    points = body["points"]
    total = body.get("point_count", len(points))
    stride = _stride(total)
    if "point_count" not in body:  # a streamed sweep's points were read thinned already
        points = points[::stride]
    return points, stride, total


def _numeric(variables: Sequence[str], points: Sequence[Mapping[str, object]]) -> list[str]:
    """The swept variables a figure can take as its x axis: a number at every point."""
    return [v for v in variables if v != "observable" and all(isinstance(p.get(v), (int, float)) for p in points)]


def _shown(drawn: int, stride: int, total: int) -> str:
    """A sweep figure's title: "120 points", or "every 2nd of 12,000 points"."""
    if stride == 1:
        return f"{drawn:,} points"
    suffix = "th" if stride % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(stride % 10, "th")
    return f"every {stride:,}{suffix} of {total:,} points"


def plot_run(run_dir: Path, all_jobs: bool = False) -> tuple[list[Path], str | None]:
    """Write one PNG per plottable job into RUN_DIR/plots; returns their paths, and what was left out (None:
    nothing). PlotError when there is none. A multirun group folder gets its headlines against its swept keys
    instead (plot_group).

    Of a run of many plottable jobs, only the first HEAD and last TAIL are drawn unless `all_jobs`, as `qrun show`
    lists them: a run of 10,000 sampler jobs was 10,000 PNGs, a quarter of an hour (benchmarks/RESULTS.md)."""
    if (run_dir / MANIFEST).is_file():
        return plot_group(run_dir), None
    plt = pyplot()
    run = load(run_dir)
    jobs = read_spec(run_dir).get("jobs")
    exact = (
        {job.get("name"): job.get("exact") for job in jobs if isinstance(job, dict)} if isinstance(jobs, list) else {}
    )

    def draw(entry: JobEntry) -> Path | None:
        body = run.jobs.get(entry["name"])
        if body is not None and "points_file" in body:  # a long sweep: its points were streamed to their own file
            # only the points the figure shows are read (sweep_figure thins an inline sweep the same way)
            body = {**body, "points": stored_points(run_dir, body, _stride(body.get("point_count", 0)))}
        fig = figure_for(plt, body, exact.get(entry["name"]))
        if fig is None:
            return None
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        path = inside(run_dir, "plots", f"{entry['index']:02d}-{entry['name']}.png")
        atomic_write_bytes(path, buffer.getvalue())
        return path

    entries = run.metadata["jobs"]
    all_jobs = all_jobs or len(entries) <= HEAD + TAIL + 1
    head: list[Path] = []
    tail: list[Path] = []
    start, stop = 0, len(entries)
    while start < stop and (all_jobs or len(head) < HEAD):  # the first HEAD figures, however many jobs have none
        drawn = draw(entries[start])
        start += 1
        head += [drawn] if drawn else []
    while start < stop and len(tail) < TAIL:  # then the last TAIL, from the end
        stop -= 1
        drawn = draw(entries[stop])
        tail[:0] = [drawn] if drawn else []
    fits = write_fit_figures(plt, run_dir)
    if not head and not tail and not fits:
        kinds = ", ".join(
            sorted(
                {str(e.get("primitive")) + (" (not finished)" if e["name"] not in run.jobs else "") for e in entries}
            )
        )
        raise PlotError(
            f"nothing to plot in {run_dir}: its jobs are {kinds}; qrun plot draws minimize "
            "convergence, sweep curves, sampler histograms and ladders of finished jobs, and fitted derived values"
        )
    left_out = None
    if start < stop:
        first, last = entries[start]["name"], entries[stop - 1]["name"]
        which = first if stop - start == 1 else f"{first} to {last}"
        left_out = (
            f"… {stop - start:,} more job{'s' if stop - start > 1 else ''} ({which}) not drawn: "
            f"qrun plot {run_dir} --all draws every one"
        )
    return head + tail + fits, left_out


def pyplot() -> ModuleType:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; never a window
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("qrun plot needs matplotlib: pip install 'qrun[plot]'") from None
    return plt


def figure_for(plt: ModuleType, body: JobFile | None, exact: object) -> Figure | None:
    """The figure of one finished job, or None when that kind of job has none."""
    if not body or body.get("status") == "running":
        return None
    number = (
        float(exact) if isinstance(exact, int | float) and not isinstance(exact, bool) else None
    )  # "statevector": in the body
    with literal_text(plt):
        if "points" in body:
            estimator = kind_of(body["primitive"]).runs == "estimator"
            return sweep_figure(plt, body, number) if estimator else outcomes_figure(plt, body)
        return kind_of(body["primitive"]).figure(plt, body, number)


def literal_text(plt: ModuleType) -> AbstractContextManager[object]:
    """Figures made inside draw their text as it is: a unit, a job's parameter or a swept name may hold a `$`, which
    matplotlib would read as mathematics (and a malformed formula fails only when the figure is drawn)."""
    context: AbstractContextManager[object] = plt.rc_context({"text.parse_math": False})
    return context


def sweep_figure(plt: ModuleType, body: JobFile, exact: float | None) -> Figure | None:
    """Value with error bars against the first numeric swept variable, one line per observable (and other setting),
    with the exact curve where the job has `exact: statevector`."""
    points, stride, total = _drawn(body)
    numeric = _numeric(body["sweep"]["variables"], points)
    if not numeric:
        return None
    x = numeric[0]
    rest = [v for v in body["sweep"]["variables"] if v != x] + (
        ["observable"] if "observable" not in body["sweep"]["variables"] else []
    )
    series: dict[tuple, list[dict[str, object]]] = {}
    for p in points:
        series.setdefault(tuple(p.get(v) for v in rest), []).append(p)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, (key, pts) in enumerate(series.items()):
        label = ", ".join(f"{k}={v}" for k, v in zip(rest, key))
        pts = sorted(pts, key=lambda p: number(p[x]) or 0.0)
        ax.errorbar(
            [p[x] for p in pts],
            floats(p.get("value") for p in pts),
            yerr=sigmas(p.get("stderr") for p in pts),
            fmt="o",
            ms=3,
            lw=1,
            capsize=2,
            color=f"C{i % 10}",
            label=label,
        )
        if all("exact" in p for p in pts):
            named = (f"exact, {label}" if label else "exact") if len(series) == 1 else EXACT
            ax.plot([p[x] for p in pts], floats(p["exact"] for p in pts), "-", lw=1, color=f"C{i % 10}", label=named)
    if exact is not None:
        ax.axhline(exact, color="k", ls="--", lw=1, label=f"exact {exact:.6g}")
    observables = {str(p.get("observable")) if "observable" in p else None for p in points}
    only = observables.pop() if len(observables) == 1 else None
    shown = _shown(len(points), stride, total)
    ax.set_title(f"{body['job']}: {shown}")
    ax.set_xlabel(x)
    ax.set_ylabel((f"<{only}>" if only else "expectation value") + unit_suffix(body, only))
    legend(ax)
    ax.grid(alpha=0.3)
    return fig


EXACT = "_exact"  # an exact line among several series' ("_": no legend entry of its own; legend() adds one for all)
EXACT_LINES = "exact: the line of each colour"
LEGEND_INSIDE = 6  # entries a legend may hold over the axes; more covered the curves, so they go beside them


def legend(ax: Axes) -> None:
    """The axes' legend: one entry for the exact lines of several series, and over the axes while it is short,
    beside them (right, outside) past LEGEND_INSIDE entries."""
    exact = next((line for line in ax.get_lines() if line.get_label() == EXACT), None)
    if exact is not None:
        ax.plot([], [], ls=exact.get_linestyle(), lw=1, color="0.4", label=EXACT_LINES)
    if len(ax.get_legend_handles_labels()[1]) > LEGEND_INSIDE:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(fontsize="small")


OUTCOMES = 6  # lines of a sampler sweep's figure, per register: its most likely outcomes over all the points


def outcomes_figure(plt: ModuleType, body: JobFile) -> Figure | None:
    """A sampler sweep: each register's most likely outcomes, their probability against the first numeric swept
    variable (a binomial σ each), one panel per register and a line per outcome and other swept setting, and with
    `exact:` each outcome's ideal probability dashed beside it."""
    points, stride, total = _drawn(body)
    swept = body["sweep"]["variables"]
    numeric = _numeric(swept, points)
    registers = list(dict.fromkeys(reg for p in points for reg in _counts(p)))
    if not numeric or not registers:
        return None
    x = next((v for v in numeric if v != "shots"), numeric[0])
    rest = [v for v in swept if v != x]
    series: dict[tuple, list[dict[str, object]]] = {}
    for p in sorted(points, key=lambda p: number(p[x]) or 0.0):
        series.setdefault(tuple(p.get(v) for v in rest), []).append(p)
    shown = _shown(len(points), stride, total)
    fig, axes = plt.subplots(1, len(registers), figsize=(7 * len(registers), 4.2), squeeze=False)
    for ax, reg in zip(axes[0], registers):
        tallies = {id(p): (counts, sum(counts.values())) for p in points for counts in [_counts(p, reg)]}
        weight: dict[str, float] = {}
        for counts, shots in tallies.values():
            for o, n in counts.items():
                weight[o] = weight.get(o, 0.0) + n / shots
        likely = sorted(weight, key=lambda o: -weight[o])[:OUTCOMES]
        for i, (o, (key, pts)) in enumerate((o, item) for o in likely for item in series.items()):
            xs, ps, errs = [], [], []
            for p in pts:
                counts, shots = tallies[id(p)]
                if shots:
                    q = counts.get(o, 0) / shots
                    xs.append(p[x])
                    ps.append(q)
                    errs.append((q * (1 - q) / shots) ** 0.5)
            label = ", ".join([o, *(f"{k}={v}" for k, v in zip(rest, key))])
            ax.errorbar(xs, ps, yerr=errs, fmt="o-", ms=3, lw=1, capsize=2, color=f"C{i % 10}", label=label)
            ideal = [(p[x], _ideal(p, reg).get(o, 0.0)) for p in pts if _ideal(p, reg)]  # exact: dashed, same colour
            if ideal:
                ax.plot(*zip(*ideal), "--", lw=1, color=f"C{i % 10}", label="ideal" if i == 0 else None)
        left = len(weight) - len(likely)
        ax.set_title(f"{body['job']}: {shown}" + (f"; {left:,} less likely outcome(s) not drawn" if left else ""))
        ax.set_xlabel(x)
        ax.set_ylabel(f"probability ({reg})")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize="small", title="outcome")
        ax.grid(alpha=0.3)
    return fig


def _ideal(point: Mapping[str, object], register: str) -> dict[str, float]:
    """A sampler sweep point's ideal distribution of one register (`exact:`); {} where it has none."""
    ideal = point.get("ideal")
    one = ideal.get(register) if isinstance(ideal, dict) else None
    return one if isinstance(one, dict) else {}


def _counts(point: Mapping[str, object], register: str | None = None) -> dict[str, int]:
    """A sampler sweep point's counts by register, or one register's counts; {} where the file holds none."""
    counts = point.get("counts")
    if register is None or not isinstance(counts, dict):
        return counts if isinstance(counts, dict) else {}
    one = counts.get(register)
    return one if isinstance(one, dict) else {}


def group_figures(plt: ModuleType, points: list[tuple[dict[str, object], list[Reading]]]) -> list[tuple[str, Figure]]:
    """For a multirun group: each headline value (a value of the first parameter set, an optimum) against each
    swept key (a key of names, as the backend: its values side by side), one series per combination of the other
    keys, with error bars and the exact value."""
    with literal_text(plt):
        return _group_figures(plt, points)


def _group_figures(plt: ModuleType, points: list[tuple[dict[str, object], list[Reading]]]) -> list[tuple[str, Figure]]:
    keys = list(points[0][0]) if points else []
    # a sweep's points are its own figure's business: one value per point run, not one per sweep point
    headlines = list(
        dict.fromkeys((r.job, r.key) for _, readings in points for r in readings if r.index == 0 and not r.at)
    )
    figures: list[tuple[str, Figure]] = []
    for x in keys:
        numeric = all(isinstance(s.get(x), (int, float)) and not isinstance(s.get(x), bool) for s, _ in points)
        # a key of names (backend=fake_fez,fake_sherbrooke): its values side by side, in the order the points give them
        given = dict.fromkeys(str(s.get(x)) for s, _ in points)
        names = {} if numeric else {name: k for k, name in enumerate(given)}
        if not numeric and not 1 < len(names) <= MAX_CATEGORIES:
            continue
        others = [k for k in keys if k != x]
        for job, key in headlines:
            fig, ax = plt.subplots(figsize=(7, 4.2))
            series: dict[tuple, list[tuple[float, Reading]]] = {}
            for swept, readings in points:
                found = next((r for r in readings if (r.job, r.key) == (job, key) and r.index == 0 and not r.at), None)
                at = number(swept.get(x)) if numeric else names[str(swept.get(x))]
                if found is not None and at is not None:
                    series.setdefault(tuple(swept.get(k) for k in others), []).append((at, found))
            for i, (rest, pts) in enumerate(series.items()):
                pts.sort(key=lambda p: p[0])
                label = ", ".join(f"{k}={v}" for k, v in zip(others, rest)) or key
                ax.errorbar(
                    [p[0] for p in pts],
                    [p[1].value for p in pts],
                    yerr=sigmas(p[1].stderr for p in pts),
                    fmt="o-" if numeric else "o",  # no line between names: nothing lies between them
                    ms=4,
                    lw=1,
                    capsize=3,
                    color=f"C{i % 10}",
                    label=label,
                )
                if all(p[1].exact is not None for p in pts):
                    xs, ys = [p[0] for p in pts], [p[1].exact for p in pts]
                    style = {"ls": "--", "lw": 1} if numeric else {"ls": "", "marker": "_", "ms": 24}
                    ax.plot(xs, ys, **style, color=f"C{i % 10}", label=EXACT if len(series) > 1 else "exact")
            unit = next((r.unit for _, rs in points for r in rs if (r.job, r.key) == (job, key) and r.unit), None)
            ax.set_xlabel(x)
            if not numeric:
                ax.set_xticks(list(names.values()), list(names), rotation=30 if len(names) > 3 else 0)
                ax.set_xlim(-0.5, len(names) - 0.5)
            elif all(type(s.get(x)) is int for s, _ in points):  # a qubit, a count of steps: no tick at 0.25
                ax.xaxis.get_major_locator().set_params(integer=True)
            ax.set_ylabel(f"{job}: {key}" + (f" [{unit}]" if unit else ""))
            ax.set_title(f"{job}: {key} against {x}")
            legend(ax)
            ax.grid(alpha=0.3)
            fig.tight_layout()
            figures.append((f"{job}-{key.strip('<>').replace(' <', '-')}-vs-{x}", fig))
    return figures


def _first(body: JobFile | None) -> int | None:
    """How many of a job's values a group figure reads: a sweep's first (its points are not drawn here, and its
    file may hold millions), else all (a limit of 1 drew a job's first observable only)."""
    return 1 if body is not None and ("points" in body or "points_file" in body) else None


def plot_group(group: Path) -> list[Path]:
    """Write GROUP/plots/<job>-<value>-vs-<key>.png: each headline value of the points against each swept key, with
    error bars and the exact value (group_figures). PlotError when there is no such value or key."""

    plt = pyplot()
    points = []
    for found in discover(group):
        run = load(found.path)
        spec = read_spec(found.path)  # read once: the stated exact values and the derived block
        exact = stated_exact(spec)
        bodies = [(e["name"], run.jobs.get(e["name"])) for e in run.metadata["jobs"]]
        readings = [r for name, b in bodies for r in job_readings(found.path, b, exact.get(name), _first(b))]
        readings += derived_readings(spec, run.jobs, found.path)  # plotted like any value
        points.append((found.swept, readings))
    written = []
    for name, fig in group_figures(plt, points):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        path = inside(group, "plots", "".join(c if c.isalnum() or c in "=.,_-" else "_" for c in name) + ".png")
        atomic_write_bytes(path, buffer.getvalue())
        written.append(path)
    if not written:
        raise PlotError(
            f"nothing to plot in {group}: qrun plot draws a group's estimator values and minimize optima against "
            f"its swept keys (numbers, or up to {MAX_CATEGORIES} names), and this group has none of both"
        )
    return written
