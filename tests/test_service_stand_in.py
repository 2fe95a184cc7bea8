"""The IBM Quantum path through the runtime's real classes, with only the REST transport replaced (fake_runtime).

QiskitRuntimeService, IBMBackend, Session, the client-side executor primitives and RuntimeJobV2 all run as they do
for a user; the stand-in creates sessions, queues jobs, encodes results as the service does, and keeps a clock the
tests control. Devices are real-size: 127 (Sherbrooke) and 156 (Fez) qubits.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from fake_runtime import Cloud, install

from qrun.app.pipeline import run as run_spec

BELL = 'OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;'
ALL_KINDS = f"""version: 1
name: kinds
backend: {{backend}}
max_time: 30m
mode: {{mode}}
options: {{{{seed: 3, resilience_level: 1, default_precision: 0.1, default_shots: 100}}}}
circuits:
  bell: {{{{qasm: "{BELL}"}}}}
  ry: {{{{library: real_amplitudes, args: {{{{num_qubits: 2, reps: 1}}}}}}}}
observables:
  zz: ZZ
  zi: ZI
jobs:
  - {{{{name: counts, primitive: sampler, circuit: bell, estimate: 10s}}}}
  - {{{{name: zz, primitive: estimator, circuit: bell, observables: [zz, zi], estimate: 10s}}}}
  - name: vqe
    primitive: minimize
    circuit: ry
    observables: [zz]
    optimizer: {{{{method: COBYLA, maxiter: 3}}}}
    estimate: 10s
  - name: swept
    primitive: estimator
    circuit: ry
    observables: [zz]
    parameter_values: [[0.1, 0.2, 0.3, 0.4]]
    sweep: {{{{mode: zip, values: {{{{precision: [0.1, 0.2]}}}}}}}}
    estimate: 10s
  - name: swept-counts
    primitive: sampler
    circuit: bell
    sweep: {{{{mode: grid, values: {{{{shots: [50, 100]}}}}}}}}
    estimate: 10s
