"""The text views of one run and of a plan: the run summary, `qrun show`, the plan table and `qrun status`."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TextIO, TypedDict

from .. import backends
from ..model import durations
from ..model.plan import JobStats
from ..model.records import JobEntry, RunMetadata, Usage, shares
from ..model.rows import HEAD, elided, tally
from ..store.derived import derived_line, of_run, recorded, stored_spec
from ..store.reader import Run, load
from ..store.records import result_text
from ..store.runfolder import died_note, status_now
from .listing import git_text, headline, headline_text, quantum_seconds

if TYPE_CHECKING:
    from rich.console import Console

    from ..model.jobfile import JobFile
    from ..model.plan import Block, Plan


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
    none for any other job, or for a long sweep, whose points stay in their file."""
    if "points" not in body:
        return []
    prefix = f"{body.get('job')}."
    return [f"{key.removeprefix(prefix)} {headline_text(value)}" for key, value in headline(body).items()]


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
            entry["primitive"],
            entry["status"],
            result,
            _estimate_text(entry.get("estimate")),
            actual,
            str(len(entry["job_ids"])),
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
        more = f"; {pending} runtime job(s) still pending (qrun status RUN_DIR asks again)" if pending else ""
        console.print(f"usage: {total:g} QPU seconds in all{more}", highlight=False)
    if meta.get("error"):
        console.print(f"error: {meta['error']}", highlight=False)
    if status == "died":
        console.print(died_note(run.path, meta), highlight=False, soft_wrap=True)  # a command: one line
    spec = meta.get("spec") or {}
    console.print(
        f"attempts: {len(meta.get('attempts', []))}; spec {spec.get('file') or '-'} "
        f"(sha256 {(spec.get('sha256') or '-')[:12]}, git {git_text(spec.get('git'))})",
        highlight=False,
    )
    return console.export_text()


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


class JobRow(JobStats, total=False):
    """One job of `qrun plan --json`: what it is, what planning found (JobStats), its estimate and the running total."""

    index: int
    name: str
    point: str  # a multirun's: the point's settings, as the name's "POINT/" gives them (shots=4000)
    primitive: str
    circuit: str
    estimate: float
    source: str
    qpu_seconds: float
    service_qpu_seconds: float | None
    simulation_seconds: float  # a fake device: this machine's time to simulate the job with its noise
    running_total: float
    share_of_max_time: float


class BlockSummary(TypedDict):
    """One session or batch of a plan cut into blocks, and what each mode would bill for it."""

    mode: str
    reason: str
    jobs: list[str]
    first: int
    runtime_jobs: int
    qpu_seconds: float
    wall_seconds: float


class PlanSummary(TypedDict):
    """`qrun plan --json`: the jobs, the blocks, the budget's verdict and the QPU time a device would charge."""

    name: str
    backend: str
    mode: str
    mode_reason: str
    blocks: list[BlockSummary]
    usage_estimates: NotRequired[dict[str, object]]
    max_time: int
    jobs: list[JobRow]
    total: float
    margin: float
    needed: float
    fits: bool
    verdict: str
    qpu_seconds: float
    rate_per_second: float | None
    cost: float | None


