"""`qrun report --html FILE`: stored runs as ONE self-contained HTML file (inline CSS, script and SVG; nothing
fetched when it opens): a sortable, filterable runs table, a page per run and per multirun group, comparisons."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from pathlib import Path

from ..errors import RunFolderError, UsageError
from ..model import durations
from ..model.findings import first_of
from ..model.jobfile import JobFile
from ..model.records import JobEntry
from ..model.rows import HEAD, elided
from ..spec import MAX_SPEC_BYTES
from ..store import runfolder
from ..store.derived import of_run, readings_of, shown
from ..store.fsio import atomic_write
from ..store.reader import Run, load
from ..store.readings import Reading, job_readings, stated_exact
from ..store.records import result_text
from ..store.specfile import read_spec
from .compare import diff_text
from .listing import RunRow, headline_text, runs, six_figures, spec_columns
from .svgfigures import fit_svgs, group_svgs, job_svgs

PAGE_ROWS = 50  # values one job shows on its run's page; `qrun show` and the run folder have every one
ASSETS = Path(__file__).parent.parent / "report_assets"


def _e(value: object) -> str:
    return html.escape("-" if value is None else str(value))


def _num(value: float | None, fmt: str = ".6g") -> str:
    return "-" if value is None else format(value, fmt)


def build(targets: Iterable[Path], compare: Iterable[tuple[Path, Path]] = ()) -> str:
    """The whole page for the runs found at `targets` (results roots, groups or run folders)."""
    rows: list[RunRow] = []
    seen: set[str] = set()
    for target in targets:
        for row in runs(target):
            if row["run"] not in seen:
                seen.add(row["run"])
                rows.append(row)
    pairs = list(compare)
    if not rows and not pairs:
        raise UsageError("no runs to report: " + ", ".join(str(t) for t in targets) + " holds no qrun run folders")
    anchors = {row["run"]: f"run-{i + 1}" for i, row in enumerate(rows)}
    group_ids = {g: f"group-{i + 1}" for i, g in enumerate(dict.fromkeys(r["group"] for r in rows if r["group"]))}
    parts = [_index(rows, anchors, group_ids, pairs)]
    readings_by_run: dict[str, list[Reading]] = {}
    for row in rows:
        page, readings = _run_page(row, anchors[row["run"]], group_ids)
        readings_by_run[row["run"]] = readings
        parts.append(page)
    for group, anchor in group_ids.items():
        members = [r for r in rows if r["group"] == group]
        parts.append(_group_page(Path(group), anchor, members, anchors, readings_by_run))
    for k, (a, b) in enumerate(pairs):
        parts.append(
            f'<section class="page" id="compare-{k + 1}"><p><a href="#runs">&larr; all runs</a></p>'
            f"<h2>{_e(a)} &rarr; {_e(b)}</h2><pre>{_e(diff_text(load(a), load(b)))}</pre></section>"
        )
    style = (ASSETS / "report.css").read_text(encoding="utf-8")
    script = (ASSETS / "report.js").read_text(encoding="utf-8")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>qrun report</title><style>{style}</style></head><body>\n"
        + "\n".join(parts)
        + f"\n<script>{script}</script></body></html>\n"
    )


def write(targets: list[Path], out: Path, compare: Iterable[tuple[Path, Path]] = ()) -> Path:
    """Write the page to `out` atomically (a reader never sees half a report); returns `out`."""
    atomic_write(out, build(targets, compare))
    return out


def _index(rows: list[RunRow], anchors: dict[str, str], groups: dict[str, str], pairs: list) -> str:
    """The runs, a table per spec as `qrun list` has them (one table's columns were every spec's results, most of them
    "-" on any one row), each with the settings that differ between its runs, as KEY= columns (a `backend=aer`
    override made a second column named backend)."""
    by_spec: dict[str, list[RunRow]] = {}
    for r in rows:
        by_spec.setdefault(str(r["name"]), []).append(r)
    tables = "".join(_spec_table(name, listed, anchors, groups) for name, listed in by_spec.items())
    compare = "".join(
        f'<li><a href="#compare-{k + 1}">{_e(Path(a).name)} &rarr; {_e(Path(b).name)}</a></li>'
        for k, (a, b) in enumerate(pairs)
    )
    return (
        '<section class="page" id="runs"><h1>qrun runs</h1>'
        '<p><input id="filter" type="search" placeholder="filter runs (any text in a row)" aria-label="filter runs"> '
        f'<span id="shown">{len(rows)} of {len(rows)} runs</span></p>'
        + tables
        + (f"<h2>Comparisons</h2><ul>{compare}</ul>" if compare else "")
        + "</section>"
    )


def _spec_table(name: str, rows: list[RunRow], anchors: dict[str, str], groups: dict[str, str]) -> str:
    settings, results = spec_columns(rows)
    head = ["run", "group", "status", "jobs", "backend", "started", "quantum s", "git", *[f"{k}=" for k in settings]]
    body = []
    for r in rows:
        cells = [
            f'<td><a href="#{anchors[r["run"]]}">{_e(Path(r["run"]).name)}</a></td>',
            f'<td><a href="#{groups[r["group"]]}">{_e(Path(r["group"]).name)}</a></td>' if r["group"] else "<td>-</td>",
            f"<td>{_e(r['status'])}</td>",
            f'<td data-n="{r["done"]}">{r["done"]}/{r["jobs"]}</td>',
            f"<td>{_e(r['backend'])}</td>",
            f"<td>{_e(r['started'][:19].replace('T', ' '))}</td>",
            _cell(r["quantum_seconds"]),
            f"<td>{_e(r['git'])}</td>",
            *[_cell(r["settings"][k]) if k in r["settings"] else "<td>-</td>" for k in settings],
            *[_result_cell(r["results"].get(k)) for k in results],
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    runs_of = f"{len(rows)} run{'s' * (len(rows) != 1)}"
    return (
        f'<div class="spec"><h2>{_e(name)} <small>{runs_of}</small></h2>'
        '<div class="scroll"><table class="sortable runs-table"><thead><tr>'
        + "".join(f'<th scope="col" title="sort by {_e(h)}">{_e(h)}</th>' for h in [*head, *results])
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></div></div>"
    )


def _result_cell(value: object) -> str:
    """A headline: its text, sorting by its value (or an outcome's probability)."""
    if not isinstance(value, dict):
        return _cell(value)
    number = value.get("value", value.get("probability"))
    return f'<td data-n="{number}">{_e(headline_text(value))}</td>'


def _cell(value: object) -> str:
    """A table cell that sorts as a number where it holds one ("-1.857 ± 0.0001" sorts by -1.857)."""
    if isinstance(value, bool) or value is None:
        return f"<td>{_e(value)}</td>"
    if isinstance(value, (int, float)):
        return f'<td data-n="{value}">{_e(value)}</td>'
    text = str(value) if isinstance(value, str) else json.dumps(value)
    head = text.split(" ± ")[0]
    try:
        return f'<td data-n="{float(head)}">{_e(text)}</td>'
    except ValueError:
        return f"<td>{_e(text)}</td>"


def _run_page(row: RunRow, anchor: str, groups: dict[str, str]) -> tuple[str, list[Reading]]:
    path = Path(row["run"])
    try:
        run = load(path)
        spec = read_spec(path)
    except RunFolderError as e:
        return f'<section class="page" id="{anchor}"><h2>{_e(path)}</h2><p class="warn">{_e(e)}</p></section>', []
    meta = run.metadata
    session = meta.get("session") or {}
    git = (meta.get("spec") or {}).get("git") or {}
    facts = [
        ("folder", str(path)),
        ("status", row["status"]),  # as `qrun list` shows it: a run no qrun holds has died
        ("backend", f"{session.get('backend')} ({session.get('engine', '?')}), {session.get('mode')}"),
        ("session id", session.get("session_id")),
        ("started", session.get("started")),
        ("closed", session.get("closed")),
        ("max_time", durations.format(session.get("max_time") or 0)),
        ("quantum seconds", row["quantum_seconds"]),
        ("git", f"{git.get('commit')}{' (dirty)' if git.get('dirty') else ''}" if git else None),
        ("versions", ", ".join(f"{k} {v}" for k, v in (meta.get("versions") or {}).items())),
        ("settings", ", ".join(f"{k}={json.dumps(v)}" for k, v in row["settings"].items()) or None),
        ("error", meta.get("error")),
    ]
    exact = stated_exact(spec)
    jobs = [(entry, run.jobs.get(entry["name"])) for entry in meta["jobs"]]
    facts.insert(3, ("physical qubits", _qubits(jobs)))  # a device's: where the values were read from
    # a run of many jobs shows its first and last, as `qrun show` does (every job's row made one run's page 3 MB);
    # every job's readings still go to its group's page
    shown, left_out = elided(range(len(jobs)))
    listed = set(shown)
    all_readings: list[Reading] = []
    value_rows = []
    for k, (entry, body) in enumerate(jobs):
        readings = job_readings(path, body, exact.get(entry["name"]), PAGE_ROWS + 1)
        all_readings += readings
        if k in listed:
            value_rows.append(_job_rows(entry, body, readings))
        if left_out and k == HEAD - 1:
            value_rows.append(f'<tr><td colspan="10">… {left_out:,} more jobs: qrun show {_e(path)} --all</td></tr>')
    figures = job_svgs(path, [jobs[k] for k in shown], exact)
    if row["group"]:  # its group's figures draw derived values too, as `qrun plot GROUP` does
        all_readings += readings_of(spec, run.jobs, path)
    group = row["group"]
    spec_text = (runfolder.read_bytes(path, "spec.yaml", MAX_SPEC_BYTES) or b"").decode("utf-8", "replace")
    page = (
        f'<section class="page run" id="{anchor}"><p><a href="#runs">&larr; all runs</a>'
        + (f' &middot; <a href="#{groups[group]}">group {_e(Path(group).name)}</a>' if group else "")
        + f"</p><h2>{_e(meta.get('name'))}: {_e(row['status'])} <small>{_e(path.name)}</small></h2>"
        + "<dl>"
        + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts if v not in (None, ""))
        + '</dl><h3>Values</h3><table class="values"><thead><tr><th>job</th><th>kind</th><th>status</th>'
        "<th>quantity</th><th>at</th><th>value</th><th>σ</th><th>exact</th><th>deviation</th><th>warnings</th>"
        "</tr></thead><tbody>"
        + "".join(value_rows)
        + "</tbody></table>"
        + _derived(spec, run)
        + "".join(
            f'<figure data-job="{_e(name)}">{svg}<figcaption>{_e(name)}</figcaption></figure>'
            for name, svg in figures.items()
        )
        + "".join(
            f'<figure data-fit="{_e(name)}">{svg}<figcaption>fit {_e(name)}</figcaption></figure>'
            for name, svg in fit_svgs(path).items()
        )
        + f"<details><summary>Resolved spec (spec.yaml)</summary><pre>{_e(spec_text)}</pre></details></section>"
    )
    return page, all_readings


