"""Every text view: the plan table, the run summary, `qrun show`, `qrun list` and `qrun status`."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import yaml

from . import backends, durations
from . import service as ibm
from .results import Run, load

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


def result_text(body: dict[str, Any]) -> str:
    """One job's result in a line."""
    if "points" in body:
        return f"{len(body['points'])} sweep points in {len(body['groups'])} job(s)"
    if body["primitive"] == "minimize":
        opt = body["optimum"]
        note = f" ({body['stopped']})" if body.get("stopped") else ""
        return f"min <{body['observable']}> = {opt['value']:.6g} ± {opt['stderr']:.2g} after {body['nfev']} evaluations{note}"
    if body["primitive"] == "estimator":
        parts = []
        for obs, v in body["observables"].items():
            pairs = ", ".join(f"{x:.6g} ± {s:.2g}" for x, s in zip(v["values"][:3], v["stderrs"][:3]))
            more = f" ... ({len(v['values'])} sets)" if len(v["values"]) > 3 else ""
            parts.append(f"<{obs}> = {pairs}{more}")
        return "; ".join(parts)
    parts = []
    for reg, sets in body["counts"].items():
        top = sorted(sets[0].items(), key=lambda kv: -kv[1])[:4]
        parts.append(f"{reg} {{{', '.join(f'{k}: {n}' for k, n in top)}}} of {body['shots']} shots")
    return "; ".join(parts)


def show(run: Run, width: int | None = None) -> str:
    """The run as a table: each job's state, result, estimate against actual time; then the session."""
    from rich.console import Console
    from rich.table import Table

    meta = run.metadata
    session = meta.get("session") or {}
    table = Table(title=f"{meta['name']}: {meta['status']} ({run.path.name})")
    for header in ("#", "job", "kind", "status", "result", "estimate", "actual", "runtime jobs"):
        table.add_column(header, justify="right" if header in ("#", "estimate", "actual", "runtime jobs") else "left")
    for entry in meta["jobs"]:
        body = run.jobs.get(entry["name"])
        result = result_text(body) if body and body.get("status") != "running" else "-"
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
        )
    console = Console(width=width or 160, record=True, file=io.StringIO())
    console.print(table)
    console.print(
        f"session: {session.get('mode', '?')} on {session.get('backend', '?')} ({session.get('engine', '?')}), "
        f"max_time {durations.format(session.get('max_time') or 0)}, started {session.get('started')}, "
        f"closed {session.get('closed')}",
        highlight=False,
    )
    if meta.get("error"):
        console.print(f"error: {meta['error']}", highlight=False)
    console.print(
        f"attempts: {len(meta.get('attempts', []))}; spec {meta['spec']['file']} "
        f"(sha256 {meta['spec']['sha256'][:12]}, git {_git(meta['spec'].get('git'))})",
        highlight=False,
    )
    return console.export_text()


def _git(git: dict[str, Any] | None) -> str:
    if not git:
        return "none"
    return f"{git['commit'][:10]}{' dirty' if git['dirty'] else ''}"


def runs(root: Path) -> list[dict[str, Any]]:
    """Every run under a results root, oldest first: name, folder, status, started, jobs done of total, backend."""
    out = []
    for meta_file in sorted(root.glob("*/*/metadata.json"), key=lambda p: p.parent.name):
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        jobs = meta.get("jobs", [])
        out.append(
            {
                "name": meta.get("name"),
                "run": str(meta_file.parent),
                "status": meta.get("status"),
                "started": (meta.get("session") or {}).get("started") or "-",
                "backend": (meta.get("session") or {}).get("backend") or "-",
                "done": sum(j["status"] in ("done", "stopped: deadline") for j in jobs),
                "jobs": len(jobs),
            }
        )
    return out


def list_text(root: Path) -> str:
    rows = runs(root)
    if not rows:
        return f"no runs under {root}"
    width = max(len(r["run"]) for r in rows)
    lines = [f"{'run':<{width}}  {'status':<11}  {'jobs':>5}  {'backend':<14}  started"]
    lines += [
        f"{r['run']:<{width}}  {r['status']:<11}  {r['done']:>2}/{r['jobs']:<2}  {r['backend']:<14}  {r['started']}"
        for r in rows
    ]
    return "\n".join(lines)


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


def plan_table(plan: Plan, rate: float | None = None, stream: TextIO | None = None) -> None:
    """The plan as a table, one row per job, with the running total against max_time, then the verdict."""
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
    for j in summary["jobs"]:
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
    console.print(summary["verdict"], highlight=False)
    if plan.backend_kind != "aer":
        console.print(charge_line(summary), highlight=False)


def live_status(run_dir: Path) -> str:
    """The run's session and jobs: as the service reports them now (Session.from_id, service.job), or as recorded."""

    run = load(run_dir)
    meta = run.metadata
    session = meta.get("session") or {}
    data = yaml.safe_load((run_dir / "spec.yaml").read_text(encoding="utf-8"))
    online = backends.kind_of(data["backend"]) == "service"
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
