"""Every text view: the plan table, the run summary, `qrun show`, `qrun list` and `qrun status`."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import backends, durations
from . import service as ibm
from .catalog import discover
from .errors import RunFolderError
from .records import result_text
from .results import Run, load, read_job_body, read_metadata, read_spec
from .spec import differences

if TYPE_CHECKING:
    from .plan import Plan


def summary(run: Run) -> str:
    """A few lines per job: values with standard errors, the optimum, or the most frequent outcomes."""
    lines = []
    for entry in run.metadata["jobs"]:
        body = run.jobs.get(entry["name"])
        lines.append(
            f"{entry['name']}: {result_text(body) if body and body.get('status') != 'running' else entry['status']}"
        )
    return "\n".join(lines)


def show(run: Run, width: int | None = None) -> str:
    """The run as a table: each job's state, result, estimate against actual time; then the session."""
    from rich.console import Console
    from rich.table import Table

    meta = run.metadata
    session = meta.get("session") or {}
    table = Table(title=f"{meta['name']}: {meta['status']} ({run.path.name})")
    billed = any(entry.get("usage") for entry in meta["jobs"])  # a service run: the QPU seconds the service reported
    headers = (
        "#",
        "job",
        "kind",
        "status",
        "result",
        "estimate",
        "actual",
        "runtime jobs",
        *(["QPU s"] if billed else []),
    )
    for header in headers:
        table.add_column(header, justify="left" if header in ("job", "kind", "status", "result") else "right")
    for entry in meta["jobs"]:
        body = run.jobs.get(entry["name"])
        result = result_text(body) if body and body.get("status") != "running" else "-"
        result += "".join(f"\n⚠ {w}" for w in entry.get("warnings") or [])  # beside the value they weaken
        actual = f"{entry['actual']:.2f}s" if entry.get("actual") is not None else "-"
        table.add_row(
            str(entry["index"]),
            entry["name"],
            entry["primitive"],
            entry["status"],
            result,
            durations.format(entry["estimate"]) if entry["estimate"] >= 0.5 else f"{entry['estimate']:.2f}s",
            actual,
            str(len(entry["job_ids"])),
            *([_usage_cell(entry.get("usage") or [])] if billed else []),
        )
    console = Console(width=width or 160, record=True, file=io.StringIO())
    console.print(table)
    console.print(
        f"session: {session.get('mode', '?')} on {session.get('backend', '?')} ({session.get('engine', '?')}), "
        f"max_time {durations.format(session.get('max_time') or 0)}, started {session.get('started')}, "
        f"closed {session.get('closed')}",
        highlight=False,
    )
    if billed:
        total = quantum_seconds(meta["jobs"]) or 0.0
        pending = sum(u.get("status") == "pending" for e in meta["jobs"] for u in e.get("usage") or [])
        more = f"; {pending} runtime job(s) still pending (qrun status RUN_DIR asks again)" if pending else ""
        console.print(f"usage: {total:g} QPU seconds in all{more}", highlight=False)
    if meta.get("error"):
        console.print(f"error: {meta['error']}", highlight=False)
    console.print(
        f"attempts: {len(meta.get('attempts', []))}; spec {meta['spec']['file']} "
        f"(sha256 {meta['spec']['sha256'][:12]}, git {_git(meta['spec'].get('git'))})",
        highlight=False,
    )
    return console.export_text()


