import io

from conftest import EXPERIMENTS

from qrun.app.prepare import prepare
from qrun.views.progress import LiveReporter, Reporter, reporter_for


def test_plain_lines_for_logs_and_quiet(capsys):
    p = prepare(EXPERIMENTS / "vqe.yaml", out="/nonexistent").plan
    stream = io.StringIO()
    reporter = Reporter(p, stream=stream)
    reporter.session_opened({"engine": "aer-primitives"})
    job = p.jobs[0]
    reporter.job_started(job)
    trace = [{"value": -1.0 - i / 100} for i in range(10)]
    reporter.job_progress(job, trace)
    assert stream.getvalue().splitlines() == [
        "qrun: vqe-h2: 2 jobs on aer (aer-primitives), max_time 30m, estimated 25m 40s",
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
