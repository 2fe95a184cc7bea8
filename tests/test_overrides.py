"""`--set` on any key, self-contained run folders, `qrun rerun`, and resumes that need nothing retyped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from conftest import EXPERIMENTS


def _mixed(tmp_path: Path) -> Path:
    """experiments/mixed.yaml and its circuits/ folder, copied, so a test may move or delete the circuit file."""
    shutil.copy(EXPERIMENTS / "mixed.yaml", tmp_path / "mixed.yaml")
    shutil.copytree(EXPERIMENTS / "circuits", tmp_path / "circuits")
    return tmp_path / "mixed.yaml"


def _meta(run_dir: Path) -> dict:
    return json.loads((run_dir / "metadata.json").read_text())


def test_dotted_overrides_set_any_key_and_jobs_by_name_and_are_recorded_exactly(qrun, tmp_path):
    spec = _mixed(tmp_path)
    result = qrun(
        spec,
        "--out",
        tmp_path / "r",
        "-q",
        "--set",
        "options.seed=3",
        "--set",
        "jobs.bell-counts.shots=50",
        "--set",
        "circuits.ansatz.args.reps=2",
        "--set",
        "jobs.energies.parameter_values=[[0, 0, 0, 0, 0, 0]]",
    )
    assert result.code == 0, result.err
    run_dir = tmp_path / result.out.strip()
    saved = yaml.safe_load((run_dir / "spec.yaml").read_text())
    assert saved["options"]["seed"] == 3
    assert saved["jobs"][2]["shots"] == 50
    assert saved["circuits"]["ansatz"]["args"]["reps"] == 2
    assert _meta(run_dir)["spec"]["overrides"] == {
        "options.seed": 3,
        "jobs.bell-counts.shots": 50,
        "circuits.ansatz.args.reps": 2,
        "jobs.energies.parameter_values": [[0, 0, 0, 0, 0, 0]],
    }
    counts = json.loads((run_dir / "jobs" / "02-bell-counts.json").read_text())
    assert sum(counts["counts"]["c"][0].values()) == 50


def test_override_errors_name_the_override_with_a_did_you_mean(qrun, tmp_path):
    """A value from the command line is reported as the override the user typed, not as a line of the file; a path
    that goes nowhere is placed where the spec holds its last good step."""
    spec = _mixed(tmp_path)
    cases = {
        "jobs.bel-counts.shots=3": f"{spec}:22:3: jobs: --set jobs.bel-counts.shots=3: no job named 'bel-counts'; "
        "did you mean 'bell-counts'?",
        "options.sed=3": f"{spec}:9:3: options: --set options.sed=3: no key 'sed' here, and the schema knows none "
        "by that name; did you mean 'seed'?",
        "optoins.seed=3": f"{spec}:3:1: --set optoins.seed=3: no key 'optoins' here; did you mean 'options'?",
        "jobs.bell-counts.shots=-3": f"{spec}: jobs[2].shots: --set jobs.bell-counts.shots=-3: -3 is less than the "
        "minimum of 1",
        "jobs.bell-counts.shots=many": f"{spec}: jobs[2].shots: --set jobs.bell-counts.shots=many: 'many' is not of "
        "type 'integer'",
        "jobs.bell-counts.precison=0.1": f"{spec}:32:5: jobs[2]: --set jobs.bell-counts.precison=0.1: no key "
        "'precison' here, and the schema knows none by that name; did you mean 'precision'?",
        "shots=5": f"{spec}:3:1: --set shots=5: no key 'shots' here, and the schema knows none by that name (it is a "
        "key of jobs: --set jobs.NAME.shots=VALUE)",
        "jobs.bell-counts.seed=4": f"{spec}:32:5: jobs[2]: --set jobs.bell-counts.seed=4: no key 'seed' here, and "
        "the schema knows none by that name (it is a key of options: --set jobs.bell-counts.options.seed=VALUE)",
        "options.shots=5": f"{spec}:9:3: options: --set options.shots=5: no key 'shots' here, and the schema knows "
        "none by that name (every job's default is default_shots: --set options.default_shots=VALUE)",
        # a job's options: the spec leaves out: the job's own place
        "jobs.ghz-counts.options.shots=5": f"{spec}:28:5: jobs[1].options: --set jobs.ghz-counts.options.shots=5: "
        "no key 'shots' here, and the schema knows none by that name (it is a key of jobs: --set "
        "jobs.ghz-counts.shots=VALUE)",
        "jobs.bell-counts.options.shots=5": f"{spec}:37:14: jobs[2].options: --set jobs.bell-counts.options.shots=5: "
        "no key 'shots' here, and the schema knows none by that name (it is a key of jobs: --set "
        "jobs.bell-counts.shots=VALUE)",
        "~jobs.bell-counts.circuit": f"{spec}: jobs[2]: --set ~jobs.bell-counts.circuit: missing required key 'circuit'",
        "+options.seed=4": f"{spec}:9:3: options: --set +options.seed=4: 'seed' is set already; write --set "
        "options.seed=VALUE to change it",
        "~options.sede": f"{spec}:9:3: options: --set ~options.sede: there is no 'sede' to remove; did you mean 'seed'?",
        "options.dynamical_decouplin.enable=true": f"{spec}:9:3: options: --set options.dynamical_decouplin.enable=true: "
        "no key 'dynamical_decouplin' here; did you mean 'dynamical_decoupling'?",
        "~options.twirling.enable_gates": f"{spec}:9:3: options: --set ~options.twirling.enable_gates: no key "
        "'twirling' here",
    }
    for assignment, message in cases.items():
        result = qrun("validate", spec, "--set", assignment)
        assert result.code == 2, assignment
        assert result.err.splitlines()[0] == message, assignment
    assert not (tmp_path / "results").exists()


def test_top_level_keys_adds_and_removals_work_on_a_plain_spec_and_render_shows_them(qrun, tmp_path):
    spec = _mixed(tmp_path)
    rendered = qrun(
        "render",
        spec,
        "backend=aer",
        "max_time=15m",
        "~options.seed",
        "~jobs.energies",
        "+jobs.ghz-counts.options={default_shots: 7}",
    )
    assert rendered.code == 0, rendered.err
    data = yaml.safe_load(rendered.out)
    assert (data["backend"], data["max_time"], "seed" in data["options"]) == ("aer", "15m", False)
    assert [j["name"] for j in data["jobs"]] == ["ghz-counts", "bell-counts"]
    assert data["jobs"][0]["options"] == {"default_shots": 7}
    ran = qrun(spec, "backend=aer", "--set", "max_time=15m", "--out", tmp_path / "results", "-q")
    assert ran.code == 0, ran.err
    meta = _meta(tmp_path / ran.out.strip())
    assert meta["session"]["backend"] == "aer" and meta["session"]["max_time"] == 900
    assert meta["spec"]["overrides"] == {"backend": "aer", "max_time": "15m"}


def test_a_key_inside_a_mapping_the_spec_leaves_to_its_defaults_is_set_as_hydra_sets_it(qrun, tmp_path):
    """`+options.dynamical_decoupling.enable=true` where the spec has no dynamical_decoupling: Hydra's `+a.b.c=V` makes
    a.b, and so does qrun, for a mapping the schema knows there (`options.twirling.enable_gates=true` too)."""
    spec = _mixed(tmp_path)
    rendered = qrun("render", spec, "+options.dynamical_decoupling.enable=true", "options.twirling.enable_gates=true")
    assert rendered.code == 0, rendered.err
    options = yaml.safe_load(rendered.out)["options"]
    assert options["dynamical_decoupling"] == {"enable": True}
    assert options["twirling"] == {"enable_gates": True}
    assert qrun("validate", spec, "+options.dynamical_decoupling.enable=true").code == 0
    wrong = qrun("validate", spec, "+options.dynamical_decoupling.enabl=true")
    assert wrong.code == 2
    assert wrong.err.splitlines()[0] == (
        f"{spec}: options.dynamical_decoupling.enabl: --set +options.dynamical_decoupling.enabl=true: unknown key "
        "'enabl'; did you mean 'enable'?"
    )


def test_a_bare_override_longer_than_a_file_name_is_an_override(qrun, tmp_path):
    """`qrun SPEC 'jobs.NAME.parameter_values=[...]'` of a few hundred characters: asking whether it named a file
    raised ENAMETOOLONG ("File name too long", exit 1), where `--set` took it."""
    spec = _mixed(tmp_path)
    rows = [[0.125, 0.25, 0.375, 0.5]] * 12
    bare = f"jobs.energies.parameter_values={rows}"
    assert len(bare) > 255  # longer than a file's name may be (NAME_MAX)
    checked = qrun("validate", spec, bare)
    assert (checked.code, checked.err) == (0, "")
    rendered = qrun("render", spec, bare)
    assert rendered.code == 0, rendered.err
    assert next(j for j in yaml.safe_load(rendered.out)["jobs"] if j["name"] == "energies")["parameter_values"] == rows


LOOPED = """\
vars:
  angles: [0.1, 0.2]
  label: x
