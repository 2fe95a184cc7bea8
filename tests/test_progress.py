import io
import time

from conftest import EXPERIMENTS

from qrun.app.prepare import prepare
from qrun.views.progress import LiveReporter, Reporter, reporter_for


def test_plain_lines_for_logs_and_quiet(capsys):
    p = prepare(EXPERIMENTS / "vqe.yaml", out="/nonexistent").plan
    stream = io.StringIO()
    reporter = Reporter(p, stream=stream)
    reporter.session_opened({"mode": "session", "engine": "aer-primitives"})
    job = p.jobs[0]
    reporter.job_started(job)
    trace = [{"value": -1.0 - i / 100} for i in range(10)]
    reporter.job_progress(job, trace)
    assert stream.getvalue().splitlines() == [
        "qrun: vqe-h2: 2 jobs on aer in a session (aer-primitives), max_time 30m, estimated 25m 40s (as declared)",
        "[1/2] minimize vqe ...",
        "[1/2] vqe: evaluation 10/151, value -1.09, best -1.09",
    ]
    assert isinstance(reporter_for(p, "lines"), Reporter) and not isinstance(reporter_for(p, "lines"), LiveReporter)
    assert reporter_for(p, "none").quiet


def test_the_live_display_shows_job_n_of_m_the_vqe_iteration_best_value_and_time_used():
    from rich.console import Console

    p = prepare(EXPERIMENTS / "vqe.yaml", out="/nonexistent").plan
    stream = io.StringIO()
    live = LiveReporter(p, console=Console(file=stream, force_terminal=True, width=160))
    live.session_opened({"engine": "aer-primitives"})
    live.job_started(p.jobs[0])
    live.job_progress(p.jobs[0], [{"value": -1.5}, {"value": -1.8}, {"value": -1.7}])
    live.progress.refresh()
    screen = stream.getvalue()
    live.session_closed({})
    assert "1/2 minimize vqe: evaluation 3/151, value -1.7, best -1.8" in screen
    assert "of max_time 30m" in screen


def test_a_rehearsals_display_shows_the_devices_time_against_max_time():
    """A fake device's deadline counts the device's seconds (session_time): the display's time row shows them, with
    this machine's beside them; aer's shows this machine's alone."""
    from rich.console import Console

    def screen(backend: str, device_seconds: float | None) -> str:
        p = prepare(EXPERIMENTS / "vqe.yaml", {"backend": backend, "precision": 0.02}, out="/nonexistent").plan
        stream = io.StringIO()
        live = LiveReporter(p, console=Console(file=stream, force_terminal=True, width=160))
        live.session_opened({"engine": "aer-primitives"})
        if device_seconds is not None:
            live.session_time(device_seconds)
        live.progress.refresh()
        live.session_closed({})
        return stream.getvalue()

    rehearsal = screen("fake_manila", 754.0)
    assert "12m 34s of max_time 30m (the device's; here 0." in rehearsal
    assert "of max_time 30m (the device's" not in screen("aer", None)


class Flushes(io.StringIO):
    """A stream that counts its flushes: each is a write the terminal or log sees."""

    flushes = 0

    def flush(self):
        self.flushes += 1
        super().flush()


def test_a_batchs_lines_are_each_jobs_own_written_once_for_the_batch(tmp_path):
    """A batch's jobs start and end together: each job still has its line, and the batch's lines go out in one write
    (a write and a flush per job made 20,000 of them for a 10,000-job run). No job's result is made for its line."""
    import numpy as np
    from conftest import many_jobs_spec

    from qrun.model.outcomes import StackedResults

    class Untouchable(StackedResults):
        def __getitem__(self, k):
            raise AssertionError("the reporter made a job's result")

    spec = many_jobs_spec(tmp_path, 30, "primitive: estimator, circuit: b, observables: [z]")
    p = prepare(spec, out=tmp_path / "r").plan
    stream = Flushes()
    reporter = Reporter(p, stream=stream)
    reporter.jobs_started(p.jobs)
    reporter.jobs_done(p.jobs, Untouchable({"evs": np.ones((30, 1)), "stds": np.zeros((30, 1))}, [{}], [0] * 30, {}))
    assert stream.getvalue().splitlines() == [f"[{k + 1}/30] estimator j{k} ..." for k in range(30)] + [
        f"[{k + 1}/30] j{k} done in 0.0 s (in a batch of 30)" for k in range(30)
    ]
    assert stream.flushes == 2


