"""What a person watching a run sees: one line per event on stderr, nothing with --quiet."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from ..backends.registry import traits
from ..model import durations
from ..model.findings import first_of
from ..model.outcomes import MinimizeOutcome
from ..model.plan import JobPlan, Plan
from ..model.records import Evaluation, SessionRecord
from ..model.words import counted
from ..running.events import NullSink

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult
    from rich.console import Console

    from ..model.outcomes import JobResult
    from ..planning import sweeps


class Reporter(NullSink):
    """A sink for the runner's events that prints progress lines."""

    def __init__(self, plan: Plan, quiet: bool = False, stream: TextIO | None = None, warnings: bool = True):
        self.plan = plan
        self.quiet = quiet
        self.warnings = warnings  # quiet (-q) still shows what weakens a result; only "none" hides it too
        self.stream = stream or sys.stderr
        self._t0 = time.perf_counter()
        self._job_t0 = self._t0
        self._opened = self._t0  # when the session or batch in flight opened
        self._announced = False  # the run's first line is said once, however many blocks open
        # a job's place in the whole session: a multirun's points each number their jobs from 0
        self._place = {(j.run_key, j.index): k + 1 for k, j in enumerate(plan.jobs)}

    def _number(self, job: JobPlan) -> int:
        return self._place.get((job.run_key, job.index), job.index + 1)

    def _tag(self, job: JobPlan) -> str:
        return f"[{self._number(job)}/{len(self.plan.jobs)}]"

    def _name(self, job: JobPlan) -> str:
        """The job's name; in a multirun, after its point's ("n=2/energy"): each point runs the same job names."""
        return f"{self.plan.points[job.run_key]}/{job.name}" if self.plan.points else job.name

    def say(self, text: str) -> None:
        if not self.quiet:
            self._write(text)

    def warn(self, text: str) -> None:
        """A warning about a value or the run: shown even under -q."""
        if not self.quiet or self.warnings:
            self._write(text)

    def _write(self, text: str) -> None:
        try:
            print(text, file=self.stream, flush=True)
        except OSError:
            # a closed pipe (`qrun SPEC 2>&1 | head`): the run goes on unwatched, as its folder keeps everything;
            # failing it there would throw away jobs already paid for
            self.quiet, self.warnings = True, False

    def session_opened(self, session: SessionRecord) -> None:
        """The run's first line, once; on the service under mode: auto, a line for each block as it opens."""
        self._opened = time.perf_counter()
        mode, block = session.get("mode", "session"), session.get("block")
        if not self._announced:
            self._announced = True
            plan, n = self.plan, len(self.plan.jobs)
            what = f"{plan.name}: " if not plan.points else ""  # a multirun's first line named its group
            of = f" of {counted(plan.points_here, 'point')}" if plan.points else ""
            into = f"in a {mode} ({session.get('engine')})" if block is None else _blocks_words(plan)
            # a spec's own estimate is often a device's, which the demo's aer run beats by minutes: say whose it is
            declared = " (as declared)" if any(job.estimate_source == "declared" for job in plan.jobs) else ""
            self.say(
                f"qrun: {what}{n} job{'s' * (n != 1)}{of} on {plan.backend_name} {into}, max_time "
                f"{durations.format(plan.max_time)}, estimated {durations.format(plan.total_estimate)}{declared}"
            )
        if block is not None:
            start, stop = session.get("jobs") or (0, len(self.plan.jobs))
            names = first_of([self._name(job) for job in self.plan.jobs[start:stop]])
            self.say(f"qrun: {mode} {block + 1} of {len(self.plan.blocks)} opened: {names}")

    def job_started(self, job: JobPlan) -> None:
        self._job_t0 = time.perf_counter()
        if not self.quiet:  # not even formatted: a batch of 10,000 jobs made 20,000 lines only to drop them
            self.say(f"{self._tag(job)} {job.primitive} {self._name(job)} ...")

    def jobs_started(self, jobs: list[JobPlan]) -> None:
        """A batch starts now, once: each job's line, written at once (a line and a flush per job, and on a terminal
        a redraw of the live display per job, made a 10,000-job run several times slower to watch than to run)."""
        self._job_t0 = time.perf_counter()
        if not self.quiet:  # quiet: not even formatted
            self.say("\n".join(f"{self._tag(job)} {job.primitive} {self._name(job)} ..." for job in jobs))

    def jobs_submitted(self, jobs: list[JobPlan], job_id: str, pubs: list[int | None]) -> None:
        pass

    def job_progress(self, job: JobPlan, trace: list[Evaluation]) -> None:
        n = len(trace)
        if n == 1 or n % 10 == 0:
            best = min(t["value"] for t in trace)
            self.say(
                f"{self._tag(job)} {self._name(job)}: evaluation {n}/{job.max_evaluations}, "
                f"value {trace[-1]['value']:.6g}, best {best:.6g}"
            )

    def sweep_chunk(
        self,
        job: JobPlan,
        start: int,
        points: list[dict[str, object]],
        groups: list[sweeps.Group],
        results: list[PrimitiveResult],
    ) -> None:
        """A sweep of many chunks says how far it is at each tenth of its points."""
        total = len(job.points or ())
        done = start + len(points)
        if total > job.chunk and done < total and done * 10 // total > start * 10 // total:
            self.say(f"{self._tag(job)} {self._name(job)}: {done:,}/{total:,} points")

    def jobs_done(self, jobs: list[JobPlan], results: Sequence[PrimitiveResult]) -> None:
        """A batch's jobs finished: their lines, written at once. A batch holds estimator and sampler jobs, whose line
        is their time, so no job's result is made (stacked results stay so). The time is the batch's, and says so: 60
        jobs each "done in 11.9 s" read as twelve minutes."""
        if not self.quiet:
            took = f"{time.perf_counter() - self._job_t0:.1f} s" + (f" (in a batch of {len(jobs):,})" * (len(jobs) > 1))
            self.say("\n".join(f"{self._tag(job)} {self._name(job)} done in {took}" for job in jobs))

    def job_done(self, job: JobPlan, result: JobResult) -> None:
        if self.quiet:
            return
        took = f"{time.perf_counter() - self._job_t0:.1f} s"
        if isinstance(result, MinimizeOutcome) and result.stopped:
            self.say(f"{self._tag(job)} {self._name(job)} {result.stopped} after {took}: {result.message}")
        else:
            self.say(f"{self._tag(job)} {self._name(job)} done in {took}")

    def job_warnings(self, job: JobPlan, messages: list[str]) -> None:
        for text in messages:
            self.warn(f"{self._tag(job)} {self._name(job)}: warning: {text}")

    def job_skipped(self, job: JobPlan, status: str) -> None:
        self.say(f"{self._tag(job)} {self._name(job)}: {status}")

    def job_failed(self, job: JobPlan, error: str) -> None:
        self.say(f"{self._tag(job)} {self._name(job)} FAILED: {error}")

    def session_closed(self, session: SessionRecord) -> None:
        mode = session.get("mode", "session")
        self.say(f"qrun: {mode} closed after {time.perf_counter() - self._opened:.1f} s")


