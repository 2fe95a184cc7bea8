"""The views of a plan: `qrun plan`'s table and its JSON, the blocks of sessions and batches, the QPU charge."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NotRequired, TextIO, TypedDict

from .. import backends
from ..model import durations
from ..model.findings import first_of
from ..model.plan import JobStats
from ..model.records import InstanceUsage
from ..model.rows import HEAD, elided
from ..model.words import counted
from ..planning.estimates import JOB_OVERHEAD

if TYPE_CHECKING:
    from ..model.plan import Block, Plan


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
    batches: NotRequired[list[list[int]]]  # on a device: [first, last] of each run of jobs in one runtime job
    usage_estimates: NotRequired[dict[str, object]]
    instance_usage: NotRequired[InstanceUsage]
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
    if plan.batches:
        summary["batches"] = [[r.start, r.stop - 1] for r in plan.batches]
    if plan.service_estimates is not None:
        summary["usage_estimates"] = plan.service_estimates.record()
    if plan.instance_usage is not None:
        summary["instance_usage"] = plan.instance_usage
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
        # a PUB-batched runtime job counted once, not once per job it holds
        "runtime_jobs": sum(j.stats.get("runtime_jobs", 1) for j in jobs)
        - sum(len(r) - 1 for r in plan.batches if block.start <= r.start < block.stop),
        "qpu_seconds": round(sum(j.qpu_seconds for j in jobs), 3),
        "wall_seconds": round(sum(j.estimate for j in jobs), 3),
    }


def batches_line(summary: PlanSummary) -> str | None:
    """How many runtime jobs the jobs that go out together make, and where each one's overhead is counted."""
    together = summary.get("batches") or []
    if not together:
        return None
    jobs = sum(last - first + 1 for first, last in together)
    spans = first_of([f"{first}-{last}" for first, last in together], 3)
    return (
        f"PUB-batched: {counted(jobs, 'job')} go out in {counted(len(together), 'runtime job')} (jobs {spans}), "
        f"as the runtime advises for small jobs: each runtime job's {JOB_OVERHEAD:g} s of overhead is in its first "
        "job's estimate"
    )


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
    figure = f"{durations.format(seconds)} ({seconds:g} s)" if seconds >= 1 else _seconds(seconds)
    line = f"QPU time charged: about {figure}"
    if summary["cost"] is not None:
        line += f", cost at {summary['rate_per_second']:g}/s: {summary['cost']:,.2f}"
    return line


def usage_line(usage: InstanceUsage) -> str | None:
    """ "instance usage: 9m 48s of 10m left this period; the plan needs about 14s of it", from what the service
    reported (before a run, its pre-flight: what the plan needs; `qrun status`, now); None where it reported
    nothing."""
    remaining, limit, consumed, needed = usage["remaining"], usage["limit"], usage["consumed"], usage["needed"]
    needs = f"; the plan needs about {durations.format(needed)} of it" if needed is not None else ""
    if remaining is not None and limit is not None:
        return f"instance usage: {durations.format(remaining)} of {durations.format(limit)} left this period{needs}"
    if remaining is not None:
        return f"instance usage: {durations.format(remaining)} left{needs}"
    if consumed is not None:
        return f"instance usage: {durations.format(consumed)} used this period, and no limit reported"
    return None


def plan_table(plan: Plan, rate: float | None = None, stream: TextIO | None = None, all_rows: bool = False) -> None:
    """The plan as a table, one row per job, with the running total against max_time, then the verdict. A long plan
    shows its first and last jobs and says how many it left out (all_rows: every job): rich lays out every row it
    is given, which at 10,000 jobs was most of `qrun plan`'s time, and nobody reads 10,000 rows."""
    from rich.console import Console
    from rich.table import Table

    summary = plan_summary(plan, rate)
    console = Console(file=stream or sys.stdout, width=None if (stream or sys.stdout).isatty() else 140, markup=False)
    points = ""  # a multirun's plan is named by its first point's spec: the title says whose rows these are
    if plan.points:
        here, every = plan.points_here, len(plan.points)  # here < every: one backend's points of a multirun's
        points = (
            f" (multirun: {here} of its {every} points)"
            if here < every
            else f" (multirun of {counted(every, 'point')})"
        )
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
    if line := batches_line(summary):
        console.print(line, highlight=False, soft_wrap=True)
    for line in block_lines(summary):
        console.print(line, highlight=False, soft_wrap=True)
    if plan.service_estimates is not None:
        console.print(plan.service_estimates.line(), highlight=False)
    console.print(summary["verdict"], highlight=False)
    if backends.traits(plan.backend_kind).device:
        console.print(charge_line(summary), highlight=False)
    if plan.instance_usage is not None and (usage := usage_line(plan.instance_usage)) is not None:
        console.print(usage, highlight=False)