def _qubits(jobs: list[tuple[JobEntry, JobFile | None]]) -> str | None:
    """The device's qubits each job's results were read from (its file's physical_qubits), one entry per distinct
    set; None for a simulator's run, whose files name none."""
    by_set: dict[str, list[str]] = {}
    for entry, body in jobs:
        qubits = (body or {}).get("physical_qubits")
        if isinstance(qubits, list):
            by_set.setdefault(json.dumps(qubits), []).append(entry["name"])
    parts = [f"{qubits}: {first_of(names)}" for qubits, names in by_set.items()]
    return first_of(parts, 5, "; ", "sets") if parts else None


def _derived(spec: object, run: Run) -> str:
    """The spec's derived values, each with its propagated standard error (or why it cannot be computed)."""
    lines = of_run(spec, run.jobs, run.path)
    if not lines:
        return ""
    block = spec.get("derived") if isinstance(spec, dict) else None
    written = block if isinstance(block, dict) else {}
    items = "".join(
        f"<dt>{_e(name)}</dt><dd>{_e(text)}"
        + (f'<br><span class="expr">{_e(shown(written[name]))}</span>' if name in written else "")
        + "</dd>"
        for name, text in lines
    )
    return f'<h3>Derived</h3><dl class="derived">{items}</dl>'


