"""Multirun: a grid of template variables, one session for all points, a group folder and a combined CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from fake_runtime import Cloud, install

from qrun.app import multirun

SPEC = """vars: {h: 1.0, n: 2}
version: 1
name: mr
backend: BACKEND
max_time: 30m
options: {seed: 4, default_precision: 0.1, resilience_level: 0}
circuits:
  c: {library: real_amplitudes, args: {num_qubits: {{ n }}, reps: 1}}
observables:
  z: {{ "Z" + "I" * (n - 1) }}
jobs:
  - name: e
    primitive: estimator
    circuit: c
    observables: [z]
    parameter_values: [[{{ ([h] * (2 * n)) | join(", ") }}]]
    exact: statevector
    estimate: 1m
"""


def test_values_are_canonical_so_1_and_1_0_are_one_point():
    grid = multirun.parse(["h=0.25,1,1.0", "n=2,3"])
    assert grid == {"h": [0.25, 1, 1.0], "n": [2, 3]}
    assert [multirun.label(p) for p in multirun.points(grid)] == ["h=0.25,n=2", "h=0.25,n=3", "h=1,n=2", "h=1,n=3"]
    # a list's commas do not split it (a variable vars: declares a list reads each as one; 1e-3 is a number)
    assert multirun.parse(["angles=[0.1],[0.2, 0.3]", "p=1e-3,{a: 1}"]) == {
        "angles": ["[0.1]", "[0.2, 0.3]"],
        "p": [0.001, "{a: 1}"],
    }


def test_a_multirun_over_a_list_variable_runs_each_list(qrun, tmp_path):
    """-m angles=[0.1],[0.2,0.3] split at every comma: points "[0.1]", "[0.2" and "0.3]", each a string."""
    spec = tmp_path / "loop.yaml"
    spec.write_text(
        "vars:\n  angles: [0.5]\nversion: 1\nname: loop\nbackend: aer\n"
        'circuits:\n  r: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[1] q; ry(a) q[0];"}\n'
        "observables: {z: Z}\njobs:\n{% for a in angles %}\n"
        "  - {name: j{{ loop.index0 }}, primitive: estimator, circuit: r, observables: [z], parameter_values: [[{{ a }}]]}\n"
        "{% endfor %}\n"
    )
    planned = json.loads(qrun("plan", spec, "-m", "angles=[0.1],[0.2,0.3]", "--json").out)
    assert [(j["point"], j["name"]) for j in planned["jobs"]] == [  # labels as folder names, brackets replaced
        ("angles=_0.1_", "angles=_0.1_/j0"),
        ("angles=_0.2,0.3_", "angles=_0.2,0.3_/j0"),
        ("angles=_0.2,0.3_", "angles=_0.2,0.3_/j1"),
    ]


@pytest.mark.slow  # four points through the service stand-in; CI's slow suite runs it
def test_a_2x2_multirun_runs_in_one_service_session_with_a_group_folder_and_csv(tmp_path, monkeypatch, qrun):
    from qiskit_ibm_runtime.fake_provider import FakeSherbrooke

    cloud = Cloud({"ibm_sherbrooke": FakeSherbrooke()})
    install(monkeypatch, cloud)
    qrun.clock = cloud.clock
    spec = tmp_path / "mr.yaml"
    spec.write_text(SPEC.replace("BACKEND", "ibm_sherbrooke"))
    result = qrun(spec, "-m", "h=0.25,1", "-m", "n=2,3", "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    group = tmp_path / result.out.strip()
    # ONE session for all four points, and one runtime job of their four PUBs (each point's circuit its own)
    assert len(cloud.sessions) == 1 and len(cloud.order) == 1
    (sid,) = cloud.sessions
    assert sorted(p.name for p in group.iterdir()) == [
        "h=0.25,n=2",
        "h=0.25,n=3",
        "h=1,n=2",
        "h=1,n=3",
        "multirun.csv",
        "multirun.json",
    ]
    for pub, point in enumerate(("h=0.25,n=2", "h=0.25,n=3", "h=1,n=2", "h=1,n=3")):
        meta = json.loads((group / point / "metadata.json").read_text())
        assert meta["status"] == "completed" and meta["session"]["session_id"] == sid
        (entry,) = meta["jobs"]
        # each point records the runtime job and its own PUB in it (a resume of one point reads back that PUB)
        assert entry["job_ids"] == cloud.order and entry["batched"] == {"id": cloud.order[0], "pub": pub}
    rows = list(csv.DictReader((group / "multirun.csv").open()))
    assert [(r["h"], r["n"], r["job"], r["observable"]) for r in rows] == [
        ("0.25", "2", "e", "z"),
        ("0.25", "3", "e", "z"),
        ("1", "2", "e", "z"),
        ("1", "3", "e", "z"),
    ]
    for r in rows:  # the noiseless stand-in's values sit near the statevector reference
        assert abs(float(r["value"]) - float(r["exact"])) < 0.5


def test_a_points_bad_value_is_named_as_its_m_gave_it(tmp_path, qrun):
    """A value from -m that the spec refuses is named `-m KEY=VALUE`, as typed (it read `--set KEY=VALUE`), by
    validate and a run alike; one from --set still reads --set."""
    spec = tmp_path / "mr.yaml"
    spec.write_text(SPEC.replace("BACKEND", "aer"))
    said = f"{spec}: options.seed: -m options.seed=-3: -3 is less than the minimum of 0"
    for args in (["validate", spec], [spec, "--out", tmp_path / "r"]):
        done = qrun(*args, "-m", "options.seed=1,-3")
        assert (done.code, done.err.splitlines()[0]) == (2, said)
    done = qrun("validate", spec, "options.seed=-3")
    assert done.err.splitlines()[0] == said.replace("-m options", "--set options")


def test_the_budget_is_checked_over_all_points(tmp_path, qrun):
    spec = tmp_path / "mr.yaml"
    spec.write_text(SPEC.replace("BACKEND", "fake_manila").replace("max_time: 30m", "max_time: 3m"))
    assert qrun("validate", spec).code == 0  # one point fits in 3m
    result = qrun(spec, "-m", "h=0.25,1", "-m", "n=2,3", "--out", tmp_path / "r", "-q")
    assert result.code == 2
    assert result.err.strip() == (
        f"{spec}:5:11: max_time: over all multirun points: 3m (180 s) is less than the sum of the job estimates "
        "(rehearsing fake_manila: the time the real device would take) plus the 24s margin, 4m 24s (264 s); short "
        "by 1m 24s. Largest: h=0.25,n=2/e 1m, h=0.25,n=3/e 1m, h=1,n=2/e 1m. Raise max_time to at least 4m 24s or "
        "lower the estimates"
    )
    assert not (tmp_path / "r").exists()


def test_on_aer_the_budget_informs_and_never_refuses(tmp_path, qrun):
    """aer bills nothing: the README's own multirun example runs, whatever its declared estimates add up to."""
    spec = tmp_path / "mr.yaml"
    spec.write_text(SPEC.replace("BACKEND", "aer").replace("max_time: 30m", "max_time: 3m"))
    result = qrun(spec, "-m", "h=0.25,1", "-m", "n=2,3", "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err


def test_a_multirun_block_in_the_spec_does_the_same(tmp_path, qrun):
    spec = tmp_path / "mr.yaml"
    spec.write_text("multirun: {h: [0.5, 1.5]}\n" + SPEC.replace("BACKEND", "aer"))
    assert qrun("validate", spec).code == 0
    result = qrun(spec, "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    group = tmp_path / result.out.strip()
    assert sorted(p.name for p in group.iterdir() if p.is_dir()) == ["h=0.5", "h=1.5"]
    saved = (group / "h=0.5" / "spec.yaml").read_text()
    assert "\nmultirun:" not in saved and "h: 0.5" in saved  # a point's folder reruns that point alone


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["-m", "h"],
            "qrun: -m 'h': expected NAME=V1,V2,... or NAME=range(START,STOP[,STEP]) "
            "(e.g. -m h=0.25,0.5,1, -m options.seed=range(1,4))",
        ),
        (["-m", "nope=1,2"], "qrun: {spec}: the template does not use variable nope (it uses: h, n)"),
        (
            ["-m", "nope=1,2", "-m", "yet=3"],
            "qrun: {spec}: the template does not use variables nope, yet (it uses: h, n)",
        ),
        # the later -m replaced the earlier without a word: a multirun of the one point h=2
        (["-m", "h=0.5,1", "-m", "h=2"], "qrun: -m h=2: h is swept twice; give its values once (-m h=V1,V2,...)"),
    ],
)
def test_multirun_usage_errors(tmp_path, qrun, args, message):
    spec = tmp_path / "mr.yaml"
    spec.write_text(SPEC.replace("BACKEND", "aer"))
    result = qrun(spec, *args, "--out", tmp_path / "r")
    assert result.code == 2
    assert result.err.strip() == message.format(spec=spec)


