"""Human-readable views of finished runs: the run summary, `qrun show` and `qrun list`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from . import durations
from .results import Run


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