version: 1
name: looped
backend: aer
description: {{ label }}
circuits:
  r: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[1] q; ry(a) q[0];"}
observables: {z: Z}
jobs:
{% for a in angles %}
  - {name: j{{ loop.index0 }}, primitive: estimator, circuit: r, observables: [z], parameter_values: [[{{ a }}]]}
{% endfor %}
"""


def test_a_list_variable_is_set_as_a_list_by_its_name_or_under_vars(qrun, tmp_path):
    """`angles=[0.5,0.7]` reached the template as the string "[0.5,0.7]", whose loop went over its characters (an
    invalid-YAML error far from the cause); `vars.angles=[0.5,0.7]` was dropped unread, the defaults rendered."""
    spec = tmp_path / "looped.yaml"
    spec.write_text(LOOPED, encoding="utf-8")
    for override in ("angles=[0.5,0.7]", "vars.angles=[0.5, 0.7]"):
        rendered = qrun("render", spec, override, "label=[1, 2]")
        assert rendered.code == 0, rendered.err
        # nothing ran: the header says how it would run
        assert rendered.out.splitlines()[0] == (
            f"# {spec} as qrun would run it: rendered, overrides applied, file circuits inlined."
        )
        data = yaml.safe_load(rendered.out)
        # a variable declared a scalar still takes the text as one: "[1, 2]" stays a string
        assert data["description"] == "[1, 2]"
        assert [j["parameter_values"] for j in data["jobs"]] == [[[0.5]], [[0.7]]]
        assert data["vars"] == {"angles": [0.5, 0.7], "label": "[1, 2]"}  # the values used, not the defaults
    refused = qrun("render", spec, "~vars.angles")
    assert (refused.code, refused.err) == (
        2,
        "qrun: --set ~vars.angles: a template variable is set, not removed: angles=VALUE\n",
    )
    bad = qrun("render", spec, "angles=[0.5")
    assert bad.code == 2
    assert bad.err.startswith("qrun: --set angles: '[0.5' is not a YAML value qrun accepts: did not find expected")


def test_rerun_of_a_run_with_a_file_circuit_and_template_variables_reproduces_its_values(qrun, tmp_path):
    spec = tmp_path / "t.yaml"
    (tmp_path / "circuits").mkdir()
    shutil.copy(EXPERIMENTS / "circuits" / "ghz.qasm", tmp_path / "circuits" / "ghz.qasm")
    spec.write_text("""vars: {shots: 300, angle: 1.0}