def test_each_point_of_a_multirun_sweep_keeps_only_its_own_points(tmp_path, qrun):
    """Sweep events go to their own point's folder: each h keeps its 5 points, each near its own exact energy
    E(theta) = -(n - 1) cos^2 theta - h n sin theta (n = 2)."""
    import math

    from conftest import EXPERIMENTS

    spec = EXPERIMENTS / "ising_sweep.yaml"
    result = qrun(spec, "-m", "h=0.5,2", "--set", "points=5", "--set", "n=2", "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    group = tmp_path / result.out.strip()
    for h in (0.5, 2):
        body = json.loads((group / f"h={h}" / "jobs" / "00-energy.json").read_text())
        assert len(body["points"]) == 5
        for p in body["points"]:
            exact = -(math.cos(p["theta"]) ** 2) - h * 2 * math.sin(p["theta"])
            assert abs(p["value"] - exact) < 4 * p["stderr"]


def _kill_point(point) -> None:
    """Make a finished point look killed before its job ended: its job file gone, its status running."""
    meta = json.loads((point / "metadata.json").read_text())
    meta["status"] = "running"
    meta["jobs"][0].update(status="running")
    (point / "metadata.json").write_text(json.dumps(meta))
    (point / "events.jsonl").unlink()
    next((point / "jobs").glob("*.json")).unlink()


def test_a_killed_multirun_resumes_as_a_group_or_point_by_point(tmp_path, qrun):
    spec = tmp_path / "mr.yaml"
    spec.write_text("multirun: {h: [0.5, 1.5, 2.5]}\n" + SPEC.replace("BACKEND", "aer"))
    first = qrun(spec, "--out", tmp_path / "r", "-q")
    assert first.code == 0, first.err
    group = tmp_path / first.out.strip()
    values = {}
    for name in ("h=0.5", "h=1.5", "h=2.5"):
        values[name] = json.loads(next((group / name / "jobs").glob("*.json")).read_text())["observables"]["z"]
    _kill_point(group / "h=0.5")
    _kill_point(group / "h=2.5")
    (group / "multirun.csv").unlink()  # a killed group has no table yet; its manifest was written first
    whole = qrun(spec, "--out", tmp_path / "r", "--resume", group)
    assert whole.code == 0, whole.err
    assert whole.out.splitlines()[-2:] == ["resumed: h=0.5, h=2.5", f"results: {group} (multirun.csv)"]
    for name, before in values.items():  # seeded: the resumed points give what the uninterrupted run gave
        after = json.loads(next((group / name / "jobs").glob("*.json")).read_text())["observables"]["z"]
        assert after == before, name
    rows = list(csv.DictReader((group / "multirun.csv").open()))
    assert [r["h"] for r in rows] == ["0.5", "1.5", "2.5"]
    _kill_point(group / "h=1.5")
    one = qrun(spec, "--out", tmp_path / "r", "--resume", group / "h=1.5", "-q")
    assert (one.code, one.out.strip()) == (0, str(group))
    assert json.loads((group / "h=1.5" / "metadata.json").read_text())["status"] == "completed"
    again = qrun(spec, "--out", tmp_path / "r", "--resume", "latest")
    assert again.out.splitlines()[-2] == "resumed: none: every point had finished"


def test_a_groups_lock_holds_its_points_against_a_resume_and_for_the_views(tmp_path, qrun):
    """A multirun holds its group folder, not each point's: a resume of a point waits for it, and the views show a
    point recorded as running as running while the group is held, and as died once nothing holds it."""
    import os

    from qrun.app.lock import RunLock

    spec = tmp_path / "mr.yaml"
    spec.write_text("multirun: {h: [0.5, 1.5]}\n" + SPEC.replace("BACKEND", "aer"))
    first = qrun(spec, "--out", tmp_path / "r", "-q")
    assert first.code == 0, first.err
    group = tmp_path / first.out.strip()
    _kill_point(group / "h=0.5")
    meta = json.loads((group / "h=0.5" / "metadata.json").read_text())
    meta["attempts"][-1]["status"] = "running"  # as a kill leaves it
    (group / "h=0.5" / "metadata.json").write_text(json.dumps(meta))

    def statuses() -> list[str]:
        return [r["status"] for r in json.loads(qrun("list", group, "--json").out)]

    assert statuses() == ["died", "completed"]
    lock = RunLock(group)  # as the multirun, or a resume of it, holds it while it runs
    try:
        assert statuses() == ["running", "completed"]
        refused = qrun(spec, "--out", tmp_path / "r", "--resume", group / "h=0.5", "-q")
        assert (refused.code, refused.err.strip()) == (
            2,
            f"qrun: {group} is in use by another qrun (pid {os.getpid()}); wait for it to end, or stop it first",
        )
    finally:
        lock.release()
    resumed = qrun(spec, "--out", tmp_path / "r", "--resume", group / "h=0.5", "-q")
    assert resumed.code == 0, resumed.err
    assert statuses() == ["completed", "completed"]


@pytest.mark.parametrize(
    ("names", "stem", "expected"),
    [
        (["bell", "bell"], "x", "bell"),
        (["ising-sweep-h0.5", "ising-sweep-h1.0"], "x", "ising-sweep"),
        (["ising-h0.25", "ising-h0.5"], "x", "ising"),  # not ising-h0: a cut at a dot would split a number
        (["run_n4_h1", "run_n6_h1"], "x", "run"),
        (["a0.5", "a1"], "field scan", "field_scan"),  # nothing shared: the spec file's stem, as a safe name
    ],
)
def test_a_group_folder_is_named_by_what_its_points_names_share(names, stem, expected):
    assert multirun.group_name(names, stem) == expected


def test_a_group_whose_points_are_named_by_a_swept_variable_goes_under_their_shared_name(tmp_path, qrun):
    spec = tmp_path / "mr.yaml"
    spec.write_text(SPEC.replace("BACKEND", "aer").replace("name: mr", "name: mr-h{{ h }}"))
    first = qrun(spec, "--out", tmp_path / "r", "-m", "h=0.5,1", "-q")
    assert first.code == 0, first.err
    group = tmp_path / first.out.strip()
    assert group.parent == tmp_path / "r" / "mr"
    names = {point: json.loads((group / point / "metadata.json").read_text())["name"] for point in ("h=0.5", "h=1")}
    assert names == {"h=0.5": "mr-h0.5", "h=1": "mr-h1"}
    again = qrun(spec, "--out", tmp_path / "r", "-m", "h=0.5,1", "--resume", "latest")
    assert again.out.splitlines()[-2:] == [
        "resumed: none: every point had finished",
        f"results: {group} (multirun.csv)",
    ]
    # a group an earlier qrun filed under its first point's name is found too
    (tmp_path / "r" / "mr-h0.5").mkdir()
    old = group.rename(tmp_path / "r" / "mr-h0.5" / group.name)
    moved = qrun(spec, "--out", tmp_path / "r", "-m", "h=0.5,1", "--resume", "latest")
    assert moved.out.splitlines()[-1] == f"results: {old} (multirun.csv)"


def test_point_folders_are_always_safe_names():
    long, slash, underscore = {"tag": "x" * 300}, {"tag": "a/b"}, {"tag": "a_b"}
    names = multirun.labels([long, slash, underscore])
    assert len(names[0]) == multirun.MAX_LABEL and names[0].startswith("tag=xxx")
    assert names[1] != names[2] and names[1].startswith("tag=a_b~") and names[2].startswith("tag=a_b~")
    assert multirun.labels([{"h": 0.5}]) == ["h=0.5"]


def test_m_sweeps_a_dotted_key_over_a_range_as_hydra_does(tmp_path, qrun):
    from conftest import EXPERIMENTS

    result = qrun(EXPERIMENTS / "bell.yaml", "-m", "options.seed=range(1,4)", "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    group = tmp_path / result.out.strip()
    assert sorted(p.name for p in group.iterdir() if p.is_dir()) == [f"options.seed={k}" for k in (1, 2, 3)]
    for k in (1, 2, 3):
        point = group / f"options.seed={k}"
        assert f"seed: {k}\n" in (point / "spec.yaml").read_text()  # the spec as run, the override applied
        assert json.loads((point / "metadata.json").read_text())["spec"]["overrides"] == {"options.seed": k}
    manifest = json.loads((group / "multirun.json").read_text())
    assert [p["variables"] for p in manifest["points"]] == [{"options.seed": k} for k in (1, 2, 3)]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("range(1,2,0)", "qrun: -m options.seed: a range's step cannot be 0"),
        ("range(a,3)", "qrun: -m options.seed: 'range(a,3)' is not range(START, STOP[, STEP]) of integers"),
        ("range(3,1)", "qrun: -m options.seed: range(3,1) has no values"),
        ("range(0,5000)", "qrun: -m options.seed: range(0,5000) has 5,000 values, more than 1,000"),
    ],
)
def test_m_ranges_are_checked(tmp_path, qrun, value, message):
    from conftest import EXPERIMENTS

    result = qrun(EXPERIMENTS / "bell.yaml", "-m", f"options.seed={value}", "--out", tmp_path / "r")
    assert (result.code, result.err.strip()) == (2, message)