def _job_rows(entry: JobEntry, body: JobFile | None, readings: list[Reading]) -> str:
    warnings = "<br>".join(_e(w) for w in entry.get("warnings") or [])
    warn = f'<td class="warn">{warnings}</td>' if warnings else "<td></td>"
    head = f"<td>{_e(entry['name'])}</td><td>{_e(entry.get('primitive'))}</td><td>{_e(entry['status'])}</td>"
    if not readings:
        text = result_text(body) if body and body.get("status") not in ("running", None) else "-"
        return f'<tr>{head}<td colspan="6">{_e(text)}</td><td></td>{warn}</tr>'
    out = []
    several = {r.key for r in readings if r.index and not r.at}  # a value with parameter sets names each, 0 too
    for r in readings[:PAGE_ROWS]:
        unit = f" {r.unit}" if r.unit else ""
        deviation = r.deviation
        at = six_figures(r.at) or (f"set {r.index}" if r.key in several else "")
        out.append(
            f"<tr>{head}<td>{_e(r.key)}</td><td>{_e(at)}</td>"
            f'<td class="num">{_num(r.value)}{_e(unit)}</td><td class="num">{_num(r.stderr, ".2g")}</td>'
            f'<td class="num">{_num(r.exact)}</td>'
            f'<td class="num{" far" if deviation is not None and abs(deviation) > 3 else ""}">'
            f"{'-' if deviation is None else f'{deviation:+.1f}σ'}</td>{warn}</tr>"
        )
    if len(readings) > PAGE_ROWS:
        out.append(f'<tr><td colspan="10">… more values: qrun show {_e(entry["name"])}</td></tr>')
    return "".join(out)


