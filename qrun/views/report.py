"""The text views of one run: the run summary and `qrun show` (views/plans.py: the plan's)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from .. import backends
from ..jobs.kind import against
from ..model import durations
from ..model.records import JobEntry, RunMetadata, Usage, shares
from ..model.rows import HEAD, elided, tally
from ..model.words import counted
from ..store.derived import derived_line, of_run, recorded, stored_spec
from ..store.reader import Run, load
from ..store.records import result_text
from ..store.runfolder import died_note, status_now
from .listing import git_text, headline, headline_text, quantum_seconds

if TYPE_CHECKING:
    from rich.console import Console

    from ..model.jobfile import JobFile


def summary(run: Run) -> str:
    """A few lines per job: values with standard errors, the optimum, the most frequent outcomes, or a sweep's size
    and lowest points. A run of many jobs gives its first and last jobs', as `qrun show` does, and says how many it
    left out: printed as a run ends, a line for every job buried everything above it."""
    lines = []
    entries, left_out = elided(run.metadata["jobs"])
    for k, entry in enumerate(entries):
        if left_out and k == HEAD:
            lines.append(f"… {left_out:,} more jobs (qrun show {run.path} --all lists every one)")
        parts = _result_parts(run.jobs.get(entry["name"]))
        text = "; ".join(parts) if parts else entry["status"]
        lines.append(f"{entry['name']}: {text}".replace("\n", "\n  "))  # a ladder's rungs: a line each, under its name
    return "\n".join(lines)


def closing_summary(run_dir: Path) -> str:
    """summary() of a run as it ends, reading only the files of the jobs it shows (reading every one was most of a
    large run's summary: benchmarks/RESULTS.md, "A run of many jobs, watched")."""
    lines = [derived_line(name, text) for name, text in recorded(run_dir)]  # as `qrun show` ends
    return "\n".join([summary(load(run_dir, pick=lambda entries: elided(entries)[0])), *lines])


def _result_parts(body: JobFile | None) -> list[str]:
    """A finished job's result, then a sweep's lowest points; none for a job not finished."""
    if not body or body.get("status") == "running":
        return []
    return [result_text(body), *lowest_points(body)]


def lowest_points(body: JobFile) -> list[str]:
    """A sweep's lowest point for each observable, as `qrun list` heads it ("S1 min -2.5 ± 0.03 at theta=3.77");
    none for any other job (a long sweep's, whose points stay in their file, as its writer kept them)."""
    if "points" not in body and "lowest" not in body:
        return []
    prefix = f"{body.get('job')}."
    return [  # beside the exact value where the spec asked for one, as an unswept estimator's line has it
        f"{key.removeprefix(prefix)} {headline_text(value)}{against(value.get('value'), value.get('stderr'), value.get('exact'))}"
        for key, value in headline(body).items()
    ]


def show(run: Run, width: int | None = None, all_rows: bool = False) -> str:
    """The run as a table: each job's state, result, estimate against actual time; then the session. A run of many
    jobs shows its first and last rows (as `qrun plan` does), how many it left out and their states; all_rows: every
    job (rich lays out every row it is given, however many: benchmarks/RESULTS.md)."""
    from rich.console import Console
    from rich.table import Table

    meta = run.metadata
    status = status_now(run.path, meta)
    table = Table(title=f"{meta['name']}: {status} ({run.path.name})")
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
    entries = meta["jobs"]
    seconds, batches = shares(entries)
    shown, left_out = elided(list(zip(entries, seconds, batches, strict=True)), all_rows)
    for k, (entry, own, batch) in enumerate(shown):
        if left_out and k == HEAD:
            table.add_row("…", f"{left_out:,} more (--all)", *[""] * (len(headers) - 2))
        parts = _result_parts(run.jobs.get(entry["name"])) or ["-"]
        result = "\n".join(parts) + "".join(f"\n⚠ {w}" for w in entry.get("warnings") or [])  # under what they weaken
        actual = _seconds_text(own) + ("*" if own is not None and batch is not None else "")
        table.add_row(
            str(entry["index"]),
            entry["name"],
            str(entry.get("primitive", "?")),
            entry["status"],
            result,
            _estimate_text(entry.get("estimate")),
            actual,
            str(len(entry.get("job_ids") or [])),
            *([_usage_cell(entry.get("usage") or [])] if billed else []),
        )
    console = Console(width=width or 160, record=True, file=io.StringIO(), markup=False)
    console.print(table)
    if left_out:
        console.print(f"jobs: {len(entries):,} ({tally(entry['status'] for entry in entries)})", highlight=False)
    if together := sum(batch is not None for batch in batches):
        console.print(
            f"* {together:,} jobs shared runtime jobs: each one's actual is its share of its runtime job's time, as "
            "its estimate is",
            highlight=False,
        )
    if rehearsal := _slow_rehearsal(meta, entries, seconds):
        console.print(rehearsal, highlight=False)
    _print_sessions(console, meta)
    for name, text in of_run(stored_spec(run.path), run.jobs, run.path):
        console.print(derived_line(name, text), highlight=False)
    if billed:
        total = quantum_seconds(meta["jobs"]) or 0.0
        pending = sum(u.get("status") == "pending" for e in meta["jobs"] for u in e.get("usage") or [])
        more = f"; {counted(pending, 'runtime job')} still pending (qrun status RUN_DIR asks again)" if pending else ""
        console.print(f"usage: {total:g} QPU seconds in all{more}", highlight=False)
    for line in _how_it_ended(run.path, meta, status):
        console.print(line, highlight=False, soft_wrap=True)  # a command: one line
    spec = meta.get("spec") or {}
    console.print(
        f"attempts: {len(meta.get('attempts', []))}; spec {spec.get('file') or '-'} "
        f"(sha256 {(spec.get('sha256') or '-')[:12]}, git {git_text(spec.get('git'))})",
        highlight=False,
    )
    return console.export_text()


def _how_it_ended(run_dir: Path, meta: RunMetadata, status: str) -> list[str]:
    """The run's error, and for one that stopped short the command that runs the jobs it left."""
    lines = [f"error: {meta['error']}"] if meta.get("error") else []
    left = sum(entry["status"] not in ("done", "stopped: deadline") for entry in meta["jobs"])
    if status in ("failed", "interrupted") and left:
        spec_file = (meta.get("spec") or {}).get("file") or "SPEC"
        # app/supervise's words for a job stopped at aer's max_time: the same max_time would stop it again
        longer = " max_time=LONGER" if str(meta.get("error") or "").startswith("stopped: max_time (") else ""
        lines.append(f"qrun {spec_file} --resume {run_dir}{longer} runs the {left:,} job{'s' * (left != 1)} left")
    if status == "died":
        lines.append(died_note(run_dir, meta))
    return lines


def _slow_rehearsal(meta: RunMetadata, entries: list[JobEntry], seconds: list[float | None]) -> str | None:
    """On a fake device whose simulation took a job more than twice its estimate: why the two columns differ."""
    backend = (meta.get("session") or {}).get("backend")
    if not isinstance(backend, str) or not backends.kind_for(backend).rehearsed:
        return None
    estimates = [e.get("estimate") for e in entries]
    if not any(s is not None and isinstance(e, int | float) and s > 2 * e for e, s in zip(estimates, seconds)):
        return None
    return f"{backend} rehearses a device: an estimate is the device's time, an actual this machine's noisy simulation"


def _print_sessions(console: Console, meta: RunMetadata) -> None:
    """One line per session (each block's, for a run cut into sessions and batches), else the run's one."""
    session = meta.get("session") or {}
    blocks = (meta["attempts"][-1].get("sessions") if meta["attempts"] else None) or []
    for record in blocks if len(blocks) > 1 else [session]:
        first, stop = ([*(record.get("jobs") or []), None, None])[:2]
        which = f" for jobs {first}-{stop - 1}" if isinstance(first, int) and isinstance(stop, int) else ""
        console.print(
            f"session: {record.get('mode', '?')}{which} on {record.get('backend', '?')} ({record.get('engine', '?')}), "
            + (f"id {record['session_id']}, " if record.get("session_id") else "")
            + f"max_time {durations.format(record.get('max_time') or 0)}, "
            f"started {record.get('started') or '-'}, closed {record.get('closed') or '-'}",  # "-": none, as in status
            highlight=False,
        )


def _estimate_text(seconds: float | None) -> str:
    """A job's estimate in the table: a duration, else as _seconds_text; "-" where none."""
    return durations.format(seconds) if seconds is not None and seconds >= 0.5 else _seconds_text(seconds)


def _seconds_text(seconds: float | None) -> str:
    """Seconds to the hundredth, and to two figures below a hundredth (a batched job's share); "-" where none."""
    if seconds is None:
        return "-"
    return f"{seconds:.2f}s" if seconds >= 0.01 or seconds == 0 else f"{seconds:.2g}s"


def _usage_cell(records: list[Usage]) -> str:
    """A job's QPU seconds as the service reported them; "pending" while any is still being computed."""
    seconds = [s for u in records if isinstance(s := u.get("quantum_seconds"), (int, float))]
    pending = any(u.get("status") == "pending" for u in records)
    text = f"{sum(seconds):g}" if seconds else "-"
    return f"{text} (pending)" if pending else text
