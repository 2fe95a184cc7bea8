"""A multirun over backends (`-m backend=fake_fez,aer`): a session or batch is on one backend, so each backend's points
run together, one backend after another, in one group folder; validate, plan and a run say the same of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Ticking

from qrun import load
from qrun.errors import RunFolderError

SPEC = """version: 1
name: mb
vars: {h: 1.0}
backend: aer
max_time: 30m
options: {seed: 4, default_precision: 0.05, resilience_level: 0}
circuits:
  c: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}
observables:
  z: ZI
jobs:
  - {name: e, primitive: estimator, circuit: c, observables: [z], parameter_values: [[{{ h }}, 0.3, {{ h }}, 0.2]],
     exact: statevector, estimate: 1m}
  - {name: f, primitive: estimator, circuit: c, observables: [z], parameter_values: [[0.1, 0.2, 0.3, 0.4]],
     exact: statevector, estimate: 1m}
"""
POINTS_ON_SERVICE = [f"backend={b},h={h}" for b in ("ibm_sherbrooke", "ibm_fez") for h in (0.5, 1.5)]
POINTS = ["backend=fake_fez,h=0.5", "backend=fake_fez,h=1.5", "backend=aer,h=0.5", "backend=aer,h=1.5"]


def _values(point) -> dict[str, dict]:
    """Each job's <z> as its file holds it, and the backend it ran on, by job name."""
    bodies = {p.stem[3:]: json.loads(p.read_text()) for p in sorted((point / "jobs").glob("*.json"))}
    return {name: body["observables"]["z"] | {"backend": body["backend"]} for name, body in bodies.items()}


def test_each_backends_points_run_together_one_backend_after_another(qrun, tmp_path):
    """`-m backend=fake_fez,aer` was refused by a run and a plan ("one session needs one backend") while validate
    said ok. Now fake_fez's two points go out in one batch, then aer's two, each point's values on its own backend
    and within their errors of the statevector's; a killed point on aer resumes to the same values (each point keeps
    its place in the group, which picks its seeds)."""
    spec = tmp_path / "mb.yaml"
    spec.write_text(SPEC)
    grid = ("-m", "backend=fake_fez,aer", "-m", "h=0.5,1.5")
    assert qrun("validate", spec, *grid).out.strip() == f"{spec}: ok"
    planned = qrun("plan", spec, *grid)
    assert planned.code == 0, planned.err
    titles = [line.strip() for line in planned.out.splitlines() if "(multirun" in line]
    assert titles == [
        "mb (multirun: 2 of its 4 points) on fake_fez, max_time 30m",
        "mb (multirun: 2 of its 4 points) on aer, max_time 30m",
    ]
    plans = json.loads(qrun("plan", spec, *grid, "--json").out)["plans"]
    assert [(p["backend"], [j["name"] for j in p["jobs"]]) for p in plans] == [
        ("fake_fez", [f"{p}/{j}" for p in POINTS[:2] for j in "ef"]),
        ("aer", [f"{p}/{j}" for p in POINTS[2:] for j in "ef"]),
    ]
    ran = qrun(spec, *grid, "--out", tmp_path / "r")
    assert ran.code == 0, ran.err
    group = next((tmp_path / "r" / "mb").iterdir())
    said = [line for line in ran.err.splitlines() if line.startswith("qrun: ")]
    assert said[0] == (
        f"qrun: multirun of 4 points (backend, h) one backend after another: 2 on fake_fez, then 2 on aer: {group}"
    )
    assert said[1].startswith("qrun: 4 jobs of 2 points on fake_fez in a batch (")
    assert said[3].startswith("qrun: 4 jobs of 2 points on aer in a batch (")
    values = {name: _values(group / name) for name in POINTS}
    for name, jobs in values.items():
        assert json.loads((group / name / "metadata.json").read_text())["status"] == "completed"
        for job, v in jobs.items():
            assert v["backend"] == name.split(",")[0].removeprefix("backend="), (name, job)
            # resilience_level 0: a device's readout error biases the value by a few hundredths
            assert abs(v["values"][0] - v["exact"][0]) < 5 * v["stderrs"][0] + 0.08, (name, job)
    assert values["backend=aer,h=0.5"]["e"]["exact"] != values["backend=aer,h=1.5"]["e"]["exact"]
    # `qrun show GROUP` puts each point's deviation from its exact value beside its value: a device's bias shows
    table = qrun("show", group).out.splitlines()
    for name, jobs in values.items():
        (row,) = [line for line in table if line.startswith(f"│ {name} ")]
        for v in jobs.values():
            assert f", {(v['values'][0] - v['exact'][0]) / v['stderrs'][0]:+.1f}σ" in row, (name, row)
    # each point is resumed on its own backend, with the seeds its place in the group gave it
    for name in ("backend=fake_fez,h=1.5", "backend=aer,h=1.5"):
        meta = json.loads((group / name / "metadata.json").read_text())
        meta["status"] = "running"
        meta["jobs"][1].update(status="running")
        (group / name / "metadata.json").write_text(json.dumps(meta))
        (group / name / "events.jsonl").unlink()
        (group / name / "jobs" / "01-f.json").unlink()
    resumed = qrun(spec, *grid, "--out", tmp_path / "r", "--resume", group)
    assert resumed.code == 0, resumed.err
    after = {name: _values(group / name) for name in POINTS}
    assert {n: v for n, v in after.items() if n != "backend=fake_fez,h=1.5"} == {
        n: v for n, v in values.items() if n != "backend=fake_fez,h=1.5"
    }
    # a fake device draws a batch's noise together: f, sent again alone, draws its own, as valid
    again, before = after["backend=fake_fez,h=1.5"], values["backend=fake_fez,h=1.5"]
    assert again["e"] == before["e"] and again["f"]["exact"] == before["f"]["exact"]
    assert abs(again["f"]["values"][0] - again["f"]["exact"][0]) < 5 * again["f"]["stderrs"][0] + 0.08