def test_show_and_plot_of_a_group_folder_summarize_its_points(field_runs, qrun):
    from conftest import field_energy

    from qrun.store.readings import job_readings
    from qrun.views.plots import group_figures, pyplot

    _, group, _ = field_runs
    shown = qrun("show", group)
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0] == f"multirun {group.name}: 3 points over theta"
    values = {}
    for theta in ("0", "1", "1.5"):
        energy = json.loads(next((group / f"theta={theta}" / "jobs").glob("*-e.json")).read_text())
        value, sigma = energy["observables"]["energy"]["values"][0], energy["observables"]["energy"]["stderrs"][0]
        values[float(theta)] = value
        (row,) = [line for line in lines if line.startswith(f"│ theta={theta} ")]
        assert f"{value:.6g} ± {sigma:.2g}" in row and "completed" in row

    plotted = qrun("plot", group)
    assert plotted.code == 0, plotted.err
    assert plotted.out.splitlines() == [
        str(group / "plots" / "e-energy-vs-theta.png"),
        str(group / "plots" / "ground-min-energy-vs-theta.png"),
        str(group / "plots" / "derived-gap-vs-theta.png"),  # the spec's derived value, drawn as any value
    ]
    points = [
        (
            {"theta": t},
            job_readings(
                group / f"theta={label}",
                json.loads(next((group / f"theta={label}" / "jobs").glob("*-e.json")).read_text()),
            ),
        )
        for t, label in ((0, "0"), (1, "1"), (1.5, "1.5"))
    ]
    ((name, fig),) = group_figures(pyplot(), points)
    ax = fig.axes[0]
    assert name == "e-energy-vs-theta" and ax.get_xlabel() == "theta" and ax.get_ylabel() == "e: <energy> [Ha]"
    measured, exact = ax.lines[0], ax.lines[-1]
    assert list(measured.get_ydata()) == [values[t] for t in (0.0, 1.0, 1.5)]
    assert all(abs(y - field_energy(t)) < 1e-9 for t, y in zip((0, 1, 1.5), exact.get_ydata()))


