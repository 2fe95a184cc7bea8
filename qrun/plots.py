"""Figures of a finished run (matplotlib, the optional `plot` extra): convergence, sweep curves, count histograms."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import yaml

from .errors import PlotError
from .fsio import atomic_write_bytes, inside
from .results import load


def plot_run(run_dir: Path) -> list[Path]:
    """Write one PNG per plottable job into RUN_DIR/plots; returns their paths."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; never a window
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotError("qrun plot needs matplotlib: pip install 'qrun[plot]'") from None
    run = load(run_dir)
    spec = yaml.safe_load((run_dir / "spec.yaml").read_text(encoding="utf-8"))
    exact = {job["name"]: job.get("exact") for job in spec["jobs"]}
    written = []
    for entry in run.metadata["jobs"]:
        body = run.jobs.get(entry["name"])
        if not body or body.get("status") == "running":
            continue
        if "points" in body:
            fig = sweep_figure(plt, body, exact.get(entry["name"])) if body["primitive"] == "estimator" else None
        elif body["primitive"] == "minimize":
            fig = convergence_figure(plt, body, exact.get(entry["name"]))
        elif body["primitive"] == "sampler":
            fig = histogram_figure(plt, body)
        else:
            fig = None
        if fig is None:
            continue
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        path = inside(run_dir, "plots", f"{entry['index']:02d}-{entry['name']}.png")
        atomic_write_bytes(path, buffer.getvalue())
        written.append(path)
    return written


def convergence_figure(plt: Any, body: dict[str, Any], exact: float | None) -> Any:
    trace = body["trace"]
    n = [t["evaluation"] for t in trace]
    values = [t["value"] for t in trace]
    best = [min(values[: i + 1]) for i in range(len(values))]
    if exact is None:
        fig, ax = plt.subplots(figsize=(7, 4.2))
    else:  # a second panel shows the approach to the exact value, invisible on the first panel's scale
        fig, (ax, err) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
        err.semilogy(n, [max(abs(b - exact), 1e-9) for b in best], "-", color="C1", label="best so far - exact")
        err.set_xlabel("evaluation")
        err.set_ylabel("|best - exact|")
        err.legend(fontsize="small")
        err.grid(alpha=0.3, which="both")
    ax.errorbar(n, values, yerr=[t["stderr"] for t in trace], fmt=".", ms=4, lw=0.8, alpha=0.6, label="evaluation")
    ax.plot(n, best, "-", lw=1.5, label="best so far")
    if exact is not None:
        ax.axhline(exact, color="k", ls="--", lw=1, label=f"exact {exact:.6g}")
    opt = body["optimum"]
    ax.set_title(f"{body['job']}: {body['optimizer']['method']}, optimum {opt['value']:.6g} ± {opt['stderr']:.2g}")
    if exact is None:
        ax.set_xlabel("evaluation")
    ax.set_ylabel(f"<{body['observable']}>")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def sweep_figure(plt: Any, body: dict[str, Any], exact: float | None) -> Any:
    """Value with error bars against the first numeric swept variable, one line per observable (and other setting)."""
    points = body["points"]
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
    for key, pts in series.items():
        label = ", ".join(f"{k}={v}" for k, v in zip(rest, key))
        ax.errorbar(
            [p[x] for p in pts],
            [p["value"] for p in pts],
            yerr=[p["stderr"] for p in pts],
            fmt="o-",
            ms=3,
            lw=1,
            capsize=2,
            label=label,
        )
    if exact is not None:
        ax.axhline(exact, color="k", ls="--", lw=1, label=f"exact {exact:.6g}")
    ax.set_title(f"{body['job']}: {len(points)} points")
    ax.set_xlabel(x)
    ax.set_ylabel("expectation value")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def histogram_figure(plt: Any, body: dict[str, Any]) -> Any:
    """Counts of the first parameter set, per classical register, outcomes sorted."""
    registers = body["counts"]
    fig, axes = plt.subplots(
        1,
        len(registers),
        figsize=(max(5, 1.0 + 0.45 * max(len(s[0]) for s in registers.values())) * len(registers), 4.2),
        squeeze=False,
    )
    for ax, (reg, sets) in zip(axes[0], registers.items()):
        counts = dict(sorted(sets[0].items()))
        ax.bar(list(counts), list(counts.values()))
        ax.set_title(f"{body['job']}: register {reg}, {body['shots']} shots")
        ax.set_xlabel("outcome")
        ax.set_ylabel("counts")
        ax.tick_params(axis="x", rotation=90 if len(counts) > 8 else 0)
    fig.tight_layout()
    return fig