def test_where_one_backends_points_fail_the_next_backends_are_marked_not_run_and_resume(qrun, tmp_path):
    """aer's session runs out of its max_time (each look at the clock 400 s later) before fake_fez's points start:
    those are recorded as not run, with why, and the group's resume runs them."""
    spec = tmp_path / "mb.yaml"
    spec.write_text(SPEC.replace("max_time: 30m", "max_time: 10m"))
    grid = ("-m", "backend=aer,fake_fez")
    qrun.clock = Ticking(400.0, start=0.0)
    failed = qrun(spec, *grid, "options.batch=false", "--out", tmp_path / "r")
    assert failed.code == 1, failed.err
    group = next((tmp_path / "r" / "mb").iterdir())
    meta = {
        name: json.loads((group / name / "metadata.json").read_text()) for name in ("backend=aer", "backend=fake_fez")
    }
    assert meta["backend=aer"]["status"] == "failed"
    assert "the session reached max_time (10m)" in meta["backend=aer"]["error"]
    assert (meta["backend=fake_fez"]["status"], meta["backend=fake_fez"]["error"]) == (
        "failed",
        "not run: the points on aer ended first",
    )
    assert not list((group / "backend=fake_fez" / "jobs").glob("*.json"))
    qrun.clock = None
    resumed = qrun(spec, *grid, "options.batch=false", "--out", tmp_path / "r", "--resume", group)
    assert resumed.code == 0, resumed.err
    for name in ("backend=aer", "backend=fake_fez"):
        assert json.loads((group / name / "metadata.json").read_text())["status"] == "completed"
        assert set(_values(group / name)) == {"e", "f"}


@pytest.mark.parametrize("command", [("validate",), ("validate", "--deep"), ("plan",)])
def test_the_budget_is_checked_over_each_backends_points_as_they_run(qrun, tmp_path, command):
    """Two points on fake_fez do not fit 3m together (4 jobs of 1m each and the margin), though each alone does; the
    refusal names fake_fez's points only, as a run would meet them in fake_fez's batch."""
    spec = tmp_path / "mb.yaml"
    spec.write_text(SPEC.replace("max_time: 30m", "max_time: 3m"))
    checked = qrun(*command, spec, "-m", "backend=aer,fake_fez", "-m", "h=0.5,1.5", "--out", tmp_path / "r")
    assert checked.code == 2
    first = checked.err.splitlines()[0]
    assert first.startswith(f"{spec}:5:11: max_time: over all multirun points: 3m (180 s) is less than ")
    assert "Largest: backend=fake_fez,h=0.5/e 1m" in first and "aer" not in first.split("Largest:")[1]


