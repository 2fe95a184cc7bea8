"""The Open Plan, which opens no session (IBM: its workloads run in job or batch mode), and how a run says which
mode it opened: through the runtime's real classes over the service stand-in (fake_runtime)."""

from __future__ import annotations

import json
import re

import pytest
from fake_runtime import Cloud, install

VQE = """version: 1
name: open-vqe
backend: ibm_sherbrooke
max_time: 30m
options: {seed: 3, resilience_level: 1, default_precision: 0.1, default_shots: 100}
circuits:
  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}
  ry: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}
observables: {zz: ZZ}
jobs:
  - {name: counts, primitive: sampler, circuit: bell, estimate: 10s}
  - {name: vqe, primitive: minimize, circuit: ry, observables: [zz], optimizer: {method: COBYLA, maxiter: 3},
     estimate: 10s}
  - {name: at, primitive: estimator, circuit: ry, observables: [zz], parameter_values: {from: vqe}, estimate: 10s}
"""

LOOP_IN_A_BATCH = (
    "an Open Plan instance has no sessions, so a batch, though job 'vqe' is a minimize loop: each evaluation waits "
    "for the one before; in a batch each may wait in the queue (a session, on a paid plan, would hold the device "
    "between them)"
)


@pytest.fixture
def cloud(monkeypatch, qrun):
    from qiskit_ibm_runtime.fake_provider import FakeSherbrooke

    c = Cloud({"ibm_sherbrooke": FakeSherbrooke()}, queue_seconds=2.0, job_seconds=1.0)
    install(monkeypatch, c)
    qrun.clock = c.clock
    return c


def _lines(err: str) -> list[str]:
    """The run's progress lines, each time written as T."""
    return [re.sub(r"\d+\.\d s", "T", line) for line in err.splitlines()]


@pytest.mark.slow  # a whole experiment: `make test` stays well under its 3 minutes
def test_a_vqe_on_the_open_plan_runs_as_one_batch_and_the_job_taking_its_optimum_after_it(
    cloud, qrun, write_spec, tmp_path
):
    """Under mode: auto a paid plan's session around the loop is, on the Open Plan, one batch: the plan says so and
    why, every runtime job goes out in it, and the job taking the optimum is submitted after the loop's last
    evaluation, with that optimum."""
    cloud.plan = "open"
    spec = write_spec(VQE)
    planned = qrun("plan", spec, "--out", tmp_path / "results")
    assert planned.code == 0, planned.err
    assert f"mode: batch: {LOOP_IN_A_BATCH}\n" in planned.out
    done = qrun(spec, "--out", tmp_path / "results")
    assert done.code == 0, done.err
    (session,) = cloud.sessions.values()
    assert session.mode == "batch"
    run_dir = next((tmp_path / "results" / "open-vqe").iterdir())
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert (meta["session"]["mode"], meta["session"]["mode_reason"]) == ("batch", LOOP_IN_A_BATCH)
    assert {cloud.jobs[i].session_id for i in cloud.order} == {session.id}
    counts, vqe, at = meta["jobs"]
    assert cloud.order == counts["job_ids"] + vqe["job_ids"] + at["job_ids"] and len(vqe["job_ids"]) == 4
    (last,), (bound,) = vqe["job_ids"][-1:], at["job_ids"]
    assert cloud.jobs[bound].submitted >= cloud.jobs[last].ended  # sent once the result it takes was in
    optimum = json.loads((run_dir / "jobs" / "01-vqe.json").read_text())["optimum"]["parameters"]
    assert json.loads((run_dir / "jobs" / "02-at.json").read_text())["parameter_values"] == [optimum]
    assert _lines(done.err)[0] == (
        "qrun: open-vqe: 3 jobs on ibm_sherbrooke in a batch (runtime-client-primitives), max_time 30m, estimated 1m "
        "(as declared)"
    )
    assert "qrun: batch closed after T" in _lines(done.err)


@pytest.mark.parametrize(
    "change, where, message",
    [
        (
            "mode: session\n",
            "",
            "an Open Plan instance cannot open sessions; set mode: batch (or leave mode to auto), which the Open Plan "
            "allows",
        ),
        (
            "",
            "dependent",
            "an Open Plan instance cannot open sessions, and job 'at' is marked dependent (it runs in a session with "
            "the job before it); remove its dependent: true, or use an instance on a paid plan",
        ),
    ],
)
def test_a_spec_that_asks_for_a_session_in_so_many_words_is_refused_on_the_open_plan(
    cloud, qrun, write_spec, tmp_path, change, where, message
):
    """mode: session, or a job marked dependent, asks for a session: refused before anything is submitted (the
    service's plan read from the service), exit 2, and at validate where the spec says its plan."""
    cloud.plan = "open"
    text = VQE.replace("max_time: 30m\n", f"max_time: 30m\n{change}")
    if where:
        text = text.replace("parameter_values: {from: vqe},", "parameter_values: {from: vqe}, dependent: true,")
    done = qrun(write_spec(text), "--out", tmp_path / "results")
    assert (done.code, done.err.strip().splitlines()[-1]) == (2, f"qrun: {message}")
    assert cloud.sessions == {} and cloud.order == [] and not (tmp_path / "results").exists()
    checked = qrun("validate", write_spec(text + "service: {plan: open}\n"))
    assert checked.code == 2 and checked.err.splitlines()[0].endswith(f"{where or 'mode'}: {message}")


@pytest.mark.slow  # a whole experiment: `make test` stays well under its 3 minutes
def test_blocks_each_say_their_mode_as_they_open_and_close(cloud, qrun, write_spec, tmp_path):
    """On a paid plan, mode: auto cuts the same spec into a batch, a session around the loop and the job taking its
    optimum, and the run says so once, then each block as it opens and closes (it said "session" for each, and the
    run's first line again)."""
    text = VQE + "  - {name: again, primitive: sampler, circuit: bell, estimate: 10s}\n"
    done = qrun(write_spec(text), "--out", tmp_path / "results")
    assert done.code == 0, done.err
    said = [line for line in _lines(done.err) if line.startswith("qrun: ")]
    assert said == [
        "qrun: open-vqe: 4 jobs on ibm_sherbrooke in 2 batches and a session (runtime-client-primitives), "
        "max_time 30m, estimated 1m 10s (as declared)",
        "qrun: batch 1 of 3 opened: counts",
        "qrun: batch closed after T",
        "qrun: session 2 of 3 opened: vqe, at",
        "qrun: session closed after T",
        "qrun: batch 3 of 3 opened: again",
        "qrun: batch closed after T",
    ]
    assert [s.mode for s in cloud.sessions.values()] == ["batch", "dedicated", "batch"]


def test_the_plan_shows_what_the_instance_has_left_of_its_allocation(cloud, qrun, write_spec, tmp_path):
    """The Open Plan's ten minutes a month: the service says what is used and the limit (the runtime works out what is
    left), and `qrun plan` shows it beside what the plan needs, as the pre-flight compares them."""
    cloud.plan, cloud.usage_consumed, cloud.usage_remaining = "open", 150.0, 450.0
    spec = write_spec(VQE)
    planned = qrun("plan", spec, "--out", tmp_path / "results")
    assert planned.code == 0, planned.err
    needed = json.loads(qrun("plan", spec, "--json", "--out", tmp_path / "results").out)["instance_usage"]
    assert needed == {"consumed": 150.0, "limit": 600.0, "remaining": 450.0, "needed": pytest.approx(60.0)}
    assert planned.out.splitlines()[-1] == (
        "instance usage: 7m 30s of 10m left this period; the plan needs about 1m of it"
    )