def test_the_live_display_takes_a_batch_at_once(tmp_path):
    """On a terminal a batch names its first and last jobs, advances the jobs bar by the batch, and its jobs' lines
    are printed in one go: printed one by one, each redrew the display, and a 10,000-job run took 9 s to watch
    against 1.7 s in a log."""
    from conftest import many_jobs_spec
    from rich.console import Console

    class Counting(Console):
        prints = 0  # of text: the live display's own refreshes print control codes

        def print(self, *objects, **kwargs):
            self.prints += isinstance(objects[0], str)
            super().print(*objects, **kwargs)

    spec = many_jobs_spec(tmp_path, 30, "primitive: estimator, circuit: b, observables: [z]")
    p = prepare(spec, out=tmp_path / "r").plan
    stream = io.StringIO()
    console = Counting(file=stream, force_terminal=True, width=160)
    live = LiveReporter(p, console=console)
    live.session_opened({"engine": "aer-primitives"})
    before = console.prints
    live.jobs_started(p.jobs)
    live.progress.refresh()
    assert "1-30/30 estimator j0 … j29" in stream.getvalue()
    live.jobs_done(p.jobs, [None] * 30)  # type: ignore[list-item]
    assert live.progress.tasks[live.jobs].completed == 30
    live.session_closed({})
    assert console.prints - before == 2  # the batch's lines, then "session closed" below the display
    text = stream.getvalue()
    done = [text.index(f"[{k + 1}/30] j{k} done in 0.0 s (in a batch of 30)\n") for k in range(30)]
    assert done == sorted(done) and text.index("qrun: session closed after ") > done[-1]


def test_the_live_displays_lines_go_out_together_in_order_and_without_waiting_for_an_event(tmp_path):
    """Each print above the live display redraws it, which cost a small job more than the job: lines said while it
    runs go out together, at most FLUSH seconds later, by a timer (a line is never held while a long job runs), in
    the order they were said, warnings among them; the display's end prints what is left."""
    from conftest import many_jobs_spec
    from rich.console import Console

    spec = many_jobs_spec(tmp_path, 3, "primitive: estimator, circuit: b, observables: [z]")
    p = prepare(spec, out=tmp_path / "r").plan
    stream = io.StringIO()
    live = LiveReporter(p, console=Console(file=stream, force_terminal=True, width=160))
    live.session_opened({"engine": "aer-primitives"})
    live.job_started(p.jobs[0])
    live.job_done(p.jobs[0], None)  # type: ignore[arg-type]
    live.warn("a warning about j0")
    deadline = time.monotonic() + 5
    while "a warning about j0" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)  # no further event: the timer prints them
    text = stream.getvalue()
    assert text.index("[1/3] j0 done in ") < text.index("a warning about j0")
    live.job_done(p.jobs[1], None)  # type: ignore[arg-type]
    live.session_closed({})
    text = stream.getvalue()
    assert text.index("a warning about j0") < text.index("[2/3] j1 done in ") < text.index("qrun: session closed")


def test_the_live_display_prints_brackets_as_they_are(tmp_path):
    """A warning is the library's text: "[shots=4096]" is not a style to drop, and "[/]" not a tag to refuse."""
    from conftest import many_jobs_spec

    spec = many_jobs_spec(tmp_path, 1, "primitive: estimator, circuit: b, observables: [z]")
    p = prepare(spec, out=tmp_path / "r").plan
    stream = io.StringIO()
    from rich.console import Console

    live = LiveReporter(p, console=Console(file=stream, force_terminal=True, width=160))
    live.warn("before: a [/] b")  # before the display starts
    live.session_opened({"engine": "aer-primitives"})
    live.warn("UserWarning: precision [shots=4096] is coarse; see [/tmp/x]")
    live.session_closed({})
    text = stream.getvalue()
    assert "before: a [/] b" in text and "UserWarning: precision [shots=4096] is coarse; see [/tmp/x]" in text


def test_before_a_long_wait_the_live_display_shows_the_lines_so_far_and_the_job_that_runs(tmp_path):
    """Aer holds the interpreter lock while it simulates, so neither the timer nor the display's refresh runs: before
    a wait the job's estimate says will be long, the lines so far and the display go out at once (the screen named a
    job finished 14 jobs earlier while a 30-qubit job ran)."""
    import dataclasses

    from conftest import many_jobs_spec
    from rich.console import Console

    spec = many_jobs_spec(tmp_path, 3, "primitive: estimator, circuit: b, observables: [z]")
    p = prepare(spec, out=tmp_path / "r").plan
    stream = io.StringIO()
    live = LiveReporter(p, console=Console(file=stream, force_terminal=True, width=160))
    live.FLUSH = 600.0  # the timer never prints within this test: only waiting() can
    live.session_opened({"engine": "aer-primitives"})
    live.job_started(p.jobs[0])
    live.waiting()  # a short job: its lines wait for the timer
    live.job_done(p.jobs[0], None)  # type: ignore[arg-type]
    assert "[1/3] j0 done in " not in stream.getvalue()
    live.job_started(dataclasses.replace(p.jobs[1], estimate=3600.0))
    live.waiting()
    screen = stream.getvalue()
    live.session_closed({})
    assert "[1/3] j0 done in " in screen and "2/3 estimator j1" in screen


def test_a_closed_stream_quiets_the_reporter_and_fails_nothing():
    """A progress line to a pipe its reader closed: the reporter says nothing more, and raises nothing (it failed
    the run)."""

    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    p = prepare(EXPERIMENTS / "vqe.yaml", out="/nonexistent").plan
    reporter = Reporter(p, stream=Closed())
    reporter.session_opened({"mode": "session", "engine": "aer-primitives"})
    reporter.job_started(p.jobs[0])
    reporter.warn("a warning")
    assert (reporter.quiet, reporter.warnings) == (True, False)
