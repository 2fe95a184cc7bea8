"""The execution mode a spec's jobs need: a session only where a job needs an earlier job's result, else a batch."""

from __future__ import annotations

from typing import Any

AUTO = "auto"


def needs_session(data: dict[str, Any]) -> str | None:
    """Why the spec's jobs need a session (a job uses an earlier one's result, or is a minimize loop), or None."""
    jobs = [j for j in data.get("jobs") or [] if isinstance(j, dict)]
    for job in jobs:
        source = job.get("parameter_values")
        if isinstance(source, dict):
            return f"job '{job.get('name')}' uses the result of job '{source.get('from')}', so they run in order"
    for job in jobs:
        if job.get("primitive") == "minimize":
            return f"job '{job.get('name')}' is a minimize loop: each evaluation waits for the one before"
    return None


def resolve(data: dict[str, Any]) -> tuple[str, str]:
    """(session or batch, why). IBM advises batch unless a job needs an earlier job's result: a session bills its
    wall-clock time, idle time included, and a batch the QPU time alone; and an Open Plan instance has no sessions."""
    asked = data.get("mode", AUTO)
    if asked != AUTO:
        return asked, f"as the spec says (mode: {asked})"
    why = needs_session(data)
    if why is not None:
        return "session", why
    return "batch", "no job needs another's result, and a batch bills QPU time only (a session, its wall-clock time)"
