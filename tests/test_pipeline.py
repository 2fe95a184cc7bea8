"""Nothing lost: SIGKILL at every job boundary and mid-job then --resume, Ctrl-C, atomic files, the local deadline."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import Ticking

from qrun.model.outcomes import is_final
from qrun.store.journal import read_metadata

FIVE = """version: 1
name: five
backend: aer
max_time: 10m
options: {seed: 9, default_precision: 0.02, default_shots: 300}
circuits:
  ansatz: {library: {name: real_amplitudes, args: {num_qubits: 2, reps: 1}}}
  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}
observables:
  h: "0.5*XI + 0.5*IX - 1.0*ZZ"
jobs:
  - {name: e1, primitive: estimator, circuit: ansatz, observables: [h], parameter_values: [[0.1, 0.2, 0.3, 0.4]]}
  - {name: vqe, primitive: minimize, circuit: ansatz, observables: [h], optimizer: {maxiter: 12}}
  - {name: s1, primitive: sampler, circuit: bell}
  - {name: opt, primitive: sampler, circuit: ansatz, measure_all: true, parameter_values: {from: vqe}}
  - {name: e2, primitive: estimator, circuit: ansatz, observables: [h], parameter_values: [[0, 0, 0, 0]],
     sweep: {values: {"θ[0]": [0, 1, 2]}}}
"""
VOLATILE = {"job_ids", "seconds", "primitive_result"}


FAILPOINT = Path(__file__).parent / "failpoint.py"


def _qrun(*args, env=None, cwd=None):
    """qrun in a subprocess; env {"QRUN_FAILPOINT": "EVENT:JOB"} runs it under tests/failpoint.py instead."""
    env = dict(env or {})
    point = env.pop("QRUN_FAILPOINT", None)
    head = [sys.executable, str(FAILPOINT), point] if point else [sys.executable, "-m", "qrun"]
    return subprocess.run(
        [*head, *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def _results(run_dir: Path) -> dict:
    """Every job file without what legitimately differs between runs (ids, timings)."""
    out = {}
    for f in sorted((run_dir / "jobs").glob("*.json")):
        body = {k: v for k, v in json.loads(f.read_text()).items() if k not in VOLATILE}
        for entry in body.get("trace", []):
            entry.pop("seconds")
        out[f.name] = body
    out["csv"] = sorted((p.name, p.read_text()) for p in (run_dir / "jobs").glob("*.csv"))
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted, seeded run every resumed run must equal."""
    tmp = tmp_path_factory.mktemp("reference")
    (tmp / "five.yaml").write_text(FIVE)
    done = _qrun(tmp / "five.yaml", "--out", tmp / "results", "--quiet")
    assert done.returncode == 0, done.stderr
    run_dir = Path(done.stdout.strip())
    meta = json.loads((run_dir / "metadata.json").read_text())
    return {"results": _results(run_dir), "submissions": {j["name"]: len(j["job_ids"]) for j in meta["jobs"]}}


