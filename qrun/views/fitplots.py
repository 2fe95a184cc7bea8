"""A figure of each fitted derived value: the points it was fitted to with their errors, their exact values, and the
fitted curve, read from derived.json alone."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DerivedError
from ..jobs.kind import floats, sigmas
from ..model.readings import number
from ..store.derived import fit_text, fitted_curves, value_text
from ..store.expressions import Ref, compute, parse
from ..store.fsio import atomic_write_bytes, inside

if TYPE_CHECKING:
    import ast
    from types import ModuleType

    from matplotlib.figure import Figure

CURVE_POINTS = 200  # the fitted curve is drawn through this many x between the points' first and last


def write_fit_figures(plt: ModuleType, run_dir: Path) -> list[Path]:
    """plots/fit-NAME.png for each fitted derived value: its points, and the curve fitted through them."""
    out = []
    for name, fig in fit_figures(plt, run_dir):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        path = inside(run_dir, "plots", f"fit-{name}.png")
        atomic_write_bytes(path, buffer.getvalue())
        out.append(path)
    return out


def fit_figures(plt: ModuleType, run_dir: Path) -> list[tuple[str, Figure]]:
    """Each fit's figure and its name, in the spec's order; a fit whose stored model or points cannot be read has
    none (the stored run is read as it is: `qrun show` says what is wrong with it)."""
    out = []
    for name, entry in fitted_curves(run_dir).items():
        fig = _figure(plt, name, entry)
        if fig is not None:
            out.append((name, fig))
    return out


def _figure(plt: ModuleType, name: str, entry: dict[str, object]) -> Figure | None:
    points, model, parameters = entry.get("points"), entry.get("model"), entry.get("parameters")
    if not isinstance(points, dict) or not isinstance(model, str) or not isinstance(parameters, dict):
        return None
    read = [number(v) for v in points.get("x") or []]
    xs = [v for v in read if v is not None]
    ys = floats(points.get("y") or [])
    at: dict[Ref, float] = {}
    for key, found in parameters.items():
        value = number(found.get("value")) if isinstance(found, dict) else None
        if value is None:
            return None
        at[(str(key),)] = value
    if not xs or len(xs) != len(read) or len(ys) != len(xs):
        return None
    try:
        tree = parse(model)
    except DerivedError:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.2))
    spread = points.get("stderr")
    ax.errorbar(
        xs,
        ys,
        yerr=sigmas(spread) if isinstance(spread, list) else None,
        fmt="o",
        ms=4,
        capsize=2,
        color="C0",
        label="measured",
    )
    exact = points.get("exact")
    if isinstance(exact, list) and len(exact) == len(xs):
        ax.plot(xs, floats(exact), "s", mfc="none", color="k", ms=5, label="exact")
    low, high = min(xs), max(xs)
    grid = [low + (high - low) * k / (CURVE_POINTS - 1) for k in range(CURVE_POINTS)]
    ax.plot(grid, [_at(tree, {**at, ("x",): x}) for x in grid], "-", color="C1", lw=1.5, label=model)
    value, sigma = number(entry.get("value")), number(entry.get("stderr"))
    said = value_text(value, sigma, entry.get("exact")) if value is not None else ""
    ax.set_title(f"{name}: {entry.get('parameter')} = {said}{fit_text(entry)}", fontsize="medium")
    read_from = entry.get("x")  # x read from a job's parameter (x: rabi.theta), or written out
    ax.set_xlabel(f"x: {read_from}" if isinstance(read_from, str) else "x")
    read_at = entry.get("y")  # y: rabi.z, read at each x's parameter set or sweep point
    ax.set_ylabel(f"y: {read_at}" if isinstance(read_at, str) else "y")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def _at(tree: ast.expr, values: dict[Ref, float]) -> float:
    """The model at one x, or a gap where it cannot be computed there."""
    try:
        return compute(tree, values)
    except DerivedError:
        return math.nan