def _group_page(
    group: Path,
    anchor: str,
    members: list[RunRow],
    anchors: dict[str, str],
    readings: dict[str, list[Reading]],
) -> str:
    swept = list(dict.fromkeys(k for m in members for k in _swept(m)))
    points = [({k: _swept(m).get(k) for k in swept}, readings.get(m["run"], [])) for m in members]
    figures = group_svgs(points)
    results = list(dict.fromkeys(k for m in members for k in m["results"]))  # each point's headlines, as show GROUP
    rows = "".join(
        f'<tr><td><a href="#{anchors[m["run"]]}">{_e(Path(m["run"]).name)}</a></td><td>{_e(m["status"])}</td>'
        + "".join(_cell(_swept(m).get(k)) for k in swept)
        + "".join(_result_cell(m["results"].get(k)) for k in results)
        + "</tr>"
        for m in members
    )
    return (
        f'<section class="page group" id="{anchor}"><p><a href="#runs">&larr; all runs</a></p>'
        f"<h2>multirun {_e(group.name)}</h2><p>{_e(group)}: {len(members)} points over {_e(', '.join(swept))}</p>"
        '<table class="sortable"><thead><tr><th>point</th><th>status</th>'
        + "".join(f"<th>{_e(k)}</th>" for k in [*swept, *results])
        + f"</tr></thead><tbody>{rows}</tbody></table>"
        + "".join(f'<figure class="group-figure">{svg}</figure>' for svg in figures)
        + "</section>"
    )


def _swept(row: RunRow) -> dict[str, object]:
    swept: dict[str, object] = row["swept"]
    return swept