def plan_summary(plan: Plan, rate: float | None = None) -> PlanSummary:
    """The plan as plain data: one entry per job, the running total, and the verdict."""
    running = 0.0
    jobs: list[JobRow] = []
    for job in plan.jobs:
        running += job.estimate
        row: JobRow = {
            "index": job.index,
            "name": f"{plan.points[job.run_key]}/{job.name}" if plan.points else job.name,  # a multirun's: by point
            **({"point": plan.points[job.run_key]} if plan.points else {}),
            "primitive": job.primitive,
            "circuit": job.circuit_name,
            **job.stats,
            "estimate": round(job.estimate, 3),
            "source": job.estimate_source,
            "qpu_seconds": round(job.qpu_seconds, 3),
        }
        if plan.service_estimates is not None:
            row["service_qpu_seconds"] = plan.service_estimates.seconds.get(job.index)
        if job.simulation_seconds:
            row["simulation_seconds"] = round(job.simulation_seconds, 3)
        row["running_total"] = round(running, 3)
        row["share_of_max_time"] = round(running / plan.max_time, 4)
        jobs.append(row)
    budget = plan.budget
    summary: PlanSummary = {
        "name": plan.name,
        "backend": plan.backend_name,
        "mode": plan.mode,
        "mode_reason": plan.mode_reason,
        # aer bills nothing and opens no runtime session: blocks matter on a device (a fake one rehearses them)
        "blocks": [block_summary(plan, b) for b in plan.blocks]
        if len(plan.blocks) > 1 and backends.traits(plan.backend_kind).device
        else [],
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
    if plan.service_estimates is not None:
        summary["usage_estimates"] = plan.service_estimates.record()
    return summary


def block_summary(plan: Plan, block: Block) -> BlockSummary:
    """One block of a plan cut into sessions and batches: its jobs, and what each mode would bill for them by the
    usage model: a batch its QPU time, a session its wall-clock time (the job estimates, idle time aside)."""
    jobs = plan.jobs[block.start : block.stop]
    return {
        "mode": block.mode,
        "reason": block.reason,
        "jobs": [j.name for j in jobs],
        "first": block.start,
        "runtime_jobs": sum(j.stats.get("runtime_jobs", 1) for j in jobs),
        "qpu_seconds": round(sum(j.qpu_seconds for j in jobs), 3),
        "wall_seconds": round(sum(j.estimate for j in jobs), 3),
    }


def block_lines(summary: PlanSummary) -> list[str]:
    """`qrun plan`'s lines for a plan cut into blocks: each block's mode and why, what it bills, and what the other
    mode would; then the whole against one session for every job."""
    blocks = summary["blocks"]
    if not blocks:
        return []
    lines = []
    for k, b in enumerate(blocks, 1):
        names = ", ".join(b["jobs"]) if len(b["jobs"]) <= 4 else f"{', '.join(b['jobs'][:3])}, ... {b['jobs'][-1]}"
        last = b["first"] + len(b["jobs"]) - 1
        where = f"job {b['first']}" if last == b["first"] else f"jobs {b['first']}-{last}"
        qpu, wall = _seconds(b["qpu_seconds"]), _seconds(b["wall_seconds"])
        if b["mode"] == "batch":
            cost = f"bills about {qpu} of QPU time (a session would bill about {wall} of wall-clock time)"
        else:
            cost = (
                f"bills about {wall} of wall-clock time (a batch would bill about {qpu} of QPU time, but queue each "
                f"of its {b['runtime_jobs']} runtime jobs anew)"
            )
        lines.append(f"  block {k}, {where} ({names}): {b['mode']}: {b['reason']}; {cost}")
    billed = sum(b["qpu_seconds"] if b["mode"] == "batch" else b["wall_seconds"] for b in blocks)
    whole = sum(b["wall_seconds"] for b in blocks)
    lines.append(
        f"  billed in all: about {_seconds(billed)}, against about {_seconds(whole)} for one session around every job"
    )
    return lines


def _seconds(x: float) -> str:
    """A duration for a sentence; under a second with its figure ("0.31s"), where durations.format says "<1s"."""
    return durations.format(x) if x >= 1 or x == 0 else f"{x:.2g}s"


def charge_line(summary: PlanSummary) -> str:
    """ "QPU time charged: about 1m 40s (100 s)", with ", cost at 1.6/s: 160.00" when a rate is set."""
    seconds = summary["qpu_seconds"]
    # under a second, the figure alone: "about <1s (0.478 s)" says it twice
    line = (
        f"QPU time charged: about {durations.format(seconds)} ({seconds:g} s)"
        if seconds >= 1
        else f"QPU time charged: about {_seconds(seconds)}"
    )
    if summary["cost"] is not None:
        line += f", cost at {summary['rate_per_second']:g}/s: {summary['cost']:,.2f}"
    return line


def plan_table(plan: Plan, rate: float | None = None, stream: TextIO | None = None, all_rows: bool = False) -> None:
    """The plan as a table, one row per job, with the running total against max_time, then the verdict. A long plan
    shows its first and last jobs and says how many it left out (all_rows: every job): rich lays out every row it
    is given, which at 10,000 jobs was most of `qrun plan`'s time, and nobody reads 10,000 rows."""
    from rich.console import Console
    from rich.table import Table

    summary = plan_summary(plan, rate)
    console = Console(file=stream or sys.stdout, width=None if (stream or sys.stdout).isatty() else 140, markup=False)
    points = f" (multirun of {len(plan.points)} points)" if plan.points else ""  # the name is its first point's
    table = Table(title=f"{plan.name}{points} on {plan.backend_name}, max_time {durations.format(plan.max_time)}")
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
    jobs, left_out = elided(summary["jobs"], all_rows)
    for k, j in enumerate(jobs):
        if left_out and k == HEAD:
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
    mode = "auto" if summary["blocks"] else summary["mode"]  # several blocks: sessions and batches, listed below
    console.print(f"mode: {mode}: {summary['mode_reason']}", highlight=False, soft_wrap=True)
    for line in block_lines(summary):
        console.print(line, highlight=False, soft_wrap=True)
    if plan.service_estimates is not None:
        console.print(plan.service_estimates.line(), highlight=False)
    console.print(summary["verdict"], highlight=False)
    if backends.traits(plan.backend_kind).device:
        console.print(charge_line(summary), highlight=False)
