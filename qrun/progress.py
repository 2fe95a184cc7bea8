"""What a person watching a run sees: one line per event on stderr, nothing with --quiet."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from . import durations
from .plan import JobPlan, Plan


class Reporter:
    """A sink for execute's events that prints progress lines."""

    def __init__(self, plan: Plan, quiet: bool = False, stream: TextIO | None = None):
        self.plan = plan
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self._t0 = time.perf_counter()
        self._job_t0 = self._t0

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def session_opened(self, session: dict[str, Any]) -> None:
        n = len(self.plan.jobs)
        self.say(
            f"qrun: {self.plan.name}: {n} job{'s' * (n != 1)} on {self.plan.backend_name} "
            f"({session['engine']}), max_time {durations.format(self.plan.max_time)}, "
            f"estimated {durations.format(self.plan.total_estimate)}"
        )

    def job_started(self, job: JobPlan) -> None:
        self._job_t0 = time.perf_counter()
        self.say(f"[{job.index + 1}/{len(self.plan.jobs)}] {job.primitive} {job.name} ...")

    def job_submitted(self, job: JobPlan, job_id: str) -> None:
        pass

    def job_progress(self, job: JobPlan, trace: list[dict[str, Any]]) -> None:
        n = len(trace)
        if n == 1 or n % 10 == 0:
            best = min(t["value"] for t in trace)
            self.say(f"[{job.index + 1}/{len(self.plan.jobs)}] {job.name}: evaluation {n}/{job.max_evaluations}, "
                     f"value {trace[-1]['value']:.6g}, best {best:.6g}")

    def job_done(self, job: JobPlan, result: Any) -> None:
        took = f"{time.perf_counter() - self._job_t0:.1f} s"
        stopped = getattr(result, "stopped", None)
        if stopped:
            self.say(f"[{job.index + 1}/{len(self.plan.jobs)}] {job.name} {stopped} after {took}: {result.message}")
        else:
            self.say(f"[{job.index + 1}/{len(self.plan.jobs)}] {job.name} done in {took}")

    def job_warnings(self, job: JobPlan, messages: list[str]) -> None:
        for text in messages:
            self.say(f"[{job.index + 1}/{len(self.plan.jobs)}] {job.name}: warning: {text}")

    def job_skipped(self, job: JobPlan, status: str) -> None:
        self.say(f"[{job.index + 1}/{len(self.plan.jobs)}] {job.name}: {status}")

    def job_failed(self, job: JobPlan, error: str) -> None:
        self.say(f"[{job.index + 1}/{len(self.plan.jobs)}] {job.name} FAILED: {error}")

    def session_closed(self, session: dict[str, Any]) -> None:
        self.say(f"qrun: session closed after {time.perf_counter() - self._t0:.1f} s")


def plan_summary(plan: Plan) -> dict[str, Any]:
    """The plan as plain data: one entry per job, the running total, and the verdict."""
    running = 0.0
    jobs = []
    for job in plan.jobs:
        running += job.estimate
        jobs.append({
            "index": job.index, "name": job.name, "primitive": job.primitive, "circuit": job.circuit_name,
            **job.stats, "estimate": round(job.estimate, 3), "source": job.estimate_source,
            "running_total": round(running, 3), "share_of_max_time": round(running / plan.max_time, 4),
        })
    budget = plan.budget
    return {
        "name": plan.name, "backend": plan.backend_name, "mode": plan.mode, "max_time": plan.max_time, "jobs": jobs,
        "total": round(budget.total, 3), "margin": round(budget.margin, 3), "needed": round(budget.needed, 3),
        "fits": budget.fits, "verdict": budget.verdict(),
    }


def plan_table(plan: Plan, stream: TextIO | None = None) -> None:
    """The plan as a table, one row per job, with the running total against max_time, then the verdict."""
    from rich.console import Console
    from rich.table import Table

    summary = plan_summary(plan)
    console = Console(file=stream or sys.stdout, width=None if (stream or sys.stdout).isatty() else 140)
    table = Table(title=f"{plan.name} on {plan.backend_name}, max_time {durations.format(plan.max_time)}")
    for header in ("#", "job", "kind", "runtime jobs", "qubits", "depth", "shots", "estimate", "source", "total", "of max_time"):
        table.add_column(header, justify="right" if header not in ("job", "kind", "source") else "left")
    for j in summary["jobs"]:
        table.add_row(str(j["index"]), j["name"], j["primitive"], str(j["runtime_jobs"]), str(j["qubits"]),
                      str(j["depth"]), str(j["shots"]), durations.format(j["estimate"]) if j["estimate"] >= 0.5 else f"{j['estimate']:.2f}s",
                      j["source"], durations.format(j["running_total"]), f"{j['share_of_max_time']:.0%}")
    console.print(table)
    console.print(summary["verdict"], highlight=False)