"""


def _devices():
    from qiskit_ibm_runtime.fake_provider import FakeFez, FakeSherbrooke

    return {"ibm_sherbrooke": FakeSherbrooke(), "ibm_fez": FakeFez()}


@pytest.fixture
def cloud(monkeypatch, qrun):
    """A stand-in IBM Quantum service with real-size devices; qrun's own clock follows the stand-in's."""
    c = Cloud(_devices(), queue_seconds=2.0, job_seconds=1.0)
    install(monkeypatch, c)
    qrun.clock = c.clock  # qrun's runs read time from the stand-in's clock
    return c


def _spec(tmp_path: Path, backend: str, mode: str = "session", text: str = ALL_KINDS) -> Path:
    path = tmp_path / f"{backend}-{mode}.yaml"
    path.write_text(text.format(backend=backend, mode=mode), encoding="utf-8")
    return path


def _meta(run_dir: Path) -> dict:
    return json.loads((run_dir / "metadata.json").read_text())


@pytest.mark.parametrize(
    "backend, width", [("ibm_sherbrooke", 127), pytest.param("ibm_fez", 156, marks=pytest.mark.slow)]
)
def test_every_job_kind_runs_on_a_real_size_device_in_one_service_session(cloud, tmp_path, backend, width):
    run_dir = run_spec(_spec(tmp_path, backend), tmp_path / "results", progress="none", clock=cloud.clock)
    meta = _meta(run_dir)
    assert meta["status"] == "completed"
    # exactly one session on the service, every job carries its id, and it was closed after the last job
    assert len(cloud.sessions) == 1
    ((sid, session),) = cloud.sessions.items()
    assert session.backend == backend and session.mode == "dedicated"
    assert all(cloud.jobs[j].session_id == sid for j in cloud.order)
    assert session.state == "closed" and not session.accepting
    assert session.closed >= max(cloud.jobs[j].ended for j in cloud.order)
    assert meta["session"]["session_id"] == sid
    # the metadata's job ids are the service's, in order, and each carries its final usage
    recorded = [i for j in meta["jobs"] for i in j["job_ids"]]
    assert recorded == cloud.order
    # every job carries the run's and the spec's tags, so the service can say which of its jobs are this run's
    tags = [f"qrun-run:{run_dir.name}", f"qrun-spec:{meta['spec']['sha256'][:16]}"]
    assert all(cloud.jobs[j].tags[:2] == tags for j in cloud.order)
    # and names which submission of which job it is, which is how a resume adopts a job the journal never saw
    named = [t for j in cloud.order for t in cloud.jobs[j].tags[2:]]
    assert named[:6] == [
        "qrun-job:counts#0",
        "qrun-job:zz#0",
        "qrun-job:vqe#0",
        "qrun-job:vqe#1",
        "qrun-job:vqe#2",
        "qrun-job:vqe#3",
    ]
    assert named[-4:] == ["qrun-job:swept#0", "qrun-job:swept#1", "qrun-job:swept-counts#0", "qrun-job:swept-counts#1"]
    for entry in meta["jobs"]:
        assert [u["job_id"] for u in entry["usage"]] == entry["job_ids"]
        assert all(u["status"] == "final" and u["qpu_charge_time_seconds"] == 1.0 for u in entry["usage"])
    # the jobs' values, decoded from the service's encoding: a noiseless Bell pair gives <ZZ> = 1, <ZI> = 0
    zz = json.loads((run_dir / "jobs" / "01-zz.json").read_text())
    assert zz["observables"]["zz"]["values"] == [pytest.approx(1.0, abs=0.25)]
    assert zz["observables"]["zi"]["values"] == [pytest.approx(0.0, abs=0.25)]
    counts = json.loads((run_dir / "jobs" / "00-counts.json").read_text())
    assert set(counts["counts"]["c"][0]) <= {"00", "11"}
    # the ISA circuits really span the device
    first = cloud.jobs[cloud.order[0]]
    assert first.params["quantum_program"]["items"]
    assert _program_width(first.params) == width


def _program_width(params: dict) -> int:
    from qiskit_ibm_runtime.quantum_program.params_converters import QUANTUM_PROGRAM_PARAMS_CONVERTERS

    converter = QUANTUM_PROGRAM_PARAMS_CONVERTERS[params["schema_version"]]
    program, _ = converter.decoder(converter.model.model_validate(params))
    return program.items[0].circuit.num_qubits


def test_queue_time_before_the_first_job_does_not_count_against_max_time(cloud, tmp_path):
    """The service starts the session's clock when its first job starts; a long queue must not expire qrun's."""
    cloud.queue_seconds = 1500.0  # 25 minutes in the queue, max_time 30m, jobs 1 s each
    text = ALL_KINDS.split("  - name: vqe")[0]
    run_dir = run_spec(
        _spec(tmp_path, "ibm_sherbrooke", text=text), tmp_path / "results", progress="none", clock=cloud.clock
    )
    assert _meta(run_dir)["status"] == "completed"


def test_a_failing_service_job_stops_the_run_with_the_services_reason(cloud, tmp_path, qrun):
    cloud.fail_job(2, "Error code 1517; the circuit is too deep for this backend")
    code = qrun(_spec(tmp_path, "ibm_sherbrooke"), "--out", tmp_path / "results", "-q")
    assert code.code == 1
    assert "internal error" not in code.err
    assert (
        "job 'zz' failed: runtime job job-00002 on ibm_sherbrooke: Unable to retrieve job result. "
        "Error code 1517; the circuit is too deep for this backend"
    ) in code.err
    meta = _meta(next((tmp_path / "results" / "kinds").iterdir()))
    assert meta["status"] == "failed"
    assert meta["jobs"][1]["error"].endswith("Error code 1517; the circuit is too deep for this backend")
    assert [j["status"] for j in meta["jobs"]][2:] == ["not run"] * 3
    assert len(cloud.order) == 2  # nothing after the failure was submitted


def test_session_expiry_mid_run_then_resume_finishes_in_a_new_session(cloud, tmp_path, qrun):
    # each job runs 1 s; the session's 3 s max_time leaves too little for the third job after two
    cloud.queue_seconds = 0.0
    text = ALL_KINDS.replace("max_time: 30m", "max_time: 3s").replace(
        "estimate: 10s}", "estimate: 1s, trust_estimate: true}"
    )
    text = text.replace("options: {", "budget_margin: 0\noptions: {").split("  - name: vqe")[0]
    text += "  - {{name: again, primitive: sampler, circuit: bell, estimate: 1s, trust_estimate: true}}\n"
    spec = _spec(tmp_path, "ibm_sherbrooke", text=text)
    first = qrun(spec, "--out", tmp_path / "results", "-q")
    assert first.code == 1, first.err
    assert "; 1 job not run. Resume with --resume to run it in a new session" in first.err
    run_dir = next((tmp_path / "results" / "kinds").iterdir())
    meta = _meta(run_dir)
    assert [j["status"] for j in meta["jobs"]] == ["done", "done", "not run: session expired"]
    again = qrun(spec, "--out", tmp_path / "results", "-q", "--resume", run_dir)
    assert again.code == 0, again.err
    meta = _meta(run_dir)
    assert meta["status"] == "completed"
    sessions = [a["session"]["session_id"] for a in meta["attempts"]]
    assert len(set(sessions)) == 2 and set(sessions) == set(cloud.sessions)
    assert len(cloud.order) == 3  # the finished jobs were not run again


@pytest.mark.slow  # a full every-kind run and more; the fast suite keeps a lighter test of the same path
def test_resume_reads_finished_service_jobs_back_by_id_for_every_kind(cloud, tmp_path, monkeypatch):
    """A run dies after its jobs were submitted (here: after the service ran them); resume pays for none again."""
    spec = _spec(tmp_path, "ibm_sherbrooke")
    out = tmp_path / "results"
    run_dir = run_spec(spec, out, progress="none", clock=cloud.clock)
    before = list(cloud.order)
    meta = _meta(run_dir)
    # Make the run look killed after every submission but before any result was written.
    meta["status"] = "running"
    meta["attempts"][-1]["status"] = "running"
    for entry in meta["jobs"]:
        entry["status"] = "running"
        (run_dir / entry["file"]).unlink()
    (run_dir / "metadata.json").write_text(json.dumps(meta))
    (old,) = cloud.sessions.values()
    old.state, old.accepting, old.closed = "active", True, None  # as the killed attempt left it: still open
    resumed = run_spec(spec, out, progress="none", clock=cloud.clock, resume=run_dir)
    assert resumed == run_dir
    assert cloud.order == before  # every job, sweep group and evaluation was read back, none submitted again
    assert not old.accepting  # the killed attempt's session is closed, not left open and billing
    after = _meta(run_dir)
    assert after["status"] == "completed"
    assert [i for j in after["jobs"] for i in j["job_ids"]] == before
    swept = json.loads((run_dir / "jobs" / "03-swept.json").read_text())
    assert [g["precision"] for g in swept["groups"]] == [0.1, 0.2]


def test_a_job_still_queued_at_the_kill_is_waited_for_not_resubmitted(cloud, tmp_path):
    from qiskit_ibm_runtime import QiskitRuntimeService

    spec = _spec(tmp_path, "ibm_sherbrooke", text=ALL_KINDS.split("  - {{name: zz")[0])
    out = tmp_path / "results"
    run_dir = run_spec(spec, out, progress="none", clock=cloud.clock)
    meta = _meta(run_dir)
    # A second job, submitted by the "killed" process and still in the queue.
    service = QiskitRuntimeService()
    queued = cloud.submit("ibm_sherbrooke", cloud.jobs[cloud.order[0]].params, None, None)["id"]
    meta["status"], meta["attempts"][-1]["status"] = "running", "running"
    meta["jobs"][0].update(status="running", job_ids=[queued])
    (run_dir / meta["jobs"][0]["file"]).unlink()
    (run_dir / "metadata.json").write_text(json.dumps(meta))
    assert service.job(queued).status() == "QUEUED"
    run_spec(spec, out, progress="none", clock=cloud.clock, resume=run_dir)
    assert cloud.jobs[queued].status == "Completed"
    assert len(cloud.order) == 2  # the original and the queued one; no third submission
    assert _meta(run_dir)["jobs"][0]["job_ids"] == [queued]


def test_an_open_plan_instance_is_refused_before_any_job_with_advice(cloud, tmp_path, qrun):
    cloud.plan = "open"
    text = ALL_KINDS.split("  - name: vqe")[0]
    result = qrun(_spec(tmp_path, "ibm_sherbrooke", text=text), "--out", tmp_path / "results")
    assert result.code == 2
    assert result.err.strip().splitlines()[-1] == (
        "qrun: an Open Plan instance cannot open sessions; set mode: batch (or leave mode to auto), which the Open "
        "Plan allows"
    )
    assert cloud.sessions == {} and cloud.order == []


def test_a_session_the_service_refuses_is_a_named_service_error_not_an_internal_one(cloud, tmp_path, qrun):
    cloud.plan = "open"
    # IBM Cloud's catalog would not say the plan (it refuses archived entries): the runtime lists it as "unknown",
    # so qrun cannot refuse ahead, and the service refuses the session itself
    cloud.instances = [
        {
            "crn": cloud.instances[0]["crn"],
            "name": "fake-instance",
            "tags": [],
            "plan": "unknown",
            "pricing_type": "unknown",
        }
    ]
    text = ALL_KINDS.split("  - name: vqe")[0]
    result = qrun(_spec(tmp_path, "ibm_sherbrooke", text=text), "--out", tmp_path / "results")
    assert result.code == 1
    assert result.err.strip().splitlines()[-1] == (
        "qrun: ibm_sherbrooke: the service refused to open a session: Error code 1352; sessions are not available "
        "on the Open Plan"
    )


def test_auto_mode_opens_no_session_for_independent_jobs_so_the_open_plan_runs_them(cloud, tmp_path):
    """mode: auto (the default) sends jobs that need no earlier result as a batch: billed by QPU time, and allowed on
    the Open Plan."""
    cloud.plan = "open"
    text = ALL_KINDS.split("  - name: vqe")[0]
    run_dir = run_spec(
        _spec(tmp_path, "ibm_sherbrooke", mode="auto", text=text),
        tmp_path / "results",
        progress="none",
        clock=cloud.clock,
    )
    meta = _meta(run_dir)
    assert meta["status"] == "completed"
    assert (meta["session"]["mode"], meta["session"]["mode_reason"]) == (
        "batch",
        "no job needs another's result, and a batch bills QPU time only (a session, its wall-clock time)",
    )
    (session,) = cloud.sessions.values()
    assert session.mode == "batch"


def test_batch_mode_on_the_open_plan_runs(cloud, tmp_path):
    cloud.plan = "open"
    text = ALL_KINDS.split("  - name: vqe")[0]
    run_dir = run_spec(
        _spec(tmp_path, "ibm_sherbrooke", mode="batch", text=text),
        tmp_path / "results",
        progress="none",
        clock=cloud.clock,
    )
    assert _meta(run_dir)["status"] == "completed"
    (session,) = cloud.sessions.values()
    assert session.mode == "batch"


def test_usage_still_pending_after_the_wait_is_recorded_as_pending_not_zero(cloud, tmp_path):
    cloud.usage_pending_polls = 100
    text = ALL_KINDS.split("  - {{name: zz")[0]
    run_dir = run_spec(
        _spec(tmp_path, "ibm_sherbrooke", text=text), tmp_path / "results", progress="none", clock=cloud.clock
    )
    (usage,) = _meta(run_dir)["jobs"][0]["usage"]
    assert usage["status"] == "pending" and usage["qpu_charge_time_seconds"] is None
    assert usage["quantum_seconds"] == 1.0
    from qrun import load
    from qrun.views.report import show

    shown = show(load(run_dir))
    (row,) = [line for line in shown.splitlines() if line.startswith("│ 0 ")]
    assert row.rstrip(" │").endswith("1 (pending)")  # the QPU seconds column
    assert "usage: 1 QPU seconds in all; 1 runtime job still pending (qrun status RUN_DIR asks again)" in shown


@pytest.mark.slow
def test_no_rest_call_between_session_jobs_beyond_polling(cloud, tmp_path):
    """Between a job's result and the next submission qrun makes at most one call, the first job's metrics, and
    after the first job one more: the session's details, for the max_time the service granted."""
    text = ALL_KINDS.split("  - name: swept")[0]
    run_spec(_spec(tmp_path, "ibm_sherbrooke", text=text), tmp_path / "results", progress="none", clock=cloud.clock)
    calls = cloud.calls[: len(cloud.calls) - cloud.calls[::-1].index("close_session")]
    between = []
    for i, name in enumerate(calls):
        if name == "job_results":
            nxt = calls[i + 1 :]
            j = nxt.index("program_run") if "program_run" in nxt else len(nxt)
            between.append([c for c in nxt[:j] if c not in ("cloud_usage", "backend_status")])
    assert len(between[0]) <= 2 and all(len(b) <= 1 for b in between[1:]), between