def group_text(group: Path, width: int | None = None) -> str:
    """`qrun show GROUP`: the multirun's points, one row each, with their swept values, state and headlines."""
    from rich.console import Console
    from rich.table import Table

    rows = runs(group)
    swept = list(dict.fromkeys(k for r in rows for k in r["swept"]))
    results = list(dict.fromkeys(k for r in rows for k in r["results"]))
    table = Table()
    for column in ("point", *swept, "status", "jobs", *results):
        table.add_column(column)
    for r in rows:
        table.add_row(
            Path(r["run"]).name,
            *[
                json.dumps(r["swept"].get(k)) if not isinstance(r["swept"].get(k), str) else r["swept"][k]
                for k in swept
            ],
            r["status"],
            f"{r['done']}/{r['jobs']}",
            *[headline_text(r["results"][k]) if k in r["results"] else "-" for k in results],
        )
    console = Console(width=width or 160, record=True, file=io.StringIO())
    console.print(f"multirun {group.name}: {len(rows)} points over {', '.join(swept) or '-'}", highlight=False)
    console.print(table)
    console.print(f"table: {group / 'multirun.csv'}; each point: qrun show {group}/POINT", highlight=False)
    return console.export_text()


def _usage_cell(records: list[dict[str, Any]]) -> str:
    """A job's QPU seconds as the service reported them; "pending" while any is still being computed."""
    seconds = [u["quantum_seconds"] for u in records if isinstance(u.get("quantum_seconds"), (int, float))]
    pending = any(u.get("status") == "pending" for u in records)
    text = f"{sum(seconds):g}" if seconds else "-"
    return f"{text} (pending)" if pending else text


def _git(git: dict[str, Any] | None) -> str:
    if not git:
        return "none"
    return f"{git['commit'][:10]}{' dirty' if git['dirty'] else ''}"


class Runs(list):
    """Rows of `qrun list`, for scripts: a list of dicts, and a pandas DataFrame where pandas is installed."""

    def to_dataframe(self) -> Any:
        """One row per run, with each headline as numeric columns (e.vqe.value, e.vqe.stderr, e.vqe.exact) and the
        start as a datetime."""
        try:
            import pandas as pd
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


