"""Figures of a finished run (matplotlib, the optional `plot` extra): convergence, sweep curves, count histograms."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from ..errors import MissingExtraError, PlotError
from ..store.catalog import MANIFEST
from ..store.derived import readings_of as derived_readings
from ..store.fsio import atomic_write_bytes, inside
from ..store.reader import load, read_spec
from ..store.readings import Reading, job_readings, stated_exact
from ..store.records import stored_points

PLOT_POINTS = 10_000


def _stride(total: int) -> int:
    """Past PLOT_POINTS points, every k-th: a figure cannot show a million error bars apart anyway."""
    return max(1, -(-total // PLOT_POINTS))


def ladder_figure(plt: Any, body: dict[str, Any]) -> Any:
    """A mitigation ladder: each observable's |value - exact| (± σ) against each rung's estimated QPU seconds, the
    target error as a line; None without exact values."""
    rungs = body["rungs"]
    if not any(r.get("error") is not None for r in rungs):
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    xs = list(range(len(rungs)))  # rungs in order: two may cost the same (dd adds no shots)
    for obs in rungs[0]["observables"]:
        errors = [abs(r["observables"][obs]["values"][0] - r["observables"][obs]["exact"][0]) for r in rungs]
        sigmas = [r["observables"][obs]["stderrs"][0] for r in rungs]
        ax.errorbar(xs, errors, yerr=sigmas, marker="o", capsize=3, label=f"<{obs}>")
    ax.set_xticks(xs, [f"{r['rung']}\n{r['estimated_qpu_seconds']:.3g} s" for r in rungs])
    if "target_error" in body:
        ax.axhline(body["target_error"], color="grey", linestyle="--", label=f"target {body['target_error']:g}")
    ax.set_xlabel("rung, and its estimated QPU seconds")
    ax.set_ylabel("|value - exact|")
    ax.set_title(
        f"{body['job']}: error against cost, per rung"
        + (f" (cheapest: {body['cheapest']})" if body.get("cheapest") else "")
    )
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_run(run_dir: Path) -> list[Path]:
    """Write one PNG per plottable job into RUN_DIR/plots; returns their paths. PlotError when there is none.
    A multirun group folder gets its headlines against its swept keys instead (plot_group)."""
    if (run_dir / MANIFEST).is_file():
        return plot_group(run_dir)
    plt = pyplot()
    run = load(run_dir)
    jobs = read_spec(run_dir).get("jobs")
    exact = (
        {job.get("name"): job.get("exact") for job in jobs if isinstance(job, dict)} if isinstance(jobs, list) else {}
    )
    written = []
    for entry in run.metadata["jobs"]:
        body = run.jobs.get(entry["name"])
        if body is not None and "points_file" in body:  # a long sweep: its points were streamed to their own file
            # only the points the figure shows are read (sweep_figure thins an inline sweep the same way)
            body = {**body, "points": stored_points(run_dir, body, _stride(body.get("point_count", 0)))}
        fig = figure_for(plt, body, exact.get(entry["name"]))
        if fig is None:
            continue
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        path = inside(run_dir, "plots", f"{entry['index']:02d}-{entry['name']}.png")
        atomic_write_bytes(path, buffer.getvalue())
        written.append(path)
    if not written:
        kinds = ", ".join(
            sorted(
                {
                    str(e["primitive"]) + (" (not finished)" if e["name"] not in run.jobs else "")
                    for e in run.metadata["jobs"]
                }
            )
        )
        raise PlotError(
            f"nothing to plot in {run_dir}: its jobs are {kinds}; qrun plot draws minimize "
            "convergence, swept estimator curves, sampler histograms and ladders of finished jobs"
        )
    return written


def pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; never a window
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("qrun plot needs matplotlib: pip install 'qrun[plot]'") from None
    return plt


def figure_for(plt: Any, body: dict[str, Any] | None, exact: Any) -> Any:
    """The figure of one finished job, or None when that kind of job has none."""
    if not body or body.get("status") == "running":
        return None
    number = exact if isinstance(exact, (int, float)) else None
    if "points" in body:
        return sweep_figure(plt, body, number) if body["primitive"] == "estimator" else None
    if body["primitive"] == "minimize":
        return convergence_figure(plt, body, body.get("exact", number))
    if body["primitive"] == "sampler":
        return histogram_figure(plt, body)
    if body["primitive"] == "ladder":
        return ladder_figure(plt, body)
    return None


def _unit(body: dict[str, Any], observable: str | None = None) -> str:
    units = {v.get("unit") for k, v in (body.get("observables") or {}).items() if observable in (None, k)}
    units |= {u for k, u in (body.get("units") or {}).items() if observable in (None, k)}  # a sweep's
    units |= {body["unit"]} if body.get("unit") else set()
    units.discard(None)
    return f" [{units.pop()}]" if len(units) == 1 else ""


def convergence_figure(plt: Any, body: dict[str, Any], exact: float | None) -> Any:
    """Every evaluation with its error bar, the re-estimated optimum marked, and the exact value where known.

    No "best so far" line: the lowest of many noisy values is biased low; the optimum qrun reports is a fresh
    estimate at the optimizer's final point, drawn as such.
    """
    trace = body["trace"]
    n = [t["evaluation"] for t in trace]
    values = [t["value"] for t in trace]
    unit = _unit(body)
    if exact is None:
        fig, ax = plt.subplots(figsize=(7, 4.2))
    else:  # a second panel shows the approach to the exact value, invisible on the first panel's scale
        fig, (ax, err) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
        err.semilogy(
            n, [max(abs(v - exact), 1e-9) for v in values], ".", ms=4, color="C0", label="|evaluation - exact|"
        )
        err.set_xlabel("evaluation")
        err.set_ylabel(f"|<{body['observable']}> - exact|{unit}")
        err.legend(fontsize="small")
        err.grid(alpha=0.3, which="both")
    ax.errorbar(
        n, values, yerr=sigmas(t.get("stderr") for t in trace), fmt=".", ms=4, lw=0.8, alpha=0.6, label="evaluation"
    )
    opt = body["optimum"]
    at = (
        len(trace) + 1
        if opt.get("final_evaluation")
        else n[values.index(opt["value"])]
        if opt["value"] in values
        else n[-1]
    )
    ax.errorbar(
        [at],
        [opt["value"]],
        yerr=sigmas([opt.get("stderr")]),
        fmt="*",
        ms=12,
        color="C3",
        capsize=3,
        label=f"optimum {opt['value']:.6g} ± {_sigma_text(opt.get('stderr'))}"
        + (" (re-estimated)" if opt.get("final_evaluation") else ""),
    )
    if exact is not None:
        ax.axhline(exact, color="k", ls="--", lw=1, label=f"exact {exact:.6g}")
    ax.set_title(f"{body['job']}: {body['optimizer']['method']}, {body['nfev']} evaluations")
    if exact is None:
        ax.set_xlabel("evaluation")
    ax.set_ylabel(f"<{body['observable']}>{unit}")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def sweep_figure(plt: Any, body: dict[str, Any], exact: float | None) -> Any:
    """Value with error bars against the first numeric swept variable, one line per observable (and other setting),
    with the exact curve where the job has `exact: statevector`."""
    points = body["points"]
    total = body.get("point_count", len(points))
    stride = _stride(total)
    if "point_count" not in body:  # a streamed sweep's points were read thinned already
        points = points[::stride]
    numeric = [
        v
        for v in body["sweep"]["variables"]
        if v != "observable" and all(isinstance(p.get(v), (int, float)) for p in points)
    ]
    if not numeric:
        return None
    x = numeric[0]
    rest = [v for v in body["sweep"]["variables"] if v != x] + (
        ["observable"] if "observable" not in body["sweep"]["variables"] else []
    )
    series: dict[tuple, list[dict[str, Any]]] = {}
    for p in points:
        series.setdefault(tuple(p.get(v) for v in rest), []).append(p)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, (key, pts) in enumerate(series.items()):
        label = ", ".join(f"{k}={v}" for k, v in zip(rest, key))
        pts = sorted(pts, key=lambda p: p[x])
        ax.errorbar(
            [p[x] for p in pts],
            [p["value"] for p in pts],
            yerr=sigmas(p.get("stderr") for p in pts),
            fmt="o",
            ms=3,
            lw=1,
            capsize=2,
            color=f"C{i % 10}",
            label=label,
        )
        if all("exact" in p for p in pts):
            ax.plot(
                [p[x] for p in pts],
                [p["exact"] for p in pts],
                "-",
                lw=1,
                color=f"C{i % 10}",
                label=f"exact, {label}" if label else "exact",
            )
    if exact is not None:
        ax.axhline(exact, color="k", ls="--", lw=1, label=f"exact {exact:.6g}")
    observables = {p.get("observable") for p in points}
    only = observables.pop() if len(observables) == 1 else None
    shown = f"{len(points):,} points" if stride == 1 else f"every {stride}th of {total:,} points"
    ax.set_title(f"{body['job']}: {shown}")
    ax.set_xlabel(x)
    ax.set_ylabel((f"<{only}>" if only else "expectation value") + _unit(body, only))
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def histogram_figure(plt: Any, body: dict[str, Any]) -> Any:
    """Counts of the first parameter set per classical register, over EVERY outcome of the register (those that
    never occurred too), with the ideal distribution beside them when the job has `exact: statevector`."""
    registers = body["counts"]
    ideal = body.get("ideal") or {}
    widths = {reg: len(next(iter(sets[0]), "0")) for reg, sets in registers.items()}
    size = max(2**w for w in widths.values())
    fig, axes = plt.subplots(
        1, len(registers), figsize=(max(5, 1.0 + 0.45 * min(size, 64)) * len(registers), 4.2), squeeze=False
    )
    for ax, (reg, sets) in zip(axes[0], registers.items()):
        w = widths[reg]
        # every outcome when there are few; past 64, the ones seen or expected (a full axis would be unreadable)
        seen = set(sets[0]) | set((ideal.get(reg) or [{}])[0])
        outcomes = [format(i, f"0{w}b") for i in range(2**w)] if w <= 6 else sorted(seen)
        shots = body["shots"] or sum(sets[0].values())
        measured = [sets[0].get(o, 0) / shots for o in outcomes]
        xs = range(len(outcomes))
        if reg in ideal:
            ax.bar([i - 0.2 for i in xs], measured, width=0.4, label="measured")
            ax.bar([i + 0.2 for i in xs], [ideal[reg][0].get(o, 0.0) for o in outcomes], width=0.4, label="ideal")
            ax.legend(fontsize="small")
        else:
            ax.bar(list(xs), measured, label="measured")
        ax.set_xticks(list(xs), outcomes)
        ax.set_title(f"{body['job']}: register {reg}, {shots} shots")
        ax.set_xlabel(f"outcome ({reg})")
        ax.set_ylabel("probability")
        ax.tick_params(axis="x", rotation=90 if len(outcomes) > 8 else 0)
    fig.tight_layout()
    return fig


def sigmas(values: Any) -> list[float]:
    """Error bars matplotlib accepts: a missing, negative or non-finite standard error (a job whose noise model gave
    none, or a fit that fell back to no weights) draws no bar instead of failing the figure."""
    out = []
    for v in values:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
        out.append(float(v) if ok else math.nan)
    return out


def _sigma_text(value: Any) -> str:
    (sigma,) = sigmas([value])
    return f"{sigma:.2g}" if math.isfinite(sigma) else "σ unknown"


def group_figures(plt: Any, points: list[tuple[dict[str, Any], list[Reading]]]) -> list[tuple[str, Any]]:
    """For a multirun group: each headline value (a value of the first parameter set, an optimum) against each
    numeric swept key, one line per combination of the other keys, with error bars and the exact value."""
    keys = list(points[0][0]) if points else []
    # a sweep's points are its own figure's business: one value per point run, not one per sweep point
    headlines = list(
        dict.fromkeys((r.job, r.key) for _, readings in points for r in readings if r.index == 0 and not r.at)
    )
    figures: list[tuple[str, Any]] = []
    for x in keys:
        if not all(
            isinstance(swept.get(x), (int, float)) and not isinstance(swept.get(x), bool) for swept, _ in points
        ):
            continue
        others = [k for k in keys if k != x]
        for job, key in headlines:
            fig, ax = plt.subplots(figsize=(7, 4.2))
            series: dict[tuple, list[tuple[float, Reading]]] = {}
            for swept, readings in points:
                found = next((r for r in readings if (r.job, r.key) == (job, key) and r.index == 0 and not r.at), None)
                if found is not None:
                    series.setdefault(tuple(swept.get(k) for k in others), []).append((float(swept[x]), found))
            for i, (rest, pts) in enumerate(series.items()):
                pts.sort(key=lambda p: p[0])
                label = ", ".join(f"{k}={v}" for k, v in zip(others, rest)) or key
                ax.errorbar(
                    [p[0] for p in pts],
                    [p[1].value for p in pts],
                    yerr=sigmas(p[1].stderr for p in pts),
                    fmt="o-",
                    ms=4,
                    lw=1,
                    capsize=3,
                    color=f"C{i % 10}",
                    label=label,
                )
                if all(p[1].exact is not None for p in pts):
                    ax.plot(
                        [p[0] for p in pts], [p[1].exact for p in pts], "--", lw=1, color=f"C{i % 10}", label="exact"
                    )
            unit = next((r.unit for _, rs in points for r in rs if (r.job, r.key) == (job, key) and r.unit), None)
            ax.set_xlabel(x)
            ax.set_ylabel(f"{job}: {key}" + (f" [{unit}]" if unit else ""))
            ax.set_title(f"{job}: {key} against {x}")
            ax.legend(fontsize="small")
            ax.grid(alpha=0.3)
            fig.tight_layout()
            figures.append((f"{job}-{key.strip('<>').replace(' <', '-')}-vs-{x}", fig))
    return figures


def plot_group(group: Path) -> list[Path]:
    """Write GROUP/plots/<job>-<value>-vs-<key>.png: each headline value of the points against each numeric swept
    key, with error bars and the exact value (group_figures). PlotError when no value varies with a number."""
    from ..store.catalog import discover

    plt = pyplot()
    points = []
    for found in discover(group):
        run = load(found.path)
        exact = stated_exact(read_spec(found.path))
        readings = [
            r
            for e in run.metadata["jobs"]
            for r in job_readings(found.path, run.jobs.get(e["name"]), exact.get(e["name"]), 1)
        ]
        readings += derived_readings(read_spec(found.path), run.jobs, found.path)  # plotted like any value
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
            "its numeric swept keys, and this group has none of both"
        )
    return written