def test_progress_counts_jobs_across_the_whole_group_and_names_each_ones_point(qrun, tmp_path):
    """Each point runs the same job names: the lines said "[1/3] sampler counts ..." three times over, and the first
    line named the first point's spec as if it were the run. The run ends with the points' table, as a run ends
    with its values."""
    from conftest import EXPERIMENTS

    done = qrun(EXPERIMENTS / "bell.yaml", "--out", tmp_path, "-m", "options.seed=1,2,3")
    assert done.code == 0, done.err
    lines = done.err.splitlines()
    assert lines[1].startswith("qrun: 3 jobs of 3 points on aer in a batch (aer-primitives), max_time ")
    started = [line for line in lines if line.endswith("counts ...")]
    assert started == [f"[{k}/3] sampler options.seed={k}/counts ..." for k in (1, 2, 3)]
    assert [line.split(" done in ")[0] for line in lines if " done in " in line] == [
        f"[{k}/3] options.seed={k}/counts" for k in (1, 2, 3)
    ]
    group = done.out.splitlines()[-1].removeprefix("results: ").removesuffix(" (multirun.csv, one folder per point)")
    assert done.out.splitlines()[:-1] == qrun("show", tmp_path / group).out.splitlines()


def test_learned_estimates_see_the_points_of_a_multirun(qrun, tmp_path):
    from conftest import EXPERIMENTS

    assert qrun(EXPERIMENTS / "bell.yaml", "--out", tmp_path, "-q", "-m", "options.seed=1,2").code == 0
    (group,) = (tmp_path / "bell").iterdir()
    meta = json.loads((group / "options.seed=2" / "metadata.json").read_text())
    planned = qrun("plan", EXPERIMENTS / "bell.yaml", "--out", tmp_path, "--json", "--set", "options.seed=2")
    (job,) = json.loads(planned.out)["jobs"]
    assert job["source"] == "learned (options.seed=2)"
    assert job["estimate"] == round(meta["jobs"][0]["actual"], 3)


