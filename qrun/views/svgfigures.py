"""Figures as inline SVG for the HTML report: each job's figure from qrun plot, and a multirun group's headline
against its swept keys. Text stays text (svg.fonttype none), so a browser, a search and a test can read the axes."""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..model.jobfile import JobFile
from ..model.records import JobEntry
from ..store.readings import Reading
from ..store.records import stored_points
from .fitplots import fit_figures
from .plots import figure_for, group_figures, pyplot

if TYPE_CHECKING:
    from types import ModuleType

    from matplotlib.figure import Figure

REPORT_POINTS = 300  # points a sweep figure draws in the report: it is a picture, and 100 runs must stay small
_salt = itertools.count()


_NUMBER = re.compile(r"-?\d+\.\d+")
_GEOMETRY = re.compile(r'\s(d|x|y|width|height|viewBox|transform)="([^"]*)"')


def to_svg(plt: ModuleType, fig: Figure) -> str:
    """The figure as an <svg> element to inline: no XML prolog, ids unique within the page, and written small.

    matplotlib writes coordinates to a millionth of a point, a name on every group and its metadata; a tenth of a
    point is below what a screen shows, and what is left is a third smaller (100 runs' report under 5 MB)."""
    salt = next(_salt)
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"qrun{salt}"}):
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'<g id="[^"]*">', "<g>", text)  # ids on groups are names nothing refers to
    text = _GEOMETRY.sub(lambda m: f' {m.group(1)}="{" ".join(_NUMBER.sub(_tenth, m.group(2)).split())}"', text)
    # the font goes in the page's style sheet once (report.css), not on each of a figure's texts
    text = re.sub(r"font-family: 'DejaVu Sans'[^;\"]*sans-serif;? ?", "", text)
    text = re.sub(r' transform="rotate\(-0 [^"]*\)"', "", text)  # a rotation by nothing
    # each distinct style once, as a class: a figure repeats a handful of them on every tick, marker and bar
    classes: dict[str, str] = {}

    def to_class(match: re.Match[str]) -> str:
        name = classes.setdefault(match.group(1), f"q{salt}s{len(classes)}")
        return f'class="{name}"'

    text = re.sub(r'style="([^"]*)"', to_class, text)
    rules = "".join(f".{name}{{{style}}}" for style, name in classes.items())
    text = text.replace("<defs>", f"<defs><style>{rules}</style>", 1)
    return re.sub(r">\s+<", "><", text)


def _tenth(match: re.Match[str]) -> str:
    return f"{float(match.group()):.1f}".removesuffix(".0")


def job_svgs(run_dir: Path, jobs: list[tuple[JobEntry, JobFile | None]], exact: dict[str, object]) -> dict[str, str]:
    """Each plottable job's figure as SVG, by job name: convergence, sweep curve, histogram (as `qrun plot`)."""
    plt = pyplot()
    out = {}
    for entry, body in jobs:
        if body is not None and ("points" in body or "points_file" in body):
            total = body.get("point_count", len(body.get("points") or []))
            every = max(1, -(-total // REPORT_POINTS))
            points = stored_points(run_dir, body, every) if "points_file" in body else body["points"][::every]
            body = {**body, "points": points, "point_count": total}
        fig = figure_for(plt, body, exact.get(entry["name"]))
        if fig is not None:
            out[entry["name"]] = to_svg(plt, fig)
    return out


def group_svgs(points: list[tuple[dict[str, object], list[Reading]]]) -> list[str]:
    """A multirun group's figures (plots.group_figures) as SVG."""
    plt = pyplot()
    return [to_svg(plt, fig) for _, fig in group_figures(plt, points)]


def fit_svgs(run_dir: Path) -> dict[str, str]:
    """Each fitted derived value's figure as SVG, by its name (as `qrun plot` draws plots/fit-NAME.png)."""
    plt = pyplot()
    return {name: to_svg(plt, fig) for name, fig in fit_figures(plt, run_dir)}