@pytest.mark.slow
def test_the_deadline_is_the_max_time_the_service_granted(cloud, tmp_path):
    cloud.max_time_cap = 600  # the spec asks for 30m; this instance grants 10m
    text = ALL_KINDS.split("  - name: swept")[0]
    run_dir = run_spec(
        _spec(tmp_path, "ibm_sherbrooke", text=text), tmp_path / "results", progress="none", clock=cloud.clock
    )
    session = _meta(run_dir)["session"]
    assert (session["max_time"], session["granted_max_time"]) == (1800, 600)
    started, deadline = (datetime.fromisoformat(session[k].replace("Z", "+00:00")) for k in ("started", "deadline"))
    assert (deadline - started).total_seconds() == pytest.approx(600, abs=0.01)


def test_a_job_cancelled_for_running_too_long_stops_the_run_with_the_services_reason(cloud, tmp_path, qrun):
    cloud.job_seconds = 5.0  # every job would run 5 s; options.max_execution_time allows 2
    text = ALL_KINDS.split("  - name: vqe")[0].replace(
        "resilience_level: 1,", "resilience_level: 1, max_execution_time: 2,"
    )
    result = qrun(_spec(tmp_path, "ibm_sherbrooke", text=text), "--out", tmp_path / "results", "-q")
    assert result.code == 1
    (job_id,) = cloud.order
    assert cloud.jobs[job_id].status == "Cancelled" and cloud.jobs[job_id].reason_code == 1305
    last = result.err.strip().splitlines()[-1]
    assert last.startswith(f"qrun: job 'counts' failed: runtime job {job_id} on ibm_sherbrooke: ")
    assert "job ran longer than 2 s" in last


def test_the_interactive_timeout_deactivates_the_session_and_the_next_job_waits_its_turn(
    cloud, tmp_path, qrun, monkeypatch
):
    """The service deactivates an idle session, it does not close it: a later job is accepted, queues as any other
    job would, and runs; the session's max_time keeps counting."""
    from qrun.store.writer import RunWriter

    cloud.interactive_ttl = 10.0
    done = RunWriter.job_done
    states = []

    def slow_analysis(self, job, result):  # as if the user's analysis took 30 s between two jobs
        done(self, job, result)
        cloud.clock.sleep(30.0)
        cloud.tick()
        states.append(next(iter(cloud.sessions.values())).state)

    monkeypatch.setattr(RunWriter, "job_done", slow_analysis)
    text = ALL_KINDS.split("  - name: vqe")[0]
    result = qrun(_spec(tmp_path, "ibm_sherbrooke", text=text), "--out", tmp_path / "results", "-q")
    assert result.code == 0, result.err
    assert states[0] == "inactive"
    first, second = (cloud.jobs[j] for j in cloud.order)
    assert second.queue == pytest.approx(cloud.queue_seconds + cloud.inactive_queue_seconds)
    assert first.queue == pytest.approx(cloud.queue_seconds)
    (session,) = cloud.sessions.values()
    assert session.closed_reason != "interactive timeout"
    # qrun measured the gap against the timeout the session's details gave, and says so beside the job (and -q
    # still shows it)
    warning = (
        "the session sat idle 30s before this job, past its interactive timeout (10s): the service deactivated it, "
        "so the job waited in the queue as any job does, while the session's max_time kept counting"
    )
    (run,) = (tmp_path / "results" / "kinds").iterdir()
    meta = json.loads((run / "metadata.json").read_text())
    assert [j["warnings"] for j in meta["jobs"]] == [[], [f"UserWarning: {warning}"]]
    assert warning in result.err