SLOW_POINTS = """\
multirun: {s: [1, 2]}
vars: {s: 1}
version: 1
name: slowmr
backend: aer
max_time: 30m
options: {seed: 4, default_precision: 0.1}
circuits:
  r: {random: {num_qubits: 22, depth: 40, seed: {{ s }}}}
observables:
  z: "ZIIIIIIIIIIIIIIIIIIIII"
jobs:
  - {name: e, primitive: estimator, circuit: r, observables: [z], estimate: 10m}
"""


@pytest.mark.slow  # 8 s: a multirun of two points of a few seconds each, while another qrun tries a point
def test_a_running_multirun_holds_its_points(tmp_path):
    """While a multirun runs, its points show as running, never died, and a resume of one of them is refused: two
    writers in one point's folder would mix their records."""
    import subprocess
    import sys
    import time

    spec = tmp_path / "mr.yaml"
    spec.write_text(SLOW_POINTS)
    out = tmp_path / "r"
    qrun = [sys.executable, "-m", "qrun"]
    first = subprocess.Popen([*qrun, str(spec), "--out", str(out), "-q"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    points: list[Path] = []
    while time.monotonic() < deadline and len(points) < 2:
        points = sorted(p.parent for p in out.glob("slowmr/multirun-*/*/metadata.json"))
        time.sleep(0.05)
    refused = subprocess.run(
        [*qrun, str(spec), "--out", str(out), "--resume", str(points[1]), "-q"], capture_output=True, text=True
    )
    listed = subprocess.run([*qrun, "list", str(out), "--json"], capture_output=True, text=True)
    assert first.poll() is None, "the multirun ended before the checks: make its points slower"
    assert refused.returncode == 2
    assert refused.stderr.strip().startswith(f"qrun: {points[1].parent} is in use by another qrun (pid ")
    assert "died" not in [r["status"] for r in json.loads(listed.stdout)]
    assert first.wait(timeout=120) == 0, first.stderr.read()
    listed = subprocess.run([*qrun, "list", str(out), "--json"], capture_output=True, text=True)
    assert [r["status"] for r in json.loads(listed.stdout)] == ["completed", "completed"]


def test_validate_plan_and_run_give_one_verdict_on_a_multiruns_budget_over_all_its_points(qrun, tmp_path):
    """Each point fits max_time alone; the three together, in the one session a multirun runs in, do not. The run
    refused, while `qrun validate` said ok and `qrun plan` said it fits: they checked one point at a time."""
    spec = tmp_path / "mr.yaml"
    spec.write_text(
        "multirun:\n  seed: [1, 2, 3]\nvars:\n  seed: 0\nversion: 1\nname: mr\nbackend: fake_manila\nmax_time: 12s\n"
        "options: {seed: {{ seed }}}\n"
        'circuits:\n  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; cx q[0], q[1];"}\n'
        "jobs:\n  - {name: s, primitive: sampler, circuit: bell, measure_all: true, shots: 1000, estimate: 5s}\n"
    )
    refusal = (
        f"{spec}:8:11: max_time: over all multirun points: 12s (12 s) is less than the sum of the job estimates "
        "(rehearsing fake_manila: the time the real device would take) plus the 2s margin, 16s (16.5 s); short by 5s. "
        "Largest: seed=1/s 5s, seed=2/s 5s, seed=3/s 5s. Raise max_time to at least 17s or lower the estimates"
    )
    ran = qrun(spec, "--out", tmp_path / "r")
    assert (ran.code, ran.err.splitlines()[0]) == (2, refusal)
    for command in (("validate",), ("validate", "--deep"), ("plan",)):
        checked = qrun(*command, spec, "--out", tmp_path / "r")
        assert (checked.code, checked.err.splitlines()[0]) == (2, refusal), command
    planned = qrun("plan", spec, "--out", tmp_path / "r").out
    # the title says the rows are a multirun's, where it named the first point's spec alone
    assert planned.splitlines()[0].strip() == "mr (multirun of 3 points) on fake_manila, max_time 12s"
    assert [line.split("│")[2].strip() for line in planned.splitlines() if line.startswith("│")] == [
        "seed=1/s",
        "seed=2/s",
        "seed=3/s",
    ]
    rows = json.loads(qrun("plan", spec, "--out", tmp_path / "r", "--json").out)["jobs"]
    assert [(r["name"], r["point"], r["index"]) for r in rows] == [(f"seed={k}/s", f"seed={k}", 0) for k in (1, 2, 3)]
    # one point alone fits, and -m on the command line is the same grid as the block
    alone = tmp_path / "one.yaml"
    alone.write_text(spec.read_text().replace("multirun:\n  seed: [1, 2, 3]\n", ""))
    assert qrun("validate", alone).code == 0 and qrun("plan", alone).code == 0
    assert qrun("validate", alone, "-m", "seed=1,2,3").err.splitlines()[0] == refusal.replace(
        str(spec), str(alone)
    ).replace(":8:11:", ":6:11:")
    assert not (tmp_path / "r").exists()  # nothing ran


def test_a_variable_set_on_a_multirun_spec_holds_its_sweep_at_that_value_from_the_cli_and_from_python(qrun, tmp_path):
    """`qrun SPEC n=5` of a spec whose multirun: block sweeps n ran the block's points and dropped n=5; `qrun.run`
    ran the spec's default point only, where `qrun SPEC` runs the multirun."""
    import qrun as api

    spec = tmp_path / "grid.yaml"
    spec.write_text(
        "multirun:\n  theta: [0.1, 0.2]\n  seed: [1, 2]\nvars:\n  theta: 0.0\n  seed: 0\nversion: 1\n"
        "name: grid\nbackend: aer\noptions: {seed: {{ seed }}}\n"
        'circuits:\n  rot: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; ry({{ theta }}) q[0];"}\n'
        "observables:\n  z: Z\njobs:\n  - {name: e, primitive: estimator, circuit: rot, observables: [z], precision: 0.01}\n"
    )

    def points(group: Path) -> list[str]:
        return sorted(p["run"] for p in json.loads((group / "multirun.json").read_text())["points"])

    every = Path(qrun(spec, "--out", tmp_path / "r", "-q").out.strip())
    held = Path(qrun(spec, "--out", tmp_path / "r", "-q", "theta=0.5").out.strip())
    assert len(points(every)) == 4 and points(held) == ["theta=0.5,seed=1", "theta=0.5,seed=2"]
    one = Path(qrun(spec, "--out", tmp_path / "r", "-q", "theta=0.5", "seed=7").out.strip())
    assert (one / "metadata.json").is_file() and not (one / "multirun.json").exists()  # every variable set: a run
    assert json.loads((one / "metadata.json").read_text())["spec"]["variables"] == {"theta": 0.5, "seed": 7}
    refused = qrun(spec, "--out", tmp_path / "r", "-m", "seed=1,2", "seed=3")
    assert (refused.code, refused.err) == (2, "qrun: seed: both swept (-m) and set (seed=...); drop one\n")
    assert qrun("plan", spec, "theta=0.5", "--json").code == 0
    # from Python: the multirun, as from the command line, narrowed the same way
    assert points(api.run(spec, tmp_path / "py")) == points(every)
    assert points(api.run(spec, tmp_path / "py", theta=0.5)) == points(held)


def test_a_derived_value_some_points_cannot_compute_is_said_with_why_under_the_table(qrun, write_spec, tmp_path):
    """A point's derived value that cannot be computed had no column and no word in the group's table, where a single
    run prints why: log(<Z>) of RX(theta)|0> is about log(1) at theta 0 and the log of about -1 at pi."""
    spec = write_spec(
        """
version: 1
name: logz
backend: aer
max_time: 5m
vars: {theta: 0}
circuits:
  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit q; rx({{ theta }}) q;"}
observables: {z: Z}
jobs:
  - {name: e, primitive: estimator, circuit: c, observables: [z], precision: 0.01}
derived:
  logz: log(e.z)
  never: sqrt(-2 - e.z)
"""
    )
    done = qrun(spec, "-m", "theta=0,pi", "--out", tmp_path / "r")
    assert done.code == 0, done.err
    said = [line for line in done.out.splitlines() if line.startswith("derived:")]
    assert said == [
        "derived: logz cannot be computed at theta=pi: 'log(e.z)': math domain error",
        "derived: never cannot be computed at any point: 'sqrt(-2 - e.z)': math domain error",
    ]
    (group,) = (tmp_path / "r" / "logz").iterdir()
    shown = qrun("show", group)
    assert [line for line in shown.out.splitlines() if line.startswith("derived:")] == said


def test_a_problem_only_one_point_has_is_said_with_the_point_by_validate_plan_and_run(tmp_path, qrun):
    """A value a point's variable writes into the spec's lines was reported at those lines alone: every point shares
    them, and nothing said which point's value was wrong."""
    spec = tmp_path / "mr.yaml"
    spec.write_text(SPEC.replace("BACKEND", "aer").replace("reps: 1", "reps: {{ 1 if n == 3 else -1 }}"))
    said = [
        "multirun point n=2:",
        f"{spec}:8:39: circuits.c.args: real_amplitudes(num_qubits=2, reps=-1) failed: reps must be non-negative, "
        "but is -1",
    ]
    for args in (["validate"], ["plan"], []):
        done = qrun(*args, spec, "-m", "n=3,2", "--out", tmp_path / "r")
        assert (done.code, done.err.splitlines()[:2]) == (2, said)
    assert not (tmp_path / "r").exists()