def headline(body: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """A finished job's headline values, as numbers: each estimator observable's first value, a minimize job's
    optimum, a sweep's lowest point (where its points are inline), a sampler register's most frequent outcome."""
    if not body or body.get("status") not in ("done", "stopped: deadline") or "points_file" in body:
        return {}
    name = body.get("job", "?")
    if "points" in body:
        best: dict[str, dict[str, Any]] = {}
        for p in body["points"]:
            value, observable = p.get("value"), p.get("observable", "")
            if isinstance(value, (int, float)) and (observable not in best or value < best[observable]["value"]):
                at = ", ".join(
                    f"{k}={p[k]}" for k in (body.get("sweep") or {}).get("variables", []) if k != "observable"
                )
                best[observable] = {"value": value, "stderr": p.get("stderr"), "exact": p.get("exact"), "at": at}
        return {f"{name}.{obs} min": v for obs, v in best.items()}
    if body.get("primitive") == "minimize":
        opt = body["optimum"]
        return {name: {"value": opt["value"], "stderr": opt.get("stderr"), "exact": body.get("exact")}}
    if body.get("primitive") == "estimator":
        return {
            f"{name}.{obs}": {
                "value": v["values"][0],
                "stderr": v["stderrs"][0],
                "exact": (v.get("exact") or [None])[0],
            }
            for obs, v in body["observables"].items()
            if v["values"]
        }
    if body.get("primitive") == "sampler" and body.get("counts"):
        out = {}
        for register, sets in body["counts"].items():
            if sets and sets[0]:
                top, count = max(sets[0].items(), key=lambda kv: kv[1])
                out[f"{name}.{register}"] = {"outcome": top, "probability": count / max(1, sum(sets[0].values()))}
        return out
    return {}


def headline_text(value: Any) -> str:
    """A headline as a table shows it: "-1.857 ± 0.0001", "01 (p 0.99)", "0.5 ± 0.01 at theta=0.3"."""
    if not isinstance(value, dict):
        return str(value)
    if "outcome" in value:
        return f"{value['outcome']} (p {value['probability']:.3g})" + (" ⚠" if value.get("warnings") else "")
    sigma = value.get("stderr")
    text = f"{value['value']:.6g} ± {sigma:.2g}" if isinstance(sigma, (int, float)) else f"{value['value']:.6g}"
    text = f"{text} at {value['at']}" if value.get("at") else text
    return f"{text} ⚠" if value.get("warnings") else text  # `qrun show RUN` prints the warnings themselves


def runs(root: str | Path, name: str | None = None, status: str | None = None) -> Runs:
    """Every run under a results root (multirun points included), oldest first: its name, folder, multirun group,
    status, start, backend, jobs done, the variables and overrides it was made with (`settings`), QPU seconds used,
    git commit and its headline results; filtered by name and status. ROOT may also be one run or one group."""
    out = Runs()
    for found in discover(Path(root)):
        try:
            meta = read_metadata(found.path)  # with the journal: a running or killed run shows as it is
        except RunFolderError:
            continue  # damaged, or not qrun's: `qrun show` of that folder says what is wrong with it
        if (name and meta.get("name") != name) or (status and meta.get("status") != status):
            continue
        jobs = meta.get("jobs", [])
        spec = meta.get("spec") or {}
        out.append(
            {
                "name": meta.get("name"),
                "run": str(found.path),
                "group": str(found.group) if found.group is not None else None,
                "status": meta.get("status"),
                "started": (meta.get("session") or {}).get("started") or "-",
                "backend": (meta.get("session") or {}).get("backend") or "-",
                "done": sum(j["status"] in ("done", "stopped: deadline") for j in jobs),
                "jobs": len(jobs),
                "settings": {**(spec.get("variables") or {}), **(spec.get("overrides") or {}), **found.swept},
                "swept": found.swept,
                "quantum_seconds": quantum_seconds(jobs),
                "git": _git(spec.get("git")),
                "results": _headlines(found.path, jobs),
                "_began": (meta.get("session") or {}).get("requested")
                or (meta.get("attempts") or [{}])[0].get("started"),
            }
        )
    # oldest first by the time each run began (to the millisecond; folder names give only the second); the points
    # of a group share their session's, and keep their order
    out.sort(key=lambda r: r["_began"] or "")
    for r in out:
        del r["_began"]
    return out


def _headlines(run_dir: Path, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    results: dict[str, Any] = {}
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


def quantum_seconds(jobs: list[dict[str, Any]]) -> float | None:
    """The quantum seconds the service reported for a run's jobs; None where it reported none (local runs)."""
    seconds = [
        u["quantum_seconds"]
        for j in jobs
        for u in j.get("usage") or []
        if isinstance(u, dict) and isinstance(u.get("quantum_seconds"), (int, float))
    ]
    return float(sum(seconds)) if seconds else None


MAX_HEADLINES = 8  # result columns one run may add to `qrun list`


def _setting(value: Any) -> str:
    return value if isinstance(value, str) and " " not in value else json.dumps(value)


def list_text(root: Path, name: str | None = None, status: str | None = None, width: int | None = None) -> str:
    """`qrun list`: one row per run, with the settings that differ between the listed runs and headline results."""
    rows = runs(root, name, status)
    if not rows:
        return f"no runs under {root}" + (" that match" if name or status else "")
    keys = sorted({k for r in rows for k in r["settings"]})
    differing = [k for k in keys if len({json.dumps(r["settings"].get(k), sort_keys=True) for r in rows}) > 1]
    results = list(dict.fromkeys(k for r in rows for k in r["results"]))
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
    return plain_table(columns, cells, width)


def plain_table(columns: list[str], rows: list[list[str]], width: int | None = None) -> str:
    """Columns three spaces apart under a rule, as rich's SIMPLE box draws them. Written here because rich lays out
    every cell as a renderable: a list of 10,000 runs took 7 s to draw (benchmarks/RESULTS.md). With `width` (the
    terminal's), the widest columns give up characters until the table fits; a cut cell ends in an ellipsis, and
    a row never wraps."""
    from rich.cells import cell_len, set_cell_size

    widths = [max(cell_len(c) for c in column) for column in zip(columns, *rows)]
    gap = 3
    excess = sum(widths) + gap * (len(widths) - 1) - (width or 10**9)
    # first down to each header's first 12 characters, then, if that is not enough, further down to 2
    for floor in ([min(cell_len(c), 12) for c in columns], [2] * len(columns)):
        while excess > 0:
            k = max(range(len(widths)), key=lambda i: widths[i] - floor[i])
            if widths[k] <= floor[k]:
                break
            cut = min(excess, max(1, (widths[k] - floor[k]) // 2))
            widths[k] -= cut
            excess -= cut

    def line(cells: list[str]) -> str:
        out = []
        for cell, w in zip(cells, widths):
            size = cell_len(cell)
            out.append(cell + " " * (w - size) if size <= w else set_cell_size(cell, w - 1) + "…")
        return (" " * gap).join(out).rstrip()

    return "\n".join([line(columns), "─" * (sum(widths) + gap * (len(widths) - 1)), *(line(r) for r in rows)])


def diff_text(a: Run, b: Run) -> str:
    """`qrun diff A B`: how the resolved specs differ, then every headline value side by side with the difference,
    the combined standard error and the z-score."""
    spec_a, spec_b = read_spec(a.path), read_spec(b.path)
    changes = differences(spec_a, spec_b)
    lines = [f"spec: {a.path.name} -> {b.path.name}"]
    lines += [f"  {c}" for c in changes] or ["  (the same spec)"]
    pairs = []
    notes = []
    for entry in a.metadata["jobs"]:
        name = entry["name"]
        paired = _paired(name, a.jobs.get(name), b.jobs.get(name))
        if not paired and _is_sweep(a.jobs.get(name)) and _is_sweep(b.jobs.get(name)):
            paired = _paired_points(name, a.points(name), b.points(name))
            if len(paired) > SWEEP_ROWS:
                big = sum(1 for _, (va, sa), (vb, sb) in paired if abs(_z(va, sa, vb, sb)) > 2)
                notes.append(
                    f"{name}: {len(paired):,} sweep points paired; the {SWEEP_ROWS} with the largest |z| are shown, "
                    f"{big:,} have |z| > 2"
                )
                paired = sorted(paired, key=lambda r: -abs(_z(*r[1], *r[2])))[:SWEEP_ROWS]
        warned = {side: _warnings(run, name) for side, run in (("A", a), ("B", b))}
        mark_a, mark_b = (" ⚠" if warned[side] else "" for side in ("A", "B"))
        notes += [f"⚠ {side} {name}: {w}" for side, found in warned.items() for w in found]
        for key, (va, sa), (vb, sb) in paired:
            sigma = (sa**2 + sb**2) ** 0.5
            z = _z(va, sa, vb, sb)
            pairs.append(
                (key, f"{va:.6g}{mark_a}", f"{vb:.6g}{mark_b}", f"{vb - va:+.3g}", f"{sigma:.2g}", f"{z:+.2f}")
            )
    if not pairs:
        return "\n".join([*lines, "values: none to compare"])
    header = ("value", a.path.name, b.path.name, "B - A", "σ", "z")
    widths = [max(len(str(row[i])) for row in [header, *pairs]) for i in range(len(header))]
    lines.append("")
    lines += [
        "  ".join(
            str(cell).ljust(w) if i == 0 else str(cell).rjust(w) for i, (cell, w) in enumerate(zip(row, widths))
        ).rstrip()
        for row in [header, *pairs]
    ]
    return "\n".join([*lines, *notes])


SWEEP_ROWS = 20  # a longer sweep's diff shows the points that moved most, and counts the rest


def _warnings(run: Run, job: str) -> list[str]:
    """The warnings recorded with a job (a fit that fell back, a library's complaint): they weaken its values."""
    entry = next((e for e in run.metadata["jobs"] if e["name"] == job), None)
    return list(entry.get("warnings") or []) if entry else []


def _z(va: float, sa: float, vb: float, sb: float) -> float:
    sigma = (sa**2 + sb**2) ** 0.5
    return (vb - va) / sigma if sigma > 0 else float("nan")


def _is_sweep(body: dict | None) -> bool:
    return body is not None and ("points" in body or "points_file" in body)


def _point_label(name: str, value: Any) -> str:
    """One sweep variable in a diff label: t=0.5, shots=100, or the observable's bare name."""
    if name == "observable":
        return str(value)
    return f"{name}={value:.6g}" if isinstance(value, float) else f"{name}={value}"


def _paired_points(
    job: str, a: list[dict[str, Any]], b: list[dict[str, Any]]
) -> list[tuple[str, tuple[float, float], tuple[float, float]]]:
    """Estimator sweep points of two runs paired by their variables (and observable), labelled job[t=0.5, zz]."""
    results = ("value", "stderr", "exact", "counts")

    def key(p: dict[str, Any]) -> tuple:
        return tuple((k, v) for k, v in p.items() if k not in results)

    others = {key(p): p for p in b if "value" in p}
    out = []
    for p in a:
        q = others.get(key(p))
        if "value" in p and q is not None:
            label = ", ".join(_point_label(k, v) for k, v in key(p))
            out.append((f"{job}[{label}]", (p["value"], p["stderr"]), (q["value"], q["stderr"])))
    return out


def _paired(job: str, a: dict | None, b: dict | None) -> list[tuple[str, tuple[float, float], tuple[float, float]]]:
    if not a or not b or a.get("primitive") != b.get("primitive"):
        return []
    if a["primitive"] == "minimize" and "optimum" in a and "optimum" in b:
        return [(job, (a["optimum"]["value"], a["optimum"]["stderr"]), (b["optimum"]["value"], b["optimum"]["stderr"]))]
    out = []
    if a["primitive"] == "estimator" and "observables" in a and "observables" in b:
        for obs, va in a["observables"].items():
            vb = b["observables"].get(obs)
            if vb is None:
                continue
            for k, (x, s, y, t) in enumerate(zip(va["values"], va["stderrs"], vb["values"], vb["stderrs"])):
                suffix = f"[{k}]" if len(va["values"]) > 1 else ""
                out.append((f"{job}.{obs}{suffix}", (x, s), (y, t)))
    return out


def plan_summary(plan: Plan, rate: float | None = None) -> dict[str, Any]:
    """The plan as plain data: one entry per job, the running total, and the verdict."""
    running = 0.0
    jobs = []
    for job in plan.jobs:
        running += job.estimate
        jobs.append(
            {
                "index": job.index,
                "name": job.name,
                "primitive": job.primitive,
                "circuit": job.circuit_name,
                **job.stats,
                "estimate": round(job.estimate, 3),
                "source": job.estimate_source,
                "qpu_seconds": round(job.qpu_seconds, 3),
                "running_total": round(running, 3),
                "share_of_max_time": round(running / plan.max_time, 4),
            }
        )
    budget = plan.budget
    return {
        "name": plan.name,
        "backend": plan.backend_name,
        "mode": plan.mode,
        "mode_reason": plan.mode_reason,
        "max_time": plan.max_time,
        "jobs": jobs,
        "total": round(budget.total, 3),
        "margin": round(budget.margin, 3),
        "needed": round(budget.needed, 3),
        "fits": budget.fits,
        "verdict": budget.verdict(),
        # What a device charges: the quantum work alone (0 on aer); a fake device shows what its real one would.
        "qpu_seconds": round(plan.qpu_seconds, 3),
        "rate_per_second": rate,
        "cost": None if rate is None else round(plan.qpu_seconds * rate, 2),
    }


def charge_line(summary: dict[str, Any]) -> str:
    """ "QPU time charged: about 1m 40s (100 s)", with ", cost at 1.6/s: 160.00" when a rate is set."""
    seconds = summary["qpu_seconds"]
    line = f"QPU time charged: about {durations.format(seconds)} ({seconds:g} s)"
    if summary["cost"] is not None:
        line += f", cost at {summary['rate_per_second']:g}/s: {summary['cost']:,.2f}"
    return line


PLAN_HEAD, PLAN_TAIL = 15, 10  # rows of a long plan's table shown by default: its start, and where the total ends


def plan_table(plan: Plan, rate: float | None = None, stream: TextIO | None = None, all_rows: bool = False) -> None:
    """The plan as a table, one row per job, with the running total against max_time, then the verdict. A long plan
    shows its first and last jobs and says how many it left out (all_rows: every job): rich lays out every row it
    is given, which at 10,000 jobs took most of `qrun plan`'s time, and nobody reads 10,000 rows."""
    from rich.console import Console
    from rich.table import Table

    summary = plan_summary(plan, rate)
    console = Console(file=stream or sys.stdout, width=None if (stream or sys.stdout).isatty() else 140)
    table = Table(title=f"{plan.name} on {plan.backend_name}, max_time {durations.format(plan.max_time)}")
    for header in (
        "#",
        "job",
        "kind",
        "runtime jobs",
        "qubits",
        "depth",
        "shots",
        "estimate",
        "source",
        "total",
        "of max_time",
    ):
        table.add_column(header, justify="right" if header not in ("job", "kind", "source") else "left")
    jobs = summary["jobs"]
    left_out = 0 if all_rows or len(jobs) <= PLAN_HEAD + PLAN_TAIL + 1 else len(jobs) - PLAN_HEAD - PLAN_TAIL
    for k, j in enumerate(jobs[:PLAN_HEAD] + jobs[-PLAN_TAIL:] if left_out else jobs):
        if left_out and k == PLAN_HEAD:
            table.add_row("…", f"{left_out:,} more (--all)", *[""] * 9)
        table.add_row(
            str(j["index"]),
            j["name"],
            j["primitive"],
            str(j["runtime_jobs"]),
            str(j["qubits"]),
            str(j["depth"]),
            str(j["shots"]),
            durations.format(j["estimate"]) if j["estimate"] >= 0.5 else f"{j['estimate']:.2f}s",
            j["source"],
            durations.format(j["running_total"]),
            f"{j['share_of_max_time']:.0%}",
        )
    console.print(table)
    console.print(f"mode: {summary['mode']}: {summary['mode_reason']}", highlight=False)
    console.print(summary["verdict"], highlight=False)
    if plan.backend_kind != "aer":
        console.print(charge_line(summary), highlight=False)


def live_status(run_dir: Path) -> str:
    """The run's session and jobs: as the service reports them now (Session.from_id, service.job), or as recorded."""

    run = load(run_dir)
    meta = run.metadata
    session = meta.get("session") or {}
    data = read_spec(run_dir)
    online = backends.kind_of(str(data.get("backend"))) == "service"
    lines = [
        f"run {run_dir}: {meta['status']}",
        f"session: {session.get('mode', '?')} on {session.get('backend', '?')}, id {session.get('session_id') or '-'}, "
        f"started {session.get('started') or '-'}, deadline {session.get('deadline') or '-'}, "
        f"closed {session.get('closed') or '-'}",
    ]
    service = ibm.connect(data.get("service")) if online else None
    if service is not None and session.get("session_id"):
        details = ibm.session_details(service, session["session_id"], session.get("mode") == "batch")
        lines.append(f"service session: {details}")
    for entry in meta["jobs"]:
        ids = entry["job_ids"]
        if service is not None and ids:
            now = ", ".join(f"{i}: {ibm.job_status(service, i)}" for i in ids[-3:])
            more = f" (+{len(ids) - 3} earlier)" if len(ids) > 3 else ""
            lines.append(f"  [{entry['index']}] {entry['name']}: {entry['status']}; service: {now}{more}")
        else:
            lines.append(
                f"  [{entry['index']}] {entry['name']}: {entry['status']} ({len(ids)} runtime job(s)"
                f"{', local: as recorded' if not online else ''})"
            )
    return "\n".join(lines)