class LiveReporter(Reporter):
    """On a terminal: a live display of job n of m, the current job, VQE progress, and time used against max_time."""

    def __init__(self, plan: Plan, stream: TextIO | None = None, console: Console | None = None) -> None:
        super().__init__(plan, quiet=False, stream=stream)
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console or Console(file=self.stream, markup=False)
        self.progress = Progress(
            TextColumn("{task.description:<6}"),
            BarColumn(bar_width=30),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
            refresh_per_second=8,
        )
        self.jobs = self.progress.add_task("jobs", total=len(plan.jobs), detail="")
        self.clock = self.progress.add_task(
            "time", total=plan.max_time, detail=f"of max_time {durations.format(plan.max_time)}"
        )
        # While the display runs, lines wait up to FLUSH seconds and go out together: each print redraws the display,
        # which took longer than a small job (RESULTS.md, "A run of many jobs, watched"). A timer prints them, so a
        # line never waits on the next event, and the display's end prints what is left.
        self._live = False
        self._pending: list[str] = []
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._expected = 0.0  # s the current job or batch is estimated to take
        # a rehearsal's session time is the device's (session_time), which its deadline counts: the bar shows that
        self._device: float | None = 0.0 if traits(plan.backend_kind).rehearsed else None
        self._shown_at = 0.0  # when waiting() last brought the display up to date

    FLUSH = 0.125  # s: the display's own refresh interval (refresh_per_second=8)

    def say(self, text: str) -> None:
        with self._lock:
            if not self._live:
                self.progress.console.print(text, highlight=False, markup=False)
                return
            self._pending.append(text)
            if self._timer is None:
                self._timer = threading.Timer(self.FLUSH, self._flush)
                self._timer.daemon = True
                self._timer.start()

    def warn(self, text: str) -> None:
        self.say(text)  # in order with the lines before it, above the display

    def _flush(self) -> None:
        with self._lock:  # held while printing, so that lines go out in the order they were said
            if self._timer is not None:
                self._timer.cancel()  # this very timer, or one the display's end makes unneeded
                self._timer = None
            lines, self._pending = self._pending, []
            if lines:
                try:
                    self.progress.console.print("\n".join(lines), highlight=False, markup=False)
                except (OSError, ValueError):  # the terminal went away (in the timer's thread: no traceback)
                    pass

    def _tick(self, detail: str | None = None, advance: int = 0) -> None:
        here = time.perf_counter() - self._t0
        used = here if self._device is None else self._device
        device = "" if self._device is None else f" (the device's; here {_seconds(here)})"
        self.progress.update(
            self.clock,
            completed=min(used, self.plan.max_time),
            detail=f"{_seconds(used)} of max_time {durations.format(self.plan.max_time)}{device}",
        )
        if detail is not None:
            self.progress.update(self.jobs, detail=detail)
        if advance:
            self.progress.advance(self.jobs, advance)

    def session_time(self, seconds: float) -> None:
        self._device = seconds
        self._tick()

    def session_opened(self, session: SessionRecord) -> None:
        super().session_opened(session)
        self.progress.start()
        self._live = True
        self._tick()

    def job_started(self, job: JobPlan) -> None:
        self._job_t0 = time.perf_counter()
        self._expected = job.estimate
        self._tick(f"{self._number(job)}/{len(self.plan.jobs)} {job.primitive} {self._name(job)}")

    def jobs_started(self, jobs: list[JobPlan]) -> None:
        """A batch: the display names its first and last jobs, once."""
        first, last = jobs[0], jobs[-1]
        self._job_t0 = time.perf_counter()
        where = f"{self._number(first)}" if first is last else f"{self._number(first)}-{self._number(last)}"
        names = self._name(first) if first is last else f"{self._name(first)} … {self._name(last)}"
        self._expected = sum(job.estimate for job in jobs)
        self._tick(f"{where}/{len(self.plan.jobs)} {first.primitive} {names}")

    def waiting(self) -> None:
        """Before a wait the current job is expected to make long, the lines said so far and the display go out now:
        Aer simulates holding the interpreter lock, so neither the timer nor the display's own refresh can run until
        it returns, and the screen would name a job finished long before (about 8 times a second at most)."""
        now = time.perf_counter()
        if self._live and self._expected >= self.FLUSH and (self._pending or now - self._shown_at >= self.FLUSH):
            self._flush()
            self._tick()
            self.progress.refresh()
            self._shown_at = now

    def sweep_chunk(
        self,
        job: JobPlan,
        start: int,
        points: list[dict[str, object]],
        groups: list[sweeps.Group],
        results: list[PrimitiveResult],
    ) -> None:
        total = len(job.points or ())
        if total > job.chunk:
            self._tick(
                f"{self._number(job)}/{len(self.plan.jobs)} {job.primitive} {self._name(job)}: "
                f"{start + len(points):,}/{total:,} points"
            )

    def job_progress(self, job: JobPlan, trace: list[Evaluation]) -> None:
        best = min(t["value"] for t in trace)
        self._tick(
            f"{self._number(job)}/{len(self.plan.jobs)} {job.primitive} {self._name(job)}: evaluation "
            f"{len(trace)}/{job.max_evaluations}, value {trace[-1]['value']:.6g}, best {best:.6g}"
        )

    def job_done(self, job: JobPlan, result: JobResult) -> None:
        super().job_done(job, result)
        self._tick(advance=1)

    def jobs_done(self, jobs: list[JobPlan], results: Sequence[PrimitiveResult]) -> None:
        super().jobs_done(jobs, results)
        self._tick(advance=len(jobs))

    def job_skipped(self, job: JobPlan, status: str) -> None:
        super().job_skipped(job, status)
        self._tick(advance=1)

    def session_closed(self, session: SessionRecord) -> None:
        self._tick()
        self._flush()
        self._live = False
        self.progress.stop()
        super().session_closed(session)


def _blocks_words(plan: Plan) -> str:
    """ "in 2 batches and a session (engines)": a plan of several blocks (modes.blocks), each opened in turn."""
    words = (("batch", "batches"), ("session", "sessions"))
    counts = [(sum(b.mode == one for b in plan.blocks), one, many) for one, many in words]
    parts = [f"a {one}" if k == 1 else f"{k} {many}" for k, one, many in counts if k]
    engines = "+".join(sorted({e for job in plan.jobs for e in job.engine.split("+")}))
    return f"in {' and '.join(parts)} ({engines})"


def reporter_for(plan: Plan, mode: str = "auto") -> Reporter:
    """mode auto: the live display on a terminal, plain lines in logs; lines: always plain lines; quiet (-q): only
    warnings; none: silence."""
    if mode == "none":
        return Reporter(plan, quiet=True, warnings=False)
    if mode == "quiet":
        return Reporter(plan, quiet=True)
    if mode == "auto" and sys.stderr.isatty():
        return LiveReporter(plan)
    return Reporter(plan)


def _seconds(seconds: float) -> str:
    return durations.format(seconds) if seconds >= 1 else f"{seconds:.1f}s"