def test_a_multirun_point_is_run_again_alone_beside_the_group(qrun, tmp_path):
    """`qrun rerun GROUP/POINT` said the point was "not inside a results root" (its grandparent is the spec's
    folder, not the root): it runs the point's resolved spec again as a run of its own, under ROOT/<name>/."""
    spec = tmp_path / "mb.yaml"
    spec.write_text(SPEC)
    assert qrun(spec, "-m", "h=0.5,1.5", "--out", tmp_path / "r", "-q").code == 0
    group = next((tmp_path / "r" / "mb").iterdir())
    again = qrun("rerun", group / "h=1.5", "-q")
    assert again.code == 0, again.err
    new = tmp_path / again.out.strip() if not again.out.strip().startswith("/") else Path(again.out.strip())
    assert new.parent == tmp_path / "r" / "mb" and new != group
    assert _values(new)["e"]["exact"] == _values(group / "h=1.5")["e"]["exact"]
    # the group itself has no resolved spec of its own: said, with what to do instead
    whole = qrun("rerun", group)
    assert (whole.code, whole.err) == (
        2,
        f"qrun: {group}: a multirun group, whose points each have their own resolved spec: rerun one (qrun rerun "
        f"{group}/POINT; its points: h=0.5, h=1.5), or run the multirun again (qrun SPEC -m ...)\n",
    )
    # nor do the readers of one run take a group: they named its last point run as "the newest of them"
    said = f"{group}: a multirun group, not a run: name one of its points ({group}/POINT; its points: h=0.5, h=1.5)"
    for command in (("diff", group, group / "h=0.5"), ("export", "runtime-json", group, "--out", tmp_path / "x")):
        assert (qrun(*command).code, qrun(*command).err) == (2, f"qrun: {said}\n"), command
    with pytest.raises(RunFolderError) as refused:
        load(group)
    assert str(refused.value) == said


@pytest.mark.slow  # a whole experiment: `make test` stays well under its 3 minutes
def test_a_multirun_over_two_service_devices_opens_a_batch_on_each_in_turn(tmp_path, monkeypatch, qrun):
    """On the service (the runtime's real client over a stand-in REST layer), `-m backend=ibm_sherbrooke,ibm_fez`
    opens one batch on each device, sherbrooke's points first; each point's job went to its own device, the two
    points' jobs (their circuits differ by h) as the PUBs of one runtime job there."""
    from fake_runtime import Cloud, install
    from qiskit_ibm_runtime.fake_provider import FakeFez, FakeSherbrooke

    cloud = Cloud({"ibm_sherbrooke": FakeSherbrooke(), "ibm_fez": FakeFez()})
    install(monkeypatch, cloud)
    qrun.clock = cloud.clock
    spec = tmp_path / "mb.yaml"
    spec.write_text(SPEC)
    grid = ("-m", "backend=ibm_sherbrooke,ibm_fez", "-m", "h=0.5,1.5")
    result = qrun(spec, *grid, "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    group = tmp_path / result.out.strip()
    opened = list(cloud.sessions.values())
    assert [(s.backend, s.mode, len(s.jobs)) for s in opened] == [
        ("ibm_sherbrooke", "batch", 1),
        ("ibm_fez", "batch", 1),
    ]
    for point in (
        "backend=ibm_sherbrooke,h=0.5",
        "backend=ibm_sherbrooke,h=1.5",
        "backend=ibm_fez,h=0.5",
        "backend=ibm_fez,h=1.5",
    ):
        meta = json.loads((group / point / "metadata.json").read_text())
        device = point.split(",")[0].removeprefix("backend=")
        session = next(s for s in opened if s.backend == device)
        assert meta["status"] == "completed" and meta["session"]["session_id"] == session.id, point
        assert {i for e in meta["jobs"] for i in e["job_ids"]} <= set(session.jobs)
    # `qrun status GROUP` said "not a qrun run folder": it asks after each point in turn
    shown = qrun("status", group)
    assert shown.code == 0, shown.err
    heads = [line for line in shown.out.splitlines() if line.startswith(("run ", "session: "))]
    assert [h.split(":")[0] for h in heads[::2]] == [f"run {group / p}" for p in POINTS_ON_SERVICE]
    assert [h.split(", id ")[1].split(",")[0] for h in heads[1::2]] == [opened[0].id] * 2 + [opened[1].id] * 2


def test_diff_of_two_devices_points_says_they_are_two_devices_not_one_recalibrated(qrun, tmp_path):
    """`qrun diff` of a point on fake_fez and one on fake_sherbrooke said "the device was recalibrated between these
    runs": their calibrations differ because they are two devices."""
    spec = tmp_path / "mb.yaml"
    spec.write_text(SPEC)
    assert qrun(spec, "-m", "backend=fake_fez,fake_sherbrooke", "--out", tmp_path / "r", "-q").code == 0
    group = next((tmp_path / "r" / "mb").iterdir())
    a, b = group / "backend=fake_fez", group / "backend=fake_sherbrooke"
    lines = qrun("diff", a, b).out.splitlines()
    assert lines[:3] == [
        "spec: backend=fake_fez -> backend=fake_sherbrooke",
        "  backend: 'fake_fez' -> 'fake_sherbrooke'",
        "devices: A ran on fake_fez, B on fake_sherbrooke, each under its own calibration: a difference below may be "
        "the devices', not the physics'",
    ]
    assert json.loads(qrun("diff", a, b, "--json").out)["recalibrated"] == lines[2]