# Every job boundary (before each job starts, and after the last is written) and the middle of three jobs.
# Every boundary of every job kind is covered; the fast suite takes one of each event, `make test-all` the rest.
_EVERY = [f"job_started:{i}" for i in range(5)] + [
    "job_done:4",
    "jobs_submitted:1",
    "jobs_submitted:2",
    "jobs_submitted:4",
]
_FAST = {"job_done:4"}  # the rest run in the slow suite: make test stays well under 3 minutes
KILL_POINTS = [p if p in _FAST else pytest.param(p, marks=pytest.mark.slow) for p in _EVERY]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_then_resume_gives_the_uninterrupted_results_and_runs_no_job_twice(point, reference, tmp_path):
    spec = tmp_path / "five.yaml"
    spec.write_text(FIVE)
    killed = _qrun(spec, "--out", tmp_path / "results", "--quiet", env={"QRUN_FAILPOINT": point})
    assert killed.returncode == -signal.SIGKILL
    (run_dir,) = (tmp_path / "results" / "five").iterdir()
    first = json.loads((run_dir / "metadata.json").read_text())
    finished_before = {j["name"] for j in first["jobs"] if j["status"] == "done"}

    resumed = _qrun(spec, "--out", tmp_path / "results", "--resume", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert Path(resumed.stdout.strip()) == run_dir
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert meta["status"] == "completed"
    assert [a["status"] for a in meta["attempts"]] == ["died", "completed"]
    assert _results(run_dir) == reference["results"]
    # No finished job was submitted again, and every job kept exactly one run's submissions.
    again = [s["job"] for s in meta["attempts"][1]["submissions"]]
    assert not finished_before & set(again)
    assert {j["name"]: len(j["job_ids"]) for j in meta["jobs"]} == reference["submissions"]
    assert not list(run_dir.rglob("*.tmp"))


def test_a_killed_run_shows_as_died_and_its_resume_removes_what_unfinished_jobs_left(reference, tmp_path):
    """A run killed with its supervisor stays recorded as running: the views say it died (no qrun holds it) and how
    to continue it, and say running while a qrun holds it. What a kill can leave of unfinished jobs (a partial job
    file, a CSV committed before its job file, a points file) is removed before they run again; the finished jobs'
    files are kept as they were, and anything else too."""
    from qrun import load as qrun_load
    from qrun.app.lock import RunLock
    from qrun.cli import main

    spec = tmp_path / "five.yaml"
    spec.write_text(FIVE)
    killed = _qrun(spec, "--out", tmp_path / "results", "--quiet", env={"QRUN_FAILPOINT": "job_started:2"})
    assert killed.returncode == -signal.SIGKILL
    (run_dir,) = (tmp_path / "results" / "five").iterdir()
    jobs = run_dir / "jobs"
    assert sorted(p.name for p in jobs.iterdir()) == ["00-e1.json", "01-vqe.json"]
    listed = _qrun("list", tmp_path / "results", "--json")
    assert [r["status"] for r in json.loads(listed.stdout)] == ["died"]
    shown = _qrun("show", run_dir).stdout.splitlines()
    assert shown[0].strip() == f"five: died ({run_dir.name})"
    assert (
        "died: recorded as running, but no qrun holds it: killed before it could record its end, or its machine went "
        f"down. qrun {spec} --resume {run_dir} continues it"
    ) in shown
    assert repr(qrun_load(run_dir)).startswith("<qrun.Run 'five' died: ")  # a notebook's view says it too
    assert main(["report", str(tmp_path / "results"), "--html", str(tmp_path / "report.html")]) == 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert f"<h2>five: died <small>{run_dir.name}</small></h2>" in page and "<dt>status</dt><dd>died</dd>" in page
    lock = RunLock(run_dir)  # as the qrun running it holds it
    try:
        assert [r["status"] for r in json.loads(_qrun("list", tmp_path / "results", "--json").stdout)] == ["running"]
        assert main(["list", str(tmp_path / "results"), "--status", "died"]) == 0  # (none: the message says so)
    finally:
        lock.release()
    # e1's end is in the journal (flushed before vqe waited for its first result); vqe's may not be, and then vqe runs
    # again, as a job the journal never saw finish does
    done = [e["file"] for e in read_metadata(run_dir)["jobs"] if e["status"] == "done"]
    assert "jobs/00-e1.json" in done
    finished = {name: (run_dir / name).read_bytes() for name in done}
    partial = {**json.loads(finished["jobs/00-e1.json"]), "status": "running"}  # as a minimize job's trace is kept
    left = {"02-s1.json": json.dumps(partial), "02-s1.csv": "x\n", "04-e2.csv": "x\n", "04-e2.points.jsonl": "{}\n"}
    for name, text in {**left, "notes.txt": "mine\n"}.items():
        (jobs / name).write_text(text)

    resumed = _qrun(spec, "--out", tmp_path / "results", "--resume", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(p.name for p in jobs.iterdir()) == [
        "00-e1.json",
        "01-vqe.json",
        "02-s1.json",
        "03-opt.json",
        "04-e2.csv",
        "04-e2.json",
        "notes.txt",
    ]
    assert {name: (run_dir / name).read_bytes() for name in finished} == finished
    assert (jobs / "notes.txt").read_text() == "mine\n"
    assert _results(run_dir) == reference["results"]  # 04-e2.csv among them: written afresh, not appended to


@pytest.mark.slow  # make test stays under 3 minutes; CI runs the slow suite too
def test_resume_refuses_a_changed_spec_naming_the_change(tmp_path):
    spec = tmp_path / "five.yaml"
    spec.write_text(FIVE)
    assert _qrun(spec, "--out", tmp_path / "r", env={"QRUN_FAILPOINT": "job_started:2"}).returncode == -signal.SIGKILL
    spec.write_text(FIVE.replace("default_shots: 300", "default_shots: 400").replace("maxiter: 12", "maxiter: 13"))
    refused = _qrun(spec, "--out", tmp_path / "r", "--resume")
    (run_dir,) = (tmp_path / "r" / "five").iterdir()
    assert refused.returncode == 2
    assert refused.stderr == (
        f"qrun: cannot resume {run_dir}: the spec changed since that run: "
        "options.default_shots: 300 -> 400; jobs[1].optimizer.maxiter: 12 -> 13\n"
    )
    # max_time is not the experiment but each attempt's session's budget: a resume may raise it
    spec.write_text(FIVE.replace("max_time: 10m", "max_time: 20m"))
    resumed = _qrun(spec, "--out", tmp_path / "r", "--resume", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    meta = read_metadata(run_dir)
    assert (meta["status"], [a["session"]["max_time"] for a in meta["attempts"]]) == ("completed", [600, 1200])


@pytest.mark.slow  # make test stays under 3 minutes; CI runs the slow suite too
def test_resume_of_a_completed_run_does_nothing(tmp_path):
    spec = tmp_path / "five.yaml"
    spec.write_text(FIVE)
    run_dir = Path(_qrun(spec, "--out", tmp_path / "r", "--quiet").stdout.strip())
    before = (run_dir / "metadata.json").read_text()
    again = _qrun(spec, "--out", tmp_path / "r", "--resume", run_dir)
    assert again.returncode == 0 and f"{run_dir} already completed; nothing to resume" in again.stderr
    assert (run_dir / "metadata.json").read_text() == before


def _wait_for(predicate, child=None, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        if child is not None and child.poll() is not None:
            raise AssertionError(
                f"qrun exited early ({child.returncode}): {child.stderr.read() if child.stderr else ''}"
            )
        time.sleep(0.02)
    raise AssertionError("timed out")


def _metadata(out: Path):
    try:
        (path,) = out.glob("*/*/metadata.json")
        return json.loads(path.read_text())
    except (ValueError, OSError):
        return None


LONG_VQE = (
    FIVE.replace("backend: aer", "backend: fake_manila")
    .replace("maxiter: 12", "maxiter: 500")
    .replace("max_time: 10m", "max_time: 4h")
)


def _start(tmp_path, name, text):
    """`qrun NAME --out r` as a user starts it (the console script, so its supervisor too), in tmp_path."""
    (tmp_path / name).write_text(text)
    return subprocess.Popen(
        [sys.executable, "-m", "qrun", name, "--out", "r"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _live(out: Path):
    """A running run's state as its readers see it: metadata.json's checkpoint and the journal lines after it."""
    from qrun.errors import RunFolderError
    from qrun.store.journal import read_metadata

    try:
        (path,) = out.glob("*/*/metadata.json")
        return read_metadata(path.parent)
    except (ValueError, OSError, RunFolderError):
        return None


def _signal_long_vqe(tmp_path, signals, after_evaluations):
    """Start a long minimize run, wait for some evaluations, send the signals; returns (exit code, stderr)."""
    child = _start(tmp_path, "five.yaml", LONG_VQE)
    # the journal, not metadata.json alone: a checkpoint waits until the journal has grown by the file's size
    _wait_for(lambda: (m := _live(tmp_path / "r")) and len(m["jobs"][1]["job_ids"]) >= after_evaluations, child)
    for sig in signals:
        child.send_signal(sig)
    _, err = child.communicate(timeout=60)
    return child.returncode, err


def test_ctrl_c_cancels_closes_the_session_keeps_finished_jobs_and_exits_130(tmp_path):
    code, err = _signal_long_vqe(tmp_path, [signal.SIGINT], after_evaluations=2)
    assert code == 130, err
    meta = _metadata(tmp_path / "r")
    assert meta["status"] == "interrupted"
    assert [j["status"] for j in meta["jobs"]] == ["done", "interrupted", "not run", "not run", "not run"]
    assert meta["session"]["closed"] is not None
    assert (tmp_path / "r" / "five").glob("*/jobs/00-e1.json").__next__().exists()
    (run,) = (tmp_path / "r" / "five").iterdir()
    lines = err.splitlines()
    assert lines[-1] == f"qrun: interrupted; 1 finished job kept in {run}; qrun SPEC --resume {run} runs the rest"
    # the supervisor's notice comes first: it is printed before the signal is passed on to the run
    assert lines.count("qrun: stopping after the current job; Ctrl-C again stops at once") == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)])
def test_one_signal_to_the_whole_process_group_is_one_clean_stop(tmp_path, sig):
    """Slurm's scancel and systemd's stop signal every process of the job, and `kill -INT -- -PGID` the group: the
    run's process had the signal twice, its own and its supervisor's, and took the second for "stop at once" (exit
    130 with the session left open and the run still "running"; a SIGINT before the jobs ended in a traceback and exit
    1). Once is once: the same clean stop as one Ctrl-C."""
    (tmp_path / "five.yaml").write_text(LONG_VQE)
    child = subprocess.Popen(
        [sys.executable, "-m", "qrun", "five.yaml", "--out", "r"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a batch system's job step has
    )
    _wait_for(lambda: (m := _live(tmp_path / "r")) and len(m["jobs"][1]["job_ids"]) >= 2, child)
    os.killpg(child.pid, sig)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    meta = _metadata(tmp_path / "r")
    assert (meta["status"], [j["status"] for j in meta["jobs"]]) == (
        "interrupted",
        ["done", "interrupted", "not run", "not run", "not run"],
    )
    assert meta["session"]["closed"] is not None
    (run,) = (tmp_path / "r" / "five").iterdir()
    assert err.splitlines()[-1] == (
        f"qrun: interrupted; 1 finished job kept in {run}; qrun SPEC --resume {run} runs the rest"
    ), err


BATCH_THEN_ONE = """\
version: 1
name: bint
backend: fake_sherbrooke
max_time: 30m
options: {seed: 3, resilience_level: 0}
circuits:
  g: {library: efficient_su2, args: {num_qubits: 11, reps: 1}}
  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; cx q[0], q[1];"}
observables:
  z: {terms: [["ZZZZZZZZZZZ", 1.0]]}
  zz: ZZ
jobs:
  - {name: a, primitive: estimator, circuit: g, observables: [z], parameter_values: [{{ [0.1] * 44 }}], shots: 2000}
  - {name: b, primitive: estimator, circuit: g, observables: [z], parameter_values: [{{ [0.2] * 44 }}], shots: 2000}
  - {name: c, primitive: estimator, circuit: bell, observables: [zz], shots: 2000, options: {resilience_level: 1}}
"""


@pytest.mark.slow  # seconds of noisy simulation to interrupt; the fast suite keeps a Ctrl-C between jobs (above)
def test_ctrl_c_while_a_local_batch_computes_keeps_it_and_runs_nothing_more(tmp_path):
    """A local simulation goes on in its thread after a Ctrl-C, and the process waited for it before it exited: its
    jobs were then recorded as interrupted, their seconds of simulation thrown away. They are kept now."""
    child = _start(tmp_path, "bint.yaml", BATCH_THEN_ONE)
    _wait_for(lambda: (m := _live(tmp_path / "r")) and m["jobs"][1]["status"] == "running", child)
    time.sleep(1.5)  # inside the batch's seconds of noisy simulation of a and b
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    meta = _metadata(tmp_path / "r")
    assert (meta["status"], [j["status"] for j in meta["jobs"]]) == ("interrupted", ["done", "done", "not run"])
    (run,) = (tmp_path / "r" / "bint").iterdir()
    assert (
        err.splitlines()[-1]
        == f"qrun: interrupted; 2 finished jobs kept in {run}; qrun SPEC --resume {run} runs the rest"
    )


@pytest.mark.slow  # the fast suite keeps Ctrl-C; SIGTERM takes the same path
def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    assert _signal_long_vqe(tmp_path, [signal.SIGTERM], after_evaluations=1)[0] == 130
    assert _metadata(tmp_path / "r")["status"] == "interrupted"


@pytest.mark.parametrize(
    "delay", [0.07] + [pytest.param(d, marks=pytest.mark.slow) for d in (0.0, 0.03, 0.12, 0.2, 0.35)]
)
def test_no_file_is_ever_half_written_whenever_the_process_dies(tmp_path, delay):
    from conftest import EXPERIMENTS

    child = subprocess.Popen(
        [sys.executable, "-m", "qrun", str(EXPERIMENTS / "vqe.yaml"), "--out", "r", "--quiet"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(lambda: list((tmp_path / "r").glob("*/*/metadata.json")), child)
    time.sleep(delay)
    child.kill()
    child.wait()
    files = list((tmp_path / "r").rglob("*.json"))
    assert files
    for f in files:
        json.loads(f.read_text())  # every JSON file parses: each was renamed into place whole


@pytest.mark.slow  # make test stays under 3 minutes; CI runs the slow suite too
def test_a_second_ctrl_c_leaves_at_once_with_consistent_files(tmp_path):
    assert _signal_long_vqe(tmp_path, [signal.SIGINT, signal.SIGINT], after_evaluations=1)[0] == 130
    for f in (tmp_path / "r").rglob("*.json"):
        json.loads(f.read_text())


def test_the_local_deadline_stops_a_run_whose_jobs_outlast_max_time(qrun, tmp_path, write_spec, monkeypatch):
    # each look at the clock is 150 s later: the 10m deadline falls inside the minimize job
    qrun.clock = Ticking(150.0, start=0.0)
    spec = write_spec(FIVE.replace("maxiter: 12", "maxiter: 2"))
    result = qrun(spec, "--out", tmp_path / "r")
    assert result.code == 1
    meta = _metadata(tmp_path / "r")
    assert [j["status"] for j in meta["jobs"]] == ["done", "stopped: deadline"] + ["not run: session expired"] * 3
    assert "the session reached max_time (10m) before job 's1'; 3 jobs not run" in result.err


def test_a_rehearsals_deadline_counts_the_devices_time_not_this_machines(qrun, tmp_path, write_spec):
    """The same clock on fake_manila: a rehearsal's estimates are the real device's (47 s of its 10m here), so its
    session's deadline counts them, as the device's would, and a slow simulation on this machine stops nothing."""
    from qrun.running.events import NullSink

    class Times(NullSink):
        seen: list[float] = []

        def session_time(self, seconds: float) -> None:
            self.seen.append(seconds)

    qrun.clock = Ticking(150.0, start=0.0)
    qrun.sinks.append(Times())
    spec = write_spec(FIVE.replace("maxiter: 12", "maxiter: 2").replace("backend: aer", "backend: fake_manila"))
    result = qrun(spec, "--out", tmp_path / "r")
    assert result.code == 0, result.err
    meta = _metadata(tmp_path / "r")
    assert [j["status"] for j in meta["jobs"]] == ["done"] * 5
    # the session's time, as the live display shows it: each job's estimate, each of the loop's evaluations' share
    assert Times.seen[-1] == pytest.approx(sum(j["estimate"] for j in meta["jobs"]))
    (run,) = (tmp_path / "r" / "five").iterdir()
    vqe = json.loads((run / meta["jobs"][1]["file"]).read_text())
    assert vqe["optimum"]["final_evaluation"] is True  # nor did the loop stop short of its fresh estimate at the end


@pytest.mark.parametrize(
    "status, final",
    [
        ("CANCELLED - RAN TOO LONG", True),
        ("CANCELLED", True),
        ("DONE", True),
        ("ERROR", True),
        ("RUNNING", False),
        ("QUEUED", False),
        ("INITIALIZING", False),
    ],
)
def test_the_cancelled_family_is_final_so_a_wait_cannot_hang(status, final):
    from qiskit.providers import JobStatus

    assert is_final(status) is final
    if status in JobStatus.__members__:
        assert is_final(JobStatus[status]) is final


LONG_SWEEP = """version: 1
name: long
backend: aer
max_time: 30d
max_time_limit: 30d
options: {seed: 4, default_precision: 0.05}
circuits:
  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[1] q; ry(a) q[0];"}
observables:
  z: Z
jobs:
  - {name: s, primitive: estimator, circuit: c, observables: [z], estimate: 1s,
     sweep: {values: {a: {linspace: [0, 3.141592653589793, 12000]}}}}
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("points", "streamed"),
    [(12000, ("00-s.points.jsonl", "00-s.csv")), (4000, ("00-s.csv",))],
    ids=["long: a points file", "short: points inline"],
)
def test_a_streamed_sweep_killed_after_its_second_chunk_resumes_to_the_uninterrupted_points(tmp_path, points, streamed):
    """A sweep's chunks stream (LOCAL_CHUNK points each): a long one's points and CSV, a short one's CSV, its points
    kept for the job file. A SIGKILL after the second leaves only hidden temp files, and the resumed run's files
    equal an uninterrupted run's, line for line (the job file but for its ids and timings)."""
    from qrun.planning.sweeps import LOCAL_CHUNK

    spec = tmp_path / "long.yaml"
    spec.write_text(LONG_SWEEP.replace("12000", str(points)))
    whole = _qrun(spec, "--out", tmp_path / "whole", "--quiet")
    assert whole.returncode == 0, whole.stderr
    reference = Path(whole.stdout.strip())
    killed = _qrun(spec, "--out", tmp_path / "r", "--quiet", env={"QRUN_FAILPOINT": "sweep_chunk:0:after=2"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (run_dir,) = (tmp_path / "r" / "long").iterdir()
    assert sorted(p.name for p in (run_dir / "jobs").iterdir()) == sorted(f".{name}.stream.tmp" for name in streamed)
    assert len((run_dir / "jobs" / f".{streamed[0]}.stream.tmp").read_text().splitlines()) == 2 * LOCAL_CHUNK + (
        len(streamed) == 1  # a CSV's header
    )
    resumed = _qrun(spec, "--out", tmp_path / "r", "--resume", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    for name in streamed:
        assert (run_dir / "jobs" / name).read_text() == (reference / "jobs" / name).read_text()
    assert len((run_dir / "jobs" / "00-s.csv").read_text().splitlines()) == points + 1
    assert _results(run_dir) == _results(reference)
    assert len(json.loads((run_dir / "jobs" / "00-s.json").read_text()).get("points", [None] * points)) == points
    assert not list(run_dir.rglob("*.tmp"))


LONG_AER = """version: 1
name: long
backend: aer
max_time: 2h
options: {seed: 1, default_precision: 0.01}
circuits:
  r: {random: {num_qubits: 26, depth: 80, seed: 3}}
observables:
  z: "ZIIIIIIIIIIIIIIIIIIIIIIIII"
jobs:
  - {name: e, primitive: estimator, circuit: r, observables: [z], estimate: 30m}
"""


@pytest.mark.slow  # a 26-qubit simulation, killed after its first seconds
@pytest.mark.parametrize("signals", [[signal.SIGTERM], [signal.SIGINT, signal.SIGINT]])
def test_sigterm_or_a_second_ctrl_c_stops_a_job_that_holds_the_interpreter_within_5_s(tmp_path, signals):
    # Aer simulates holding the GIL: no handler in the process running it can act until it returns. The console
    # script's supervisor can: it kills the run and records it as interrupted, resumable.
    child = _start(tmp_path, "long.yaml", LONG_AER)

    def submitted():  # the journal says so before metadata.json does: read both, as qrun status does
        from qrun.errors import QrunError
        from qrun.store.journal import read_metadata

        try:
            (run,) = (tmp_path / "r" / "long").iterdir()
            return read_metadata(run)["jobs"][0]["job_ids"]
        except (ValueError, OSError, QrunError):
            return None

    try:
        _wait_for(submitted, child)
        time.sleep(1.0)  # well inside the simulation
        started = time.monotonic()
        for sig in signals:
            child.send_signal(sig)
            time.sleep(0.2)
        _, err = child.communicate(timeout=30)
    finally:
        child.kill()  # the supervisor: its run dies with it (PR_SET_PDEATHSIG)
    assert time.monotonic() - started < 5
    assert child.returncode == 130
    (run,) = (tmp_path / "r" / "long").iterdir()
    assert err.splitlines()[-1] == (
        f"qrun: stopped; the job did not return in time; finished jobs are kept in {run.resolve()} "
        f"(qrun SPEC --resume {run.resolve()} runs the rest)"
    )
    meta = _metadata(tmp_path / "r")
    assert (meta["status"], [j["status"] for j in meta["jobs"]], meta["attempts"][-1]["status"]) == (
        "interrupted",
        ["interrupted"],
        "interrupted",
    )
    assert not (run / ".reserve").exists()


@pytest.mark.slow  # a 26-qubit simulation, stopped by its max_time
def test_a_local_job_computing_past_max_time_is_stopped_and_recorded(tmp_path):
    """On aer max_time "only stops a runaway run", and did not: a job that computes past it held the interpreter, so
    the run's own deadline could only keep later jobs from starting (a 30-qubit sweep with max_time 10m ran on for half
    an hour). The supervisor stops it DEADLINE_GRACE after max_time and records why; exit 1, as a run the deadline
    ends."""
    from qrun.app.supervise import DEADLINE_GRACE

    child = _start(tmp_path, "long.yaml", LONG_AER.replace("max_time: 2h", "max_time: 2s"))
    _, err = child.communicate(timeout=60)
    assert child.returncode == 1, err
    (run,) = (tmp_path / "r" / "long").iterdir()
    assert err.splitlines()[-1] == (
        "qrun: stopped: max_time (2s) passed while a job computed; it could not be stopped otherwise; finished jobs "
        f"are kept in {run.resolve()} (raise max_time; qrun SPEC --resume {run.resolve()} runs the rest)"
    )
    meta = _metadata(tmp_path / "r")
    assert (meta["status"], meta["error"], [j["status"] for j in meta["jobs"]]) == (
        "interrupted",
        "stopped: max_time (2s) passed while a job computed",
        ["interrupted"],
    )
    started = datetime.fromisoformat(meta["jobs"][0]["started"].replace("Z", "+00:00"))
    ended = datetime.fromisoformat(meta["attempts"][-1]["ended"].replace("Z", "+00:00"))
    assert 2 + DEADLINE_GRACE <= (ended - started).total_seconds() < 2 + DEADLINE_GRACE + 3
    # and `qrun show` says that its resume needs more time: the same max_time would stop the job again
    shown = subprocess.run([sys.executable, "-m", "qrun", "show", run], cwd=tmp_path, capture_output=True, text=True)
    assert f"qrun long.yaml --resume {run} max_time=LONGER runs the 1 job left" in shown.stdout.splitlines()


def test_a_run_killed_from_outside_is_recorded_as_interrupted_with_the_signal_named(tmp_path, qrun):
    """The kernel's out-of-memory killer sends the process running the jobs SIGKILL. Its supervisor records the run
    as interrupted, resumable, says so, and exits 1; before, the folder said "running" for ever and nothing was said."""
    child = _start(tmp_path, "long.yaml", LONG_VQE)
    try:
        _wait_for(lambda: (_live(tmp_path / "r") or {}).get("jobs", [{}])[0].get("job_ids"), child)
        (worker,) = Path(f"/proc/{child.pid}/task/{child.pid}/children").read_text().split()
        os.kill(int(worker), signal.SIGKILL)
        _, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 1
    (run,) = (tmp_path / "r" / "five").iterdir()
    killed = "the run's process was killed by SIGKILL (the kernel's out-of-memory killer sends it, as kill -9 does)"
    assert err.splitlines()[-1] == (
        f"qrun: {killed}; finished jobs are kept in {run.resolve()} (qrun SPEC --resume {run.resolve()} runs the rest)"
    )
    meta = _metadata(tmp_path / "r")
    assert (meta["status"], meta["error"], meta["jobs"][0]["status"]) == ("interrupted", killed, "interrupted")
    (session,) = [line for line in qrun("show", run).out.splitlines() if line.startswith("session: ")]
    assert session.endswith(", closed -")  # never closed: shown as qrun status shows it, not as None