version: 1
name: t
backend: fake_manila
max_time: 10m
options: {seed: 8, resilience_level: 0}
circuits:
  ghz: {file: circuits/ghz.qasm}
  ry: {library: real_amplitudes, args: {num_qubits: 1, reps: 1}}
observables:
  z: Z
jobs:
  - {name: counts, primitive: sampler, circuit: ghz, shots: {{ shots }}}
  - {name: e, primitive: estimator, circuit: ry, observables: [z], precision: 0.05,
     parameter_values: [[{{ angle }}, 0.0]]}
""")
    first = qrun(spec, "--out", tmp_path / "r", "-q", "--set", "shots=200", "--set", "angle=0.5")
    assert first.code == 0, first.err
    run_dir = tmp_path / first.out.strip()
    (tmp_path / "circuits" / "ghz.qasm").unlink()  # the run folder must not need it any more
    again = qrun("rerun", run_dir, "-q")
    assert again.code == 0, again.err
    new_dir = tmp_path / again.out.strip()
    assert new_dir != run_dir and new_dir.parent == run_dir.parent
    for name in ("00-counts.json", "01-e.json"):
        a, b = (json.loads((d / "jobs" / name).read_text()) for d in (run_dir, new_dir))
        assert a.get("counts") == b.get("counts") and a.get("observables") == b.get("observables")
    saved = yaml.safe_load((run_dir / "spec.yaml").read_text())
    assert saved["vars"] == {"shots": 200, "angle": 0.5}
    assert _meta(run_dir)["spec"]["variables"] == {"shots": 200, "angle": 0.5}


def test_resume_reuses_the_variables_and_overrides_of_the_run(qrun, tmp_path):
    spec = tmp_path / "v.yaml"
    spec.write_text("""vars: {shots: 100}