def test_ctrl_c_cancels_the_queued_job_closes_the_session_and_exits_130(cloud, tmp_path, qrun, monkeypatch):
    import qiskit_ibm_runtime.runtime_job_v2 as rj

    def interrupted(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(rj.RuntimeJobV2, "result", interrupted)
    text = ALL_KINDS.split("  - name: vqe")[0]
    result = qrun(_spec(tmp_path, "ibm_sherbrooke", text=text), "--out", tmp_path / "results", "-q")
    assert result.code == 130
    (job_id,) = cloud.order
    assert cloud.jobs[job_id].status == "Cancelled" and cloud.jobs[job_id].reason == "cancelled by the user"
    (session,) = cloud.sessions.values()
    assert not session.accepting  # closed on the way out
    meta = json.loads(next((tmp_path / "results" / "kinds").iterdir()).joinpath("metadata.json").read_text())
    assert meta["status"] == "interrupted"


MANY_SMALL = f"""version: 1
name: many
backend: ibm_fez
max_time: 30m
options: {{seed: 3, resilience_level: 1, default_precision: 0.1}}
circuits:
  bell: {{qasm: "{BELL}"}}
observables: {{zz: ZZ, yy: YY, zi: ZI}}
jobs:
  - {{name: zz, primitive: estimator, circuit: bell, observables: [zz], estimate: 10s}}
  - {{name: yy, primitive: estimator, circuit: bell, observables: [yy], estimate: 10s}}
  - {{name: zi, primitive: estimator, circuit: bell, observables: [zi], estimate: 10s}}
"""
# a noiseless Bell pair: <ZZ> = 1, <YY> = -1, <ZI> = 0; a job given another's PUB would show it
BELL_VALUES = {"zz": 1.0, "yy": -1.0, "zi": 0.0}


def _many(tmp_path: Path, text: str = MANY_SMALL) -> Path:
    path = tmp_path / "many.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _values(run_dir: Path) -> dict[str, float]:
    return {
        name: json.loads((run_dir / "jobs" / f"{i:02d}-{name}.json").read_text())["observables"][name]["values"][0]
        for i, name in enumerate(BELL_VALUES)
    }


def test_small_service_jobs_go_out_as_one_pub_batched_runtime_job_each_with_its_own_result(cloud, tmp_path):
    run_dir = run_spec(_many(tmp_path), tmp_path / "results", progress="none", clock=cloud.clock)
    meta = _meta(run_dir)
    assert len(cloud.order) == 1  # one runtime job on a 156-qubit device, three PUBs in it
    (runtime_id,) = cloud.order
    assert [j["batched"] for j in meta["jobs"]] == [{"id": runtime_id, "pub": k} for k in range(3)]
    assert _values(run_dir) == {k: pytest.approx(v, abs=0.3) for k, v in BELL_VALUES.items()}
    # the runtime job's usage is recorded once, with the job of its first PUB
    assert [len(j.get("usage", [])) for j in meta["jobs"]] == [1, 0, 0]


def test_batch_false_sends_one_runtime_job_per_job_on_the_service(cloud, tmp_path):
    text = MANY_SMALL.replace("default_precision: 0.1}", "default_precision: 0.1, batch: false}")
    run_dir = run_spec(_many(tmp_path, text), tmp_path / "results", progress="none", clock=cloud.clock)
    assert len(cloud.order) == 3
    assert [j["batched"] for j in _meta(run_dir)["jobs"]] == [None, None, None]


@pytest.mark.slow  # several service runs; the fast suite keeps a lighter test of the same path
def test_resume_reads_each_job_of_a_batched_runtime_job_back_by_its_pub(cloud, tmp_path):
    spec = _many(tmp_path)
    out = tmp_path / "results"
    run_dir = run_spec(spec, out, progress="none", clock=cloud.clock)
    meta = _meta(run_dir)
    # Make the run look killed after the batched submission, before any result was written.
    meta["status"], meta["attempts"][-1]["status"] = "running", "running"
    for entry in meta["jobs"]:
        entry["status"] = "running"
        entry.pop("usage", None)
        (run_dir / entry["file"]).unlink()
    (run_dir / "metadata.json").write_text(json.dumps(meta))
    run_spec(spec, out, progress="none", clock=cloud.clock, resume=run_dir)
    assert len(cloud.order) == 1  # read back, not submitted again
    after = _meta(run_dir)
    assert after["status"] == "completed"
    assert [j["batched"]["pub"] for j in after["jobs"]] == [0, 1, 2]
    assert _values(run_dir) == {k: pytest.approx(v, abs=0.3) for k, v in BELL_VALUES.items()}
    assert [len(j.get("usage", [])) for j in after["jobs"]] == [1, 0, 0]


def test_a_failed_sweep_group_cancels_its_queued_sibling_and_says_so(cloud, tmp_path, qrun):
    """Both precision groups of a chunk go out before either is read; when the first fails, the second would run
    (and be paid for) for nothing: qrun cancels it, records it, and a resume submits it once."""
    head, jobs = ALL_KINDS.split("jobs:\n")
    swept = "  - name: swept" + jobs.split("  - name: swept")[1].split("  - name: swept-counts")[0]
    spec = tmp_path / "sweep.yaml"
    spec.write_text((head + "jobs:\n" + swept).format(backend="ibm_sherbrooke", mode="batch"), encoding="utf-8")
    cloud.fail_job(1, "Error code 1517; the circuit is too deep for this backend")
    result = qrun(spec, "--out", tmp_path / "results", "-q")
    assert result.code == 1
    first, second = cloud.order
    assert cloud.jobs[first].status == "Failed" and cloud.jobs[second].status == "Cancelled"
    (run_dir,) = (tmp_path / "results" / "kinds").iterdir()
    (entry,) = _meta(run_dir)["jobs"]
    notice = f"UserWarning: cancelled 1 queued runtime job of this sweep after it failed: {second}"
    assert entry["warnings"] == [notice]
    assert f"[1/1] swept: warning: {notice}" in result.err  # shown even under -q
    assert [u["job_id"] for u in entry["usage"]] == [first, second]  # the usage of both is recorded


def test_qrun_status_completes_the_usage_the_service_had_not_reported_and_show_prints_it(cloud, tmp_path, qrun):
    cloud.usage_pending_polls = 100
    text = ALL_KINDS.split("  - {{name: zz")[0]
    run_dir = run_spec(
        _spec(tmp_path, "ibm_sherbrooke", text=text), tmp_path / "results", progress="none", clock=cloud.clock
    )
    ((job_id,),) = [entry["job_ids"] for entry in _meta(run_dir)["jobs"]]
    assert _meta(run_dir)["jobs"][0]["usage"][0]["status"] == "pending"
    cloud.usage_pending_polls = 0  # the service has finished computing it
    done = qrun("status", run_dir)
    assert done.code == 0, done.err
    assert f"[0] counts: done; service: {job_id}: DONE" in done.out
    (usage,) = _meta(run_dir)["jobs"][0]["usage"]
    assert (usage["job_id"], usage["status"], usage["qpu_charge_time_seconds"]) == (job_id, "final", 1.0)
    shown = qrun("show", run_dir).out
    assert "usage: 1 QPU seconds in all\n" in shown


def test_qrun_status_of_a_service_run_that_died_says_so_and_completes_its_usage(cloud, tmp_path, qrun):
    """A run killed with its supervisor stays recorded as running; no qrun holds it, so `qrun status` says it died,
    how to resume it, and asks the service for the usage it never recorded (a running run records its own)."""
    cloud.usage_pending_polls = 100
    spec = _spec(tmp_path, "ibm_sherbrooke", text=ALL_KINDS.split("  - {{name: zz")[0])
    run_dir = run_spec(spec, tmp_path / "results", progress="none", clock=cloud.clock)
    meta = _meta(run_dir)
    meta["status"], meta["attempts"][-1]["status"] = "running", "running"  # as a SIGKILL of both processes leaves it
    (run_dir / "metadata.json").write_text(json.dumps(meta))
    cloud.usage_pending_polls = 0
    done = qrun("status", run_dir)
    assert done.code == 0, done.err
    assert done.out.splitlines()[:2] == [
        f"run {run_dir}: died",
        "died: recorded as running, but no qrun holds it: killed before it could record its end, or its machine went "
        f"down. qrun {meta['spec']['file']} --resume {run_dir} continues it",
    ]
    assert [u["status"] for u in _meta(run_dir)["jobs"][0]["usage"]] == ["final"]


def test_least_busy_goes_through_the_runtimes_own_choice(cloud, tmp_path):
    """least_busy is the runtime's QiskitRuntimeService.least_busy over the service's backend records: the device
    with the fewest pending jobs among the operational ones wide enough, and the run records which one it was."""
    cloud.pending = {"ibm_sherbrooke": 40, "ibm_fez": 3}
    text = ALL_KINDS.split("  - {{name: zz")[0]
    run_dir = run_spec(
        _spec(tmp_path, "least_busy", text=text), tmp_path / "results", progress="none", clock=cloud.clock
    )
    assert _meta(run_dir)["session"]["backend"] == "ibm_fez"
    cloud.down = {"ibm_fez"}  # the quieter one goes into maintenance: the other is chosen
    run_dir = run_spec(
        _spec(tmp_path, "least_busy", text=text), tmp_path / "results", progress="none", clock=cloud.clock
    )
    assert _meta(run_dir)["session"]["backend"] == "ibm_sherbrooke"


DYNAMIC = """version: 1
name: dyn
backend: {backend}
max_time: 10m
options: {{seed: 3, resilience_level: 0}}
circuits:
  fed: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[1] m; bit[2] c; h q[0]; m[0] = measure q[0];
    if (m[0]) {{ x q[1]; }} c = measure q;"}}
jobs:
  - {{name: counts, primitive: sampler, circuit: fed, shots: 100, estimate: 10s}}
"""
NO_DYNAMIC = {"if_else", "for_loop", "switch_case"}


def test_a_device_that_runs_no_dynamic_circuits_is_refused_before_anything_is_sent(cloud, qrun, tmp_path):
    cloud.unsupported = {"ibm_fez": NO_DYNAMIC}
    result = qrun(_spec(tmp_path, "ibm_fez", text=DYNAMIC), "--out", tmp_path / "results")
    assert (result.code, result.err) == (
        1,
        "qrun: circuit 'fed' uses if_else, which ibm_fez does not run (its configuration lists the dynamic-circuit "
        "instructions it runs); choose a device that runs them\n",
    )
    assert (cloud.sessions, cloud.jobs, cloud.dry_runs) == ({}, {}, [])


def test_least_busy_chooses_among_the_devices_that_run_the_circuits_control_flow(cloud, tmp_path):
    cloud.pending = {"ibm_sherbrooke": 40, "ibm_fez": 3}
    cloud.unsupported = {"ibm_fez": NO_DYNAMIC}  # the quieter device runs no dynamic circuits
    run_dir = run_spec(
        _spec(tmp_path, "least_busy", text=DYNAMIC), tmp_path / "results", progress="none", clock=cloud.clock
    )
    assert _meta(run_dir)["session"]["backend"] == "ibm_sherbrooke"
    counts = json.loads((run_dir / "jobs" / "00-counts.json").read_text())["counts"]["c"][0]
    # q[1] is flipped exactly where q[0] read 1: only 00 and 11, but for the device's noise
    assert counts.get("00", 0) + counts.get("11", 0) >= 80


def _killed_before_recording(run_dir: Path, keep: int) -> list[str]:
    """Make a finished run look killed after the service accepted all its jobs but before the journal recorded
    any id past the first `keep`, and before any result was written. Returns the ids the journal lost."""
    meta = _meta(run_dir)
    meta["status"], meta["attempts"][-1]["status"] = "running", "running"
    lost, seen = [], 0
    for entry in meta["jobs"]:
        entry["status"] = "running"
        entry.pop("usage", None)
        (run_dir / entry["file"]).unlink()
        kept = entry["job_ids"][: max(keep - seen, 0)]
        seen += len(entry["job_ids"])
        lost += [i for i in entry["job_ids"] if i not in kept]
        entry["job_ids"] = kept
        if entry.get("batched") and not kept:
            entry["batched"] = None
    (run_dir / "metadata.json").write_text(json.dumps(meta))
    return lost


@pytest.mark.slow  # several seconds: the fast suite keeps within its 3 minutes; CI runs it
def test_resume_adopts_the_jobs_the_service_accepted_but_the_journal_never_recorded(cloud, tmp_path, qrun):
    """Killed between the service accepting jobs and their ids reaching the journal: the resume lists the run's
    tagged jobs and its old session's, reads every one back (sweep groups and minimize evaluations included) and
    submits nothing again."""
    spec = _spec(tmp_path, "ibm_sherbrooke")
    out = tmp_path / "results"
    run_dir = run_spec(spec, out, progress="none", clock=cloud.clock)
    before = list(cloud.order)
    lost = _killed_before_recording(run_dir, keep=3)  # counts, zz and vqe's first evaluation stay recorded
    assert len(lost) == len(before) - 3 > 1
    result = qrun(spec, "--out", out, "--resume", run_dir)
    assert result.code == 0, result.err
    assert cloud.order == before  # nothing submitted again
    assert (
        f"qrun: the service had {len(lost)} runtime jobs of this run that it never recorded (it was stopped between "
        f"submitting and recording them); reading them back, not submitting again: {', '.join(lost)}"
    ) in result.err
    after = _meta(run_dir)
    assert after["status"] == "completed"
    assert [i for j in after["jobs"] for i in j["job_ids"]] == before
    zz = json.loads((run_dir / "jobs" / "01-zz.json").read_text())
    assert zz["observables"]["zz"]["values"] == [pytest.approx(1.0, abs=0.25)]


@pytest.mark.slow  # several service runs; the fast suite keeps a lighter test of the same path
def test_resume_adopts_an_unrecorded_pub_batched_runtime_job_for_each_of_its_jobs(cloud, tmp_path):
    spec = _many(tmp_path)
    out = tmp_path / "results"
    run_dir = run_spec(spec, out, progress="none", clock=cloud.clock)
    assert set(_killed_before_recording(run_dir, keep=0)) == set(cloud.order)
    run_spec(spec, out, progress="none", clock=cloud.clock, resume=run_dir)
    assert len(cloud.order) == 1  # the one batched runtime job, adopted and read back
    after = _meta(run_dir)
    assert after["status"] == "completed"
    assert [j["batched"]["pub"] for j in after["jobs"]] == [0, 1, 2]
    assert _values(run_dir) == {k: pytest.approx(v, abs=0.3) for k, v in BELL_VALUES.items()}


def test_a_resume_that_cannot_list_the_runs_jobs_submits_nothing(cloud, tmp_path, qrun, monkeypatch):
    from fake_runtime import FakeRuntimeClient

    spec = _spec(tmp_path, "ibm_sherbrooke", text=ALL_KINDS.split("  - {{name: zz")[0])
    out = tmp_path / "results"
    run_dir = run_spec(spec, out, progress="none", clock=cloud.clock)
    _killed_before_recording(run_dir, keep=0)

    def down(self, **kwargs):
        raise cloud.RequestsApiError("503 Service Unavailable", status_code=503)

    monkeypatch.setattr(FakeRuntimeClient, "jobs_get", down)
    result = qrun(spec, "--out", out, "--resume", run_dir)
    assert result.code == 1
    assert result.err.strip().splitlines()[-1] == (
        "qrun: --resume: cannot list this run's jobs on the service (503 Service Unavailable); nothing was "
        "submitted, so no job is paid for twice: try again"
    )
    assert len(cloud.order) == 1


@pytest.mark.slow  # a full every-kind run and more; the fast suite keeps a lighter test of the same path
def test_plan_asks_the_service_for_a_dry_run_estimate_of_each_job_and_shows_it(cloud, tmp_path, qrun):
    """On a service backend, qrun plan dry-runs each job shape on the device's mock counterpart (no QPU time, no
    queue) and shows the service's estimate beside qrun's own; the run records both."""
    cloud.estimated_seconds = 2.5
    spec = _spec(tmp_path, "ibm_sherbrooke")
    result = qrun("plan", spec, "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["usage_estimates"]["source"] == "dry_run"
    # per job: 2.5 s per runtime job times its runtime jobs (a minimize job's evaluations, a sweep's groups)
    assert [j["service_qpu_seconds"] for j in summary["jobs"]] == [2.5 * j["runtime_jobs"] for j in summary["jobs"]]
    assert cloud.order == [] and cloud.sessions == {}  # nothing ran, no session
    assert {cloud.jobs[j].backend for j in cloud.dry_runs} == {"mock_sherbrooke"}
    table = qrun("plan", spec)
    total = sum(j["service_qpu_seconds"] for j in summary["jobs"])
    assert f"usage estimates: the service's dry run says about {total:g} QPU seconds for 5 jobs" in table.out
    run_dir = run_spec(spec, tmp_path / "results", progress="none", clock=cloud.clock)
    meta = _meta(run_dir)
    assert meta["usage_estimates"]["source"] == "dry_run"
    # after submission, each runtime job's own estimate is kept beside what it was charged
    assert all(u["estimated_quantum_seconds"] == 2.5 for j in meta["jobs"] for u in j["usage"])


@pytest.mark.parametrize(
    "setup, reason",
    [
        (
            lambda c: setattr(c, "dry_run_access", False),
            "Failed to run program: Error code 1211; dry runs are not enabled for this instance)",
        ),
        (
            lambda c: setattr(c, "mocks", False),
            "Unable to use `dry_run` mode: backend 'mock_sherbrooke' was not found",
        ),
    ],
)
def test_where_the_account_has_no_dry_run_qruns_model_stands_and_the_plan_says_why(
    cloud, tmp_path, qrun, setup, reason
):
    setup(cloud)
    result = qrun("plan", _spec(tmp_path, "ibm_sherbrooke", text=ALL_KINDS.split("  - name: vqe")[0]))
    assert result.code == 0, result.err
    (line,) = [x for x in result.out.splitlines() if x.startswith("usage estimates:")]
    assert line.startswith("usage estimates: qrun's model; the service gave none (")
    assert reason in line, line


def test_the_remaining_allocation_is_checked_against_the_services_estimate_when_it_is_higher(cloud, tmp_path, qrun):
    cloud.estimated_seconds = 600.0  # the service expects far more than qrun's model
    cloud.usage_remaining = 1000.0
    result = qrun(_spec(tmp_path, "ibm_sherbrooke", text=ALL_KINDS.split("  - name: vqe")[0]), "--out", tmp_path / "r")
    assert result.code == 1
    assert result.err.strip().splitlines()[-1] == (
        "qrun: the instance has 16m 40s of usage left but the plan needs about 20m; lower the work or use another "
        "instance"
    )
    assert cloud.order == []


def test_the_budget_counts_the_services_dry_run_where_it_is_above_qruns_estimate(cloud, tmp_path, qrun):
    """The two declared 10s estimates fit max_time 30m, but the service's dry run says each job uses 1,000 QPU
    seconds: a job takes at least that, so the run is refused at max_time before anything is submitted (the plan
    said "usage estimates: ... 2000 QPU seconds" and "fits" on one screen); `qrun plan` shows each job's figure and
    where it came from, and the charge. Where the service says less, qrun's own estimate stands."""
    cloud.estimated_seconds = 1000.0
    spec = _spec(tmp_path, "ibm_sherbrooke", mode="batch", text=ALL_KINDS.split("  - name: vqe")[0])
    refused = qrun(spec, "--out", tmp_path / "r")
    assert (refused.code, refused.err.strip().splitlines()[-1]) == (
        2,
        f"{spec}:4:11: max_time: 30m (1800 s) is less than the sum of the job estimates plus the 3m 20s margin, "
        "36m 40s (2200 s); short by 6m 40s. Largest: counts 16m 40s, zz 16m 40s. Raise max_time to at least 36m 40s "
        "or lower the estimates",
    )
    assert cloud.order == [] and cloud.sessions == {} and not (tmp_path / "r").exists()
    plan = json.loads(qrun("plan", spec, "max_time=1h", "--json").out)
    assert [(j["estimate"], j["source"]) for j in plan["jobs"]] == [
        (1000.0, "the service's dry run (qrun's: 10s)"),
        (1000.0, "the service's dry run (qrun's: 10s)"),
    ]
    assert "QPU time charged: about 33m 20s (2000 s)" in qrun("plan", spec, "max_time=1h").out
    cloud.estimated_seconds = 1.0
    plan = json.loads(qrun("plan", spec, "--json").out)
    assert [(j["estimate"], j["source"], j["service_qpu_seconds"]) for j in plan["jobs"]] == [
        (10.0, "declared", 1.0),
        (10.0, "declared", 1.0),
    ]


@pytest.mark.slow  # several service runs; the fast suite keeps a lighter test of the same path
def test_plan_warns_when_qruns_work_between_session_jobs_would_outlast_the_interactive_timeout(cloud, tmp_path, qrun):
    """Exact values of 60 points of a 20-qubit brickwork circuit (57 merged blocks) take qrun over a minute after the
    runtime job returns (qiskit's Statevector, block by block): in a session the service would deactivate it
    meanwhile. The plan says so, and what to do; in a batch, how long they take in all."""
    even = " ".join(f"cz q[{i}], q[{i + 1}];" for i in range(0, 19, 2))
    odd = " ".join(f"cz q[{i}], q[{i + 1}];" for i in range(1, 19, 2))
    layers = " ".join([f"{even} {odd} rz(0.1) q;"] * 3)
    text = """version: 1
name: gaps
backend: ibm_sherbrooke
max_time: 2h
mode: session
options: {seed: 3, resilience_level: 0}
circuits:
  wide: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float phi; qubit[20] q; ry(phi) q; LAYERS"}
observables:
  z0: {terms: [[ZIIIIIIIIIIIIIIIIIII, 1.0]]}
jobs:
  - name: curve
    primitive: estimator
    circuit: wide
    observables: [z0]
    precision: 0.05
    exact: statevector
    sweep: {values: {phi: {linspace: [0, 3.0, 60]}}}
""".replace("LAYERS", layers)
    spec = tmp_path / "gaps.yaml"
    spec.write_text(text, encoding="utf-8")
    result = qrun("plan", spec)
    assert result.code == 0, result.err
    assert (
        "warning: jobs[0] (curve): its exact values take qrun about 1m 19s after each runtime job, longer than a "
        "session's interactive timeout (1m): the service would deactivate the session each time and the next job "
        "would wait in the queue; use mode: batch, or fewer points per job"
    ) in result.err  # 60 x 2^20 amplitudes x 57 blocks x 22 ns
    batch = qrun("plan", spec, "mode=batch")
    assert batch.code == 0
    assert batch.err.splitlines()[0] == (
        "warning: jobs[0] (curve): its exact values take qrun about 1m 19s on this machine (statevector for each of 60 "
        "sweep points, 57 gates on 20 qubits); fewer sweep points, exact: stabilizer for a Clifford circuit, or the "
        "value as a number, take less"
    )


MIXED = ALL_KINDS.replace("mode: {mode}\n", "").replace(
    "  - name: swept\n",
    "  - {{name: bound, primitive: estimator, circuit: ry, observables: [zz], parameter_values: {{from: vqe}}, "
    "estimate: 10s}}\n  - name: swept\n",
)


@pytest.mark.slow  # several seconds: the fast suite keeps within its 3 minutes; CI runs it
def test_auto_mode_sends_independent_jobs_in_batches_and_opens_a_session_only_around_the_minimize_loop(
    cloud, tmp_path, qrun
):
    """mode: auto (the default): the sampler and estimator go out as a batch, the VQE and the job that takes its
    optimum in a session of their own, and the sweeps after them in another batch; the plan says so, with what each
    bills."""
    spec = tmp_path / "mixed.yaml"
    spec.write_text(MIXED.format(backend="ibm_sherbrooke"), encoding="utf-8")
    plan = qrun("plan", spec)
    assert plan.code == 0, plan.err
    lines = [x for x in plan.out.splitlines() if x.startswith(("mode:", "  block", "  billed"))]
    assert lines[0] == (
        "mode: auto: 2 batch(es) of independent jobs and 1 session(s) around the jobs that need an earlier result "
        "while they run"
    )
    assert lines[1].startswith(
        "  block 1, jobs 0-1 (counts, zz): batch: no job in it needs another's result while it runs, and a batch "
        "bills QPU time only (a session, its wall-clock time); bills about "
    )
    assert lines[2].startswith(
        "  block 2, jobs 2-3 (vqe, bound): session: job 'vqe' is a minimize loop: each evaluation waits for the one "
        "before; bills about 50s of wall-clock time (a batch would bill about "
    )
    assert lines[3].startswith("  block 3, jobs 4-5 (swept, swept-counts): batch: ")
    assert lines[4].startswith("  billed in all: about ")
    run_dir = run_spec(spec, tmp_path / "results", progress="none", clock=cloud.clock)
    meta = _meta(run_dir)
    assert meta["status"] == "completed"
    first, second, third = cloud.sessions.values()
    assert [s.mode for s in (first, second, third)] == ["batch", "dedicated", "batch"]
    assert all(s.state == "closed" or not s.accepting for s in (first, second, third))
    # each job ran in its block's session, in order
    session_of = {entry["name"]: {cloud.jobs[i].session_id for i in entry["job_ids"]} for entry in meta["jobs"]}
    assert session_of == {
        "counts": {first.id},
        "zz": {first.id},
        "vqe": {second.id},
        "bound": {second.id},
        "swept": {third.id},
        "swept-counts": {third.id},
    }
    kept = meta["attempts"][-1]["sessions"]
    assert [(s["block"], s["mode"], s["session_id"], s["jobs"]) for s in kept] == [
        (0, "batch", first.id, [0, 2]),
        (1, "session", second.id, [2, 4]),
        (2, "batch", third.id, [4, 6]),
    ]
    shown = qrun("show", run_dir)
    assert shown.code == 0, shown.err
    lines = [x for x in shown.out.splitlines() if x.startswith("session: ")]
    assert [x.split(" on ")[0] for x in lines] == [
        "session: batch for jobs 0-1",
        "session: session for jobs 2-3",
        "session: batch for jobs 4-5",
    ]
    assert all(f"id {s.id}," in x for s, x in zip((first, second, third), lines, strict=True))


@pytest.mark.slow  # several service runs; the fast suite keeps a lighter test of the same path
def test_a_resumed_auto_run_opens_only_the_blocks_it_has_left(cloud, tmp_path, qrun):
    spec = tmp_path / "mixed.yaml"
    spec.write_text(MIXED.format(backend="ibm_sherbrooke"), encoding="utf-8")
    cloud.fail_job(4, "Error code 1517; the circuit is too deep for this backend")  # vqe's second evaluation
    failed = qrun(spec, "--out", tmp_path / "results", "-q")
    assert failed.code == 1
    assert [s.mode for s in cloud.sessions.values()] == ["batch", "dedicated"]
    run_dir = tmp_path / failed.out.strip() if failed.out.strip() else next((tmp_path / "results" / "kinds").iterdir())
    resumed = qrun(spec, "--out", tmp_path / "results", "--resume", "latest", "-q")
    assert resumed.code == 0, resumed.err
    # the finished batch is not reopened: a new session for the VQE block, a batch for the sweeps
    assert [s.mode for s in cloud.sessions.values()] == ["batch", "dedicated", "dedicated", "batch"]
    assert all(not s.accepting for s in cloud.sessions.values())
    meta = _meta(run_dir)
    assert meta["status"] == "completed"
    assert [s["block"] for s in meta["attempts"][-1]["sessions"]] == [1, 2]


@pytest.mark.slow  # several service runs; the fast suite keeps a lighter test of the same path
def test_each_job_records_the_calibration_it_ran_under_and_diff_says_when_runs_straddle_one(cloud, tmp_path, qrun):
    """The service is asked for the device's properties as of when each job ran (not when it was created), and qrun
    diff says first when two runs ran under different calibrations."""
    cloud.recalibrations = [(0.0, "2026-01-01T00:00:00+00:00"), (3600.0, "2026-01-01T01:00:00+00:00")]
    spec = _spec(tmp_path, "ibm_sherbrooke", text=ALL_KINDS.split("  - name: vqe")[0])
    out = tmp_path / "results"
    first = run_spec(spec, out, progress="none", clock=cloud.clock)
    cloud.clock.sleep(3600.0)  # an hour later the device has been recalibrated
    second = run_spec(spec, out, progress="none", clock=cloud.clock)
    for run, stamp in ((first, "2026-01-01T00:00:00+00:00"), (second, "2026-01-01T01:00:00+00:00")):
        assert {u["calibration"] for j in _meta(run)["jobs"] for u in j["usage"]} == {stamp}
    diff = qrun("diff", first, second)
    assert diff.code == 0, diff.err
    assert diff.out.splitlines()[2] == (
        "calibration: the device was recalibrated between these runs (A under 2026-01-01T00:00:00+00:00; B under "
        "2026-01-01T01:00:00+00:00): a difference below may be the device's, not the physics'"
    )
    same = qrun("diff", second, run_spec(spec, out, progress="none", clock=cloud.clock))
    assert "recalibrated" not in same.out


def test_job_tags_of_your_own_go_on_every_service_job_beside_qruns(cloud, tmp_path, qrun):
    text = ALL_KINDS.split("  - name: vqe")[0].replace("options: {{", "options: {{job_tags: [paper-3, 'fig:2b'], ", 1)
    assert "job_tags" in text
    result = qrun(_spec(tmp_path, "ibm_sherbrooke", text=text), "--out", tmp_path / "results", "-q")
    assert result.code == 0, result.err
    for job_id in cloud.order:
        tags = cloud.jobs[job_id].tags
        assert {"paper-3", "fig:2b"} <= set(tags) and any(t.startswith("qrun-run:") for t in tags)
    assert len(cloud.order) == 2  # the estimator and the sampler job


FROM_OPTIMUM = """version: 1
name: fromopt
backend: ibm_sherbrooke
max_time: 30m
options: {seed: 3, resilience_level: 1, default_precision: 0.1}
circuits:
  ry: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}
observables: {zz: ZZ, zi: ZI}
jobs:
  - {name: vqe, primitive: minimize, circuit: ry, observables: [zz], optimizer: {method: COBYLA, maxiter: 3},
     estimate: 10s}
  - {name: at-zz, primitive: estimator, circuit: ry, observables: [zz], parameter_values: {from: vqe}, estimate: 10s}
  - {name: at-zi, primitive: estimator, circuit: ry, observables: [zi], parameter_values: {from: vqe}, estimate: 10s}
"""


@pytest.mark.slow  # a minimize loop on the service: the fast suite keeps test_batching_from.py's local runs
def test_jobs_taking_an_optimum_go_out_as_one_runtime_job_in_the_minimize_loops_session(cloud, tmp_path):
    """The two jobs bound to the VQE's optimum share one PUB-batched runtime job, in the VQE's session, after it;
    each reads the exact value at that optimum (the stand-in adds the precision's noise only)."""
    from qiskit.circuit.library import real_amplitudes
    from qiskit.quantum_info import SparsePauliOp, Statevector

    spec = tmp_path / "fromopt.yaml"
    spec.write_text(FROM_OPTIMUM, encoding="utf-8")
    run_dir = run_spec(spec, tmp_path / "results", progress="none", clock=cloud.clock)
    meta = _meta(run_dir)
    (session,) = cloud.sessions.values()
    vqe, at_zz, at_zi = meta["jobs"]
    (batch_id,) = set(at_zz["job_ids"]) | set(at_zi["job_ids"])
    assert cloud.order[-1] == batch_id and batch_id not in vqe["job_ids"]
    assert [at_zz["batched"], at_zi["batched"]] == [{"id": batch_id, "pub": 0}, {"id": batch_id, "pub": 1}]
    assert {cloud.jobs[i].session_id for e in meta["jobs"] for i in e["job_ids"]} == {session.id}
    bodies = [json.loads((run_dir / "jobs" / f"0{k}-{e['name']}.json").read_text()) for k, e in enumerate(meta["jobs"])]
    state = Statevector(real_amplitudes(2, reps=1).assign_parameters(bodies[0]["optimum"]["parameters"]))
    for body, name, pauli in ((bodies[1], "zz", "ZZ"), (bodies[2], "zi", "ZI")):
        exact = state.expectation_value(SparsePauliOp(pauli)).real
        assert abs(body["observables"][name]["values"][0] - exact) < 0.4  # 4 sigma of precision 0.1


@pytest.mark.slow  # a whole experiment: `make test` stays well under its 3 minutes
def test_qrun_status_of_many_batched_jobs_asks_the_service_once_a_runtime_job(cloud, tmp_path, qrun):
    """30 estimator jobs on one circuit go to the service as one PUB-batched runtime job: `qrun status` asks the
    service about it once, for its state and once for its usage (each job's line used to ask again, 30 times each),
    lists the first 15 and last 10 jobs, and counts the rest by state; --all lists every job."""
    job = "  - {{{{name: j{k}, primitive: estimator, circuit: bell, observables: [zz], estimate: 5s}}}}\n"
    jobs = "".join(job.format(k=k) for k in range(30))
    text = ALL_KINDS.split("jobs:\n")[0] + "jobs:\n" + jobs
    cloud.usage_pending_polls = 100
    run_dir = run_spec(
        _spec(tmp_path, "ibm_sherbrooke", "batch", text=text), tmp_path / "results", progress="none", clock=cloud.clock
    )
    (job_id,) = {i for entry in _meta(run_dir)["jobs"] for i in entry["job_ids"]}
    cloud.usage_pending_polls = 0
    cloud.calls.clear()
    done = qrun("status", run_dir)
    assert done.code == 0, done.err
    # the runtime job read twice for its usage (its record, then its metrics) and twice for its state
    assert (cloud.calls.count("job_get"), cloud.calls.count("job_metadata")) == (4, 1)
    lines = done.out.splitlines()  # the run, its session as recorded, and as the service reports it, then the jobs
    assert lines[2].startswith("service session: closed, batch on ibm_sherbrooke, accepting jobs no, started ")
    # what the instance has left now, as the service's /usage says (the stand-in's default allocation)
    assert lines[3] == "instance usage: 1d 3h 46m 40s of 1d 3h 46m 40s left this period"
    lines = lines[:3] + lines[4:]
    assert lines[3:] == [
        *(f"  [{k}] j{k}: done; service: {job_id}: DONE" for k in range(15)),
        "  … 5 more (--all)",
        *(f"  [{k}] j{k}: done; service: {job_id}: DONE" for k in range(20, 30)),
        "jobs: 30 (30 done)",
        "runtime jobs on the service: 1 (1 DONE)",
    ]
    assert [u["status"] for entry in _meta(run_dir)["jobs"] for u in entry["usage"]] == ["final"] * 30
    every = qrun("status", run_dir, "--all")
    assert every.out.splitlines()[4:] == [f"  [{k}] j{k}: done; service: {job_id}: DONE" for k in range(30)]


@pytest.mark.slow  # plans a 20-qubit sweep for a 127-qubit device
def test_the_gap_warning_counts_a_dynamic_circuits_branches(cloud, tmp_path, qrun):
    """Four measurements whose bits an if reads split a 20-qubit state into 16 branches, each simulated for each point:
    the exact values' time after each runtime job is 16 times a plain circuit's, past the interactive timeout."""
    feed = " ".join(f"h q[{k}]; m[{k}] = measure q[{k}]; if (m[{k}]) {{ x q[{k + 4}]; }}" for k in range(4))
    text = f"""version: 1
name: gaps
backend: ibm_sherbrooke
max_time: 2h
mode: session
options: {{seed: 3, resilience_level: 0}}
circuits:
  fed: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float phi; qubit[20] q; bit[4] m; ry(phi) q; {feed}"}}
observables:
  z9: {{terms: [[IIIIIIIIIIZIIIIIIIII, 1.0]]}}
jobs:
  - {{name: curve, primitive: estimator, circuit: fed, observables: [z9], precision: 0.05, exact: statevector,
     sweep: {{values: {{phi: {{linspace: [0, 3.0, 20]}}}}}}}}
"""
    spec = tmp_path / "gaps.yaml"
    spec.write_text(text, encoding="utf-8")
    result = qrun("plan", spec)
    assert result.code == 0, result.err
    assert "warning: jobs[0] (curve): its exact values take qrun about 3m 56s after each runtime job" in result.err
    spec.write_text(text.replace(feed, "h q[0]; h q[1]; h q[2]; h q[3];"), encoding="utf-8")
    plain = qrun("plan", spec)
    assert plain.code == 0, plain.err
    assert "interactive timeout" not in plain.err  # the same points without the branches: well inside it


def test_the_services_session_record_reads_as_a_line():
    """`qrun status` printed Session.details() as a Python dict, and an unreadable one as {'error': ...}."""
    from qrun.app.status import session_words

    details = {
        "id": "s-1",
        "backend_name": "ibm_fez",
        "interactive_timeout": 60.0,
        "max_time": 600,
        "state": "closed",
        "accepting_jobs": False,
        "started_at": "2026-01-01T00:00:02Z",
        "closed_at": None,
        "mode": "dedicated",
        "usage_time": 4.1,
    }
    assert session_words(details) == (
        "closed, dedicated on ibm_fez, accepting jobs no, started 2026-01-01T00:00:02Z, closed -, usage 4.1 s, "
        "max_time 10m, interactive timeout 1m"
    )
    assert session_words({"error": "Session not found"}) == "unknown (Session not found)"
    assert session_words(None) == "none on record"


@pytest.mark.parametrize(
    ("backend", "hint"),
    [("ibm_fe", "; did you mean ibm_fez?"), ("ibm_nope", "")],  # the shared ibm_ prefix alone makes nothing close
)
def test_a_device_the_instance_lacks_is_refused_with_the_devices_it_has(cloud, tmp_path, qrun, backend, hint):
    result = qrun(_spec(tmp_path, backend, "batch"), "--out", tmp_path / "r", "-q")
    assert result.code == 1
    assert result.err.rstrip().endswith(f"; this instance's devices: ibm_fez, ibm_sherbrooke{hint}")
    assert not cloud.jobs  # nothing was submitted


BATCHED = """version: 1
name: batched
backend: ibm_sherbrooke
max_time: 30m
mode: batch
options: {seed: 3, default_precision: 0.05, resilience_level: 0}
circuits:
  ry: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}
observables:
  zz: ZZ
jobs:
  - {name: e0, primitive: estimator, circuit: ry, observables: [zz], parameter_values: [[0.1, 0.2, 0.3, 0.4]]}
  - {name: e1, primitive: estimator, circuit: ry, observables: [zz], parameter_values: [[0.5, 0.2, 0.3, 0.4]]}
  - {name: e2, primitive: estimator, circuit: ry, observables: [zz], parameter_values: [[0.9, 0.2, 0.3, 0.4]]}
  - {name: e3, primitive: estimator, circuit: ry, observables: [zz], parameter_values: [[1.3, 0.2, 0.3, 0.4]]}
  - {name: counts, primitive: sampler, circuit: ry, measure_all: true, parameter_values: [[0.1, 0.2, 0.3, 0.4]]}
"""


def test_a_batch_the_device_takes_as_one_runtime_job_is_dry_run_as_one_and_its_estimate_shared(cloud, tmp_path, qrun):
    """Four estimator jobs go out as one runtime job of four PUBs: the service is asked once for that job (2 s, and
    0.5 s a PUB past the first: 3.5 s), not four times for one PUB each (8 s, its overhead counted four times), and
    the figure is shared among them as qrun's own estimates share it (the first holds the runtime job's overhead);
    the sampler job after them is its own runtime job (2 s). The run's runtime job says the same estimate."""
    cloud.estimated_seconds, cloud.item_seconds = 2.0, 0.5
    spec = tmp_path / "batched.yaml"
    spec.write_text(BATCHED, encoding="utf-8")
    plan = json.loads(qrun("plan", spec, "--json").out)
    assert plan["usage_estimates"]["source"] == "dry_run"
    assert len(cloud.dry_runs) == 2
    jobs = plan["jobs"]
    ours = [j["estimate"] for j in jobs[:4]]
    assert [j["source"] for j in jobs] == ["computed"] * 5 and ours[0] > ours[1] == ours[2] == ours[3]
    assert [j["service_qpu_seconds"] for j in jobs] == pytest.approx(
        [3.5 * e / sum(ours) for e in ours] + [2.0], abs=1e-3
    )
    run_dir = run_spec(spec, tmp_path / "results", progress="none", clock=cloud.clock)
    usage = [u["estimated_quantum_seconds"] for j in _meta(run_dir)["jobs"] for u in j.get("usage", [])]
    assert usage == [3.5, 2.0]


TWO_JOBS = ALL_KINDS.split("  - name: vqe")[0]


def _calibrations(run_dir: Path) -> list[str]:
    return [u["calibration"] for j in _meta(run_dir)["jobs"] for u in j["usage"]]


def test_a_run_under_one_calibration_asks_for_it_once_and_one_recalibrated_mid_run_names_each_jobs(cloud, tmp_path):
    """The last job's calibration, made before the first job ran, was every job's: one call for the properties as of
    a moment (each fetches and decodes the device's whole calibration), beside the one the run's transpile reads."""
    spec = _spec(tmp_path, "ibm_sherbrooke", text=TWO_JOBS)
    cloud.recalibrations = [(0.0, "2026-01-01T00:00:00+00:00")]
    steady = run_spec(spec, tmp_path / "results", progress="none", clock=cloud.clock)
    assert _calibrations(steady) == ["2026-01-01T00:00:00+00:00"] * 2
    assert cloud.calls.count("backend_properties") == 2
    # recalibrated between the first job's start and the second's: each job names the calibration it ran under
    first, second = (cloud.jobs[j].started for j in cloud.order)  # the first run's started at the clock's 0
    assert first is not None and second is not None and second > first
    cloud.recalibrations.append((cloud.clock.now + (first + second) / 2, "2026-01-01T01:00:00+00:00"))
    cloud.calls.clear()
    moved = run_spec(spec, tmp_path / "results", progress="none", clock=cloud.clock)
    assert _calibrations(moved) == ["2026-01-01T00:00:00+00:00", "2026-01-01T01:00:00+00:00"]
    assert cloud.calls.count("backend_properties") == 1 + 2 + 2  # the transpile's; the last and first; each job's
