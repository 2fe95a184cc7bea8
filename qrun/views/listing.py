"""`qrun list` and `qrun show GROUP`: the stored runs under a root (multirun points included) as rows of data,
their headline values as numbers, and the plain table that draws them."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

from ..errors import RunFolderError
from ..jobs.kind import shown
from ..jobs.registry import kind_of
from ..model.findings import close_matches, first_of
from ..model.jobfile import Headline, JobFile
from ..model.readings import number
from ..model.records import JobEntry, RunMetadata
from ..model.rows import HEAD, elided
from ..store.catalog import discover
from ..store.derived import failures
from ..store.derived import headlines as derived_headlines
from ..store.journal import read_metadata
from ..store.reader import read_job_body
from ..store.runfolder import status_now

if TYPE_CHECKING:
    import pandas as pd


def git_text(git: dict[str, object] | None) -> str:
    if not git:
        return "none"
    return f"{str(git.get('commit', ''))[:10]}{' dirty' if git.get('dirty') else ''}"


class RunRow(TypedDict):
    """One row of `qrun list` (and of `qrun report`'s index): a run's name, folder, state and headline results."""

    name: str
    run: str
    group: str | None
    status: str
    started: str
    backend: str
    done: int
    jobs: int
    settings: dict[str, object]  # the variables and overrides it was made with, as given (the user's keys)
    swept: dict[str, object]  # a multirun point's swept values
    quantum_seconds: float | None
    git: str
    results: dict[str, Headline | str]
    _began: NotRequired[str | None]  # for sorting only; removed before the rows are returned


class Runs(list[RunRow]):
    """Rows of `qrun list`, for scripts: a list of dicts, and a pandas DataFrame where pandas is installed."""

    def to_dataframe(self) -> pd.DataFrame:
        """One row per run, with each headline as numeric columns (e.vqe.value, e.vqe.stderr, e.vqe.exact) and the
        start as a datetime."""
        try:
            import pandas as pd  # an optional extra, heavy: only a DataFrame asked for needs it
        except ImportError:
            raise ImportError("to_dataframe() needs pandas: pip install pandas") from None
        return pd.DataFrame(
            [
                {k: v for k, v in r.items() if k not in ("settings", "results", "swept")}
                | r["settings"]
                | {
                    f"{key}.{field}": number
                    for key, value in r["results"].items()
                    if isinstance(value, dict)
                    for field, number in value.items()
                    if field != "warnings"
                }
                for r in self
            ]
        ).assign(started=lambda frame: pd.to_datetime(frame["started"], errors="coerce", utc=True))


def headline(body: JobFile | None) -> dict[str, Headline]:
    """A finished job's headline values, as numbers: each estimator observable's first value (and how many parameter
    sets it is the first of), a minimize job's optimum, a sweep's lowest point (of its inline points, or as a long
    sweep's writer kept it), a sampler register's most frequent outcome."""
    if not body or body.get("status") not in ("done", "stopped: deadline"):
        return {}
    name = body.get("job", "?")
    if "points" in body or "points_file" in body:  # a long sweep's: the lowest points its writer kept as they streamed
        best: dict[str, Headline] = {}
        lowest: dict[str, float] = {}
        for p in body.get("points") or list((body.get("lowest") or {}).values()):
            value, observable = p.get("value"), str(p.get("observable", ""))
            if isinstance(value, int | float) and (observable not in lowest or value < lowest[observable]):
                lowest[observable] = value
                at = ", ".join(
                    f"{k}={p.get(k)}" for k in (body.get("sweep") or {}).get("variables", []) if k != "observable"
                )
                best[observable] = {
                    "value": value,
                    "stderr": number(p.get("stderr")),
                    "exact": number(p.get("exact")),
                    "at": at,
                }
        return {f"{name}.{obs} min": v for obs, v in best.items()}
    kind = body.get("primitive")
    return kind_of(kind).headline(name, body) if isinstance(kind, str) else {}


_LONG_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d{7,}(?:e[-+]?\d+)?(?![\w.])")


def six_figures(at: str) -> str:
    """A point's variables as a table shows them: "theta=0.9", where the data keeps linspace's 0.8999999999999999."""
    return _LONG_NUMBER.sub(lambda m: format(float(m[0]), ".6g"), at)


def headline_text(value: Mapping[str, object] | str, deviation: bool = False) -> str:
    """A headline as a table shows it: "-1.857 ± 0.0001", "01 (p 0.99)", "0.5 ± 0.01 at theta=0.3", "0.12 ± 0.02
    (first of 3)"; with `deviation`, how many σ the value lies from its exact one ("0.12 ± 0.02, +0.4σ"), as a
    group's table compares its points (a device's bias shows there)."""
    if not isinstance(value, dict):
        return str(value)
    if "outcome" in value:
        return f"{value['outcome']} (p {shown(value['probability'], '.3g')})" + (" ⚠" if value.get("warnings") else "")
    sigma = value.get("stderr")
    text = f"{shown(value['value'])} ± {sigma:.2g}" if isinstance(sigma, int | float) else shown(value["value"])
    if deviation:
        text += _sigmas_off(value)
    if value.get("at"):
        text = f"{text} at {six_figures(str(value['at']))}"
    if value.get("sets"):  # the first of several parameter sets: `qrun show RUN` gives every one
        text = f"{text} (first of {value['sets']})"
    return f"{text} ⚠" if value.get("warnings") else text  # `qrun show RUN` prints the warnings themselves


def _sigmas_off(value: Mapping[str, object]) -> str:
    """ ", +0.4σ": how many standard errors a headline's value lies from its exact one; "" where one is unknown."""
    x, exact, sigma = value.get("value"), value.get("exact"), value.get("stderr")
    if isinstance(x, int | float) and isinstance(exact, int | float) and isinstance(sigma, int | float) and sigma > 0:
        return f", {(x - exact) / sigma:+.1f}σ"
    return ""


def runs(root: str | Path, name: str | None = None, status: str | None = None) -> Runs:
    """Every run under a results root (multirun points included), oldest first: its name, folder, multirun group,
    status, start, backend, jobs done, the variables and overrides it was made with (`settings`), QPU seconds used,
    git commit and its headline results; filtered by name and status. ROOT may also be a spec's folder in one, one run or one group."""
    out = Runs()
    for found in discover(Path(root)):
        try:
            meta = read_metadata(found.path)  # with the journal: a running or killed run shows as it is
        except RunFolderError:
            continue  # damaged, or not qrun's: `qrun show` of that folder says what is wrong with it
        now = status_now(found.path, meta)  # "died": recorded as running, but no qrun holds it
        if (name and meta.get("name") != name) or (status and now != status):
            continue
        jobs = meta.get("jobs", [])
        spec = meta.get("spec") or {}
        out.append(
            {
                "name": meta.get("name"),
                "run": str(found.path),
                "group": str(found.group) if found.group is not None else None,
                "status": now,
                "started": (meta.get("session") or {}).get("started") or "-",
                "backend": (meta.get("session") or {}).get("backend") or "-",
                "done": sum(j["status"] in ("done", "stopped: deadline") for j in jobs),
                "jobs": len(jobs),
                "settings": {**(spec.get("variables") or {}), **(spec.get("overrides") or {}), **found.swept},
                "swept": found.swept,
                "quantum_seconds": quantum_seconds(jobs),
                "git": git_text(spec.get("git")),
                # the spec's derived values too: what its author chose to look at first (its first MAX_HEADLINES)
                "results": {
                    **_headlines(found.path, jobs),
                    **dict(list(derived_headlines(found.path).items())[:MAX_HEADLINES]),
                },
                "_began": (meta.get("session") or {}).get("requested") or first_started(meta),
            }
        )
    # oldest first by the time each run began (to the millisecond; folder names give only the second); the points
    # of a group share their session's, and keep their order
    out.sort(key=lambda r: r["_began"] or "")
    for r in out:
        del r["_began"]
    return out


def _headlines(run_dir: Path, jobs: list[JobEntry]) -> dict[str, Headline | str]:
    results: dict[str, Headline | str] = {}
    for entry in jobs:
        if len(results) > MAX_HEADLINES:
            # a run of many jobs: its headlines would be thousands of columns, and reading every job file
            # is most of the time `qrun list` takes; `qrun show` has them all
            return {"results": f"{len(jobs):,} jobs: qrun show {run_dir}"}
        try:
            body = read_job_body(run_dir, entry)
        except RunFolderError:
            continue
        if body is not None:
            found = headline(body)
            if entry.get("warnings"):
                found = {k: {**v, "warnings": list(entry["warnings"])} for k, v in found.items()}
            results.update(found)
    return results


def first_started(meta: RunMetadata) -> str | None:
    """When the run's first attempt began, where metadata.json says."""
    return meta["attempts"][0].get("started") if meta["attempts"] else None


def quantum_seconds(jobs: list[JobEntry]) -> float | None:
    """The quantum seconds the service reported for a run's jobs; None where it reported none (local runs)."""
    seconds = [
        q
        for j in jobs
        for u in j.get("usage") or []  # each checked as an object only: its values are read with isinstance
        if isinstance(u, dict) and isinstance(q := u.get("quantum_seconds"), (int, float))
    ]
    return float(sum(seconds)) if seconds else None


MAX_HEADLINES = 8  # result columns one run may add to `qrun list`


def _setting(value: object) -> str:
    return value if isinstance(value, str) and " " not in value else json.dumps(value)


def _names_hint(root: Path, name: str | None) -> str:
    """Where no run has the spec name asked for: the closest name the root's runs have, and every one of them."""
    if not name:
        return ""
    names = sorted({str(meta.get("name")) for meta in _metadata(root)})
    if not names or name in names:
        return ""
    close = close_matches(name, names)
    return (f"; did you mean --name {close[0]}?" if close else "") + f" (the specs there: {first_of(names, keep=8)})"


def _metadata(root: Path) -> Iterator[RunMetadata]:
    for found in discover(Path(root)):
        try:
            yield read_metadata(found.path)
        except RunFolderError:
            continue


def list_text(root: Path, name: str | None = None, status: str | None = None, width: int | None = None) -> str:
    """`qrun list`: one row per run, with the settings that differ between the listed runs and headline results; a
    table per spec, where runs of several specs are listed (one table's columns were every spec's results, most of
    them "-" on any one row, and past a terminal's width each column was cut to a letter)."""
    rows = runs(root, name, status)
    if not rows:
        return f"no runs under {root}" + (" that match" if name or status else "") + _names_hint(root, name)
    by_spec: dict[str, list[RunRow]] = {}
    for r in rows:
        by_spec.setdefault(r["name"], []).append(r)
    return "\n\n".join(_spec_table(root, listed, width) for listed in by_spec.values())


FIXED = 5  # run, status, jobs, backend, started: what identifies a run, kept whole while a table is fitted
CUT = 24  # a fitted table's other columns keep this much: a value and its σ, a sweep's lowest point cut short


def spec_columns(rows: list[RunRow]) -> tuple[list[str], list[str]]:
    """One spec's runs' columns, as `qrun list` and the HTML report show them: the settings that differ between the
    runs (a setting they share says nothing), and every headline result any of them has, in first-seen order."""
    keys = sorted({k for r in rows for k in r["settings"]})
    differing = [k for k in keys if len({json.dumps(r["settings"].get(k), sort_keys=True) for r in rows}) > 1]
    return differing, list(dict.fromkeys(k for r in rows for k in r["results"]))


def _spec_table(root: Path, rows: list[RunRow], width: int | None) -> str:
    differing, results = spec_columns(rows)
    columns = ["run", "status", "jobs", "backend", "started", *(["settings"] if differing else []), *results]
    cells = []
    for r in rows:
        settings = " ".join(f"{k}={_setting(r['settings'][k])}" for k in differing if k in r["settings"])
        folder = Path(r["run"])
        cells.append(
            [
                folder.relative_to(Path(root)).as_posix() if folder.is_relative_to(Path(root)) else r["run"],
                r["status"],
                f"{r['done']}/{r['jobs']}",
                r["backend"],
                r["started"][:19].replace("T", " "),
                *([settings or "-"] if differing else []),
                *[headline_text(r["results"][k]) if k in r["results"] else "-" for k in results],
            ]
        )
    return plain_table(columns, cells, width, FIXED)


def plain_table(columns: list[str], rows: list[list[str]], width: int | None = None, fixed: int = 0) -> str:
    """Columns three spaces apart under a rule, as rich's SIMPLE box draws them. Written here because rich lays out
    every cell as a renderable, seconds for 10,000 runs (benchmarks/RESULTS.md). With `width` (the terminal's), the
    columns after the first `fixed` give up characters down to CUT (or their header), then the last of them are
    left out (a line says how many), and only then do the first ones give up characters; a cut cell ends in an
    ellipsis, and a row never wraps."""
    from rich.cells import cell_len as wide_len
    from rich.cells import set_cell_size

    def cell_len(text: str) -> int:  # rich measures every character; ASCII and "±" take one cell each
        return len(text) if text.replace("±", "").isascii() else wide_len(text)

    gap = 3
    widths = [max(cell_len(c) for c in column) for column in zip(columns, *rows)]
    kept = len(columns)

    def squeeze(floor: list[int]) -> None:
        excess = sum(widths[:kept]) + gap * (kept - 1) - (width or 10**9)
        while excess > 0:
            k = max(range(kept), key=lambda i: widths[i] - floor[i])
            if widths[k] <= floor[k]:
                break
            cut = min(excess, max(1, (widths[k] - floor[k]) // 2))
            widths[k] -= cut
            excess -= cut

    squeeze([w if i < fixed else min(w, max(cell_len(c), CUT)) for i, (w, c) in enumerate(zip(widths, columns))])
    while kept > max(fixed, 1) and sum(widths[:kept]) + gap * (kept - 1) > (width or 10**9):
        kept -= 1
    squeeze([2] * len(columns))

    def line(cells: list[str]) -> str:
        out = []
        for cell, w in zip(cells[:kept], widths):
            size = cell_len(cell)
            out.append(cell + " " * (w - size) if size <= w else set_cell_size(cell, w - 1) + "…")
        return (" " * gap).join(out).rstrip()

    lines = [line(columns), "─" * (sum(widths[:kept]) + gap * (kept - 1)), *(line(r) for r in rows)]
    if kept < len(columns):
        note = f"… {len(columns) - kept} more column(s) at a wider terminal; qrun list --json has every one"
        lines.append(note if width is None or len(note) <= width else note[: width - 1] + "…")
    return "\n".join(lines)


def group_text(group: Path, width: int | None = None, all_rows: bool = False) -> str:
    """`qrun show GROUP`: the multirun's points, one row each, with their swept values, state and headlines; of many
    points the first and last, as `qrun show` gives a run's jobs (all_rows: every point)."""
    from rich.console import Console
    from rich.table import Table

    rows = runs(group)
    swept = list(dict.fromkeys(k for r in rows for k in r["swept"]))
    results = list(dict.fromkeys(k for r in rows for k in r["results"]))
    table = Table()
    columns = ("point", *swept, "status", "jobs", *results)
    for column in columns:
        table.add_column(column)
    listed, left_out = elided(rows, all_rows)
    for k, r in enumerate(listed):
        if left_out and k == HEAD:
            table.add_row("…", f"{left_out:,} more (--all)", *[""] * (len(columns) - 2))
        table.add_row(
            Path(r["run"]).name,
            *[v if isinstance(v := r["swept"].get(k), str) else json.dumps(v) for k in swept],
            r["status"],
            f"{r['done']}/{r['jobs']}",
            *[headline_text(r["results"][k], deviation=True) if k in r["results"] else "-" for k in results],
        )
    console = Console(width=width or 160, record=True, file=io.StringIO(), markup=False)
    console.print(f"multirun {group.name}: {len(rows)} points over {', '.join(swept) or '-'}", highlight=False)
    console.print(table)
    for line in _uncomputed(rows):
        console.print(line, highlight=False)
    console.print(f"table: {group / 'multirun.csv'}; each point: qrun show {group}/POINT", highlight=False)
    return console.export_text()


def _uncomputed(rows: list[RunRow]) -> list[str]:
    """A derived value some points could not compute, with why, once for the points that share a reason: the table
    has no column for it, or a "-" there, and would otherwise not say why."""
    order: dict[str, None] = {}  # the spec's order of its derived values, which a point that computed one also has
    found: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        for name, why in failures(Path(r["run"])).items():
            order[name] = None
            if why is not None:
                found.setdefault((name, why), []).append(Path(r["run"]).name)
    place = {name: k for k, name in enumerate(order)}
    return [
        f"derived: {name} cannot be computed "
        + ("at any point" if len(points) == len(rows) > 1 else f"at {first_of(points)}")
        + f": {why}"
        for (name, why), points in sorted(found.items(), key=lambda item: place[item[0][0]])
    ]