version: 1
name: v
backend: aer
max_time: 10m
options: {seed: 2}
circuits:
  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}
jobs:
  - {name: a, primitive: sampler, circuit: bell, shots: {{ shots }}}
  - {name: b, primitive: sampler, circuit: bell}
""")
    first = qrun(spec, "--out", tmp_path / "r", "-q", "--set", "shots=64", "--set", "jobs.b.shots=32")
    assert first.code == 0, first.err
    run_dir = tmp_path / first.out.strip()
    meta = _meta(run_dir)
    meta["status"] = "interrupted"
    meta["jobs"][1]["status"] = "interrupted"
    (run_dir / "metadata.json").write_text(json.dumps(meta))
    (run_dir / "jobs" / "01-b.json").unlink()
    resumed = qrun(spec, "--out", tmp_path / "r", "-q", "--resume", run_dir)  # no --set retyped
    assert resumed.code == 0, resumed.err
    b = json.loads((run_dir / "jobs" / "01-b.json").read_text())
    assert sum(b["counts"]["c"][0].values()) == 32
    assert _meta(run_dir)["status"] == "completed"


def test_a_number_in_scientific_notation_on_the_command_line_is_a_number(qrun):
    """PyYAML (YAML 1.1) reads 1e-3 as text, and a spec file says so; typed on the command line, as Hydra reads it,
    it is a number (`precision=2e-05` was refused: "read as text, not a number")."""
    spec = EXPERIMENTS / "vqe.yaml"
    given = ("precision=2e-05", "jobs.vqe.optimizer.tol=1e-7")
    assert qrun("validate", spec, *given).code == 0
    (job, _) = yaml.safe_load(qrun("render", spec, *given).out)["jobs"]
    assert (job["precision"], job["optimizer"]["tol"]) == (2e-05, 1e-07)
    planned = json.loads(qrun("plan", spec, "-m", "precision=1e-3,1e-4", "--json").out)
    assert sorted({j["point"] for j in planned["jobs"]}) == ["precision=0.0001", "precision=0.001"]
    quoted = qrun("validate", spec, 'jobs.vqe.precision="2e-05"')  # quoted, it is the text asked for
    assert quoted.err.splitlines()[0] == (
        f"{spec}: jobs[0].precision: --set jobs.vqe.precision=2e-05: '2e-05' is read as text, not a number "
        "(YAML 1.1 wants a decimal point and a signed exponent): write 2.0e-05"
    )
