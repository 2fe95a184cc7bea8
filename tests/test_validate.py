from pathlib import Path

import pytest
from conftest import EXPERIMENTS

from qrun.sources.facts import CircuitFacts
from qrun.spec.validate import semantic_findings

BAD = Path(__file__).parent / "bad_specs"
BAD_SPECS = sorted(p.stem for p in BAD.glob("*.yaml"))


def test_the_corpus_is_large_enough():
    assert len(BAD_SPECS) >= 40


@pytest.mark.parametrize("name", BAD_SPECS)
def test_bad_spec_is_refused_with_its_exact_located_message(name, qrun, monkeypatch, tmp_path):
    monkeypatch.chdir(BAD)
    expected = (BAD / f"{name}.expected").read_text(encoding="utf-8")
    result = qrun(f"{name}.yaml", "--out", tmp_path / "results")
    assert result.code == 2
    assert result.err == expected
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("spec", sorted(EXPERIMENTS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_validates(spec, qrun):
    result = qrun("validate", spec)
    assert (result.code, result.err) == (0, "")
    assert result.out == f"{spec}: ok\n"


@pytest.mark.parametrize("spec", sorted(EXPERIMENTS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_names_the_schema_for_editors(spec):
    assert spec.read_text().startswith("# yaml-language-server: $schema=../schemas/experiment.schema.json\n")


def test_validate_reports_each_file_and_exits_2_if_any_is_bad(qrun):
    result = qrun("validate", EXPERIMENTS / "bell.yaml", BAD / "negative_shots.yaml")
    assert result.code == 2
    assert result.out == f"{EXPERIMENTS / 'bell.yaml'}: ok\n"
    assert result.err == (
        f"{BAD / 'negative_shots.yaml'}:14:12: jobs[0].shots: -5 is less than the minimum of 1\n"
        "qrun: 1 of 2 specs invalid\n"
    )


def test_validate_of_a_folder_checks_the_specs_in_it(qrun):
    """`qrun validate experiments/` said "File 'experiments/' is a directory"."""
    result = qrun("validate", EXPERIMENTS)
    specs = sorted(p for p in EXPERIMENTS.iterdir() if p.suffix == ".yaml")
    assert len(specs) >= 5 and (result.code, result.out) == (0, "".join(f"{p}: ok\n" for p in specs))
    empty = qrun("validate", EXPERIMENTS / "circuits")  # its circuit files, no spec
    assert (empty.code, empty.err) == (
        2,
        f"qrun: {EXPERIMENTS / 'circuits'}: a folder with no specs in it (*.yaml, *.yml, *.yaml.j2)\n",
    )


def _data(**job):
    return {
        "backend": "fake_manila",
        "max_time": "10m",
        "mode": "session",
        "circuits": {"a": {}},
        "observables": {"z": "ZZ"},
        "jobs": [
            {"name": "j", "primitive": "estimator", "circuit": "a", "observables": ["z"], "estimate": "1m", **job}
        ],
    }


FACTS = {"a": CircuitFacts(num_qubits=2, num_parameters=3, num_clbits=0, has_measurements=False)}


def test_semantic_checks_are_plain_data_in_and_out():
    found = semantic_findings(_data(parameter_values=[[1, 2, 3], [1, 2]]), FACTS, {"z": (2, False)}, 5)
    assert found == [(("jobs", 0, "parameter_values", 1), "row has 2 values but circuit 'a' has 3 parameters", False)]


def test_semantic_checks_width_against_the_backend():
    found = semantic_findings(_data(parameter_values=[[1, 2, 3]]), FACTS, {"z": (2, False)}, 1)
    assert found == [(("jobs", 0, "circuit"), "circuit 'a' needs 2 qubits but backend fake_manila has 1", False)]


def test_session_rules_limit_max_time_and_max_execution_time_and_allow_from_in_batch():
    """A job that takes a minimize job's optimum may go in a batch: qrun submits it only once that result is in."""
    data = _data(primitive="minimize", options={"max_execution_time": 700})
    data.update(max_time="9h", mode="batch")
    data["jobs"].append(
        {**data["jobs"][0], "primitive": "estimator", "name": "k", "parameter_values": {"from": "j"}, "options": {}}
    )
    found = semantic_findings(data, FACTS, {"z": (2, False)}, 5)
    assert (
        ("max_time",),
        "9h is longer than the service allows for one session (8h); lower max_time, or set "
        "max_time_limit if your plan allows longer sessions",
        False,
    ) in found
    assert [where for where, *_ in found] == [("max_time",)]
    data.update(max_time="10m", max_time_limit="12h", mode="session")
    found = semantic_findings(data, FACTS, {"z": (2, False)}, 5)
    assert found == [
        (
            ("jobs", 0, "options", "max_execution_time"),
            "700 s is longer than max_time (10m); a job must end before its session does, so max_time must be longer",
            False,
        )
    ]
    data["jobs"][0]["options"]["max_execution_time"] = 600  # equal is refused too, as the runtime refuses it
    assert semantic_findings(data, FACTS, {"z": (2, False)}, 5) == [
        (
            ("jobs", 0, "options", "max_execution_time"),
            "600 s is as long as max_time (10m); a job must end before its session does, so max_time must be longer",
            False,
        )
    ]


def test_the_fast_validator_agrees_with_python_jsonschema_on_every_spec():
    import yaml
    from jsonschema import Draft202012Validator

    from qrun.spec.schema import _fast_validator, schema

    fast = _fast_validator()
    assert fast is not None
    slow = Draft202012Validator(schema())
    specs = sorted(BAD.glob("*.yaml")) + sorted(EXPERIMENTS.glob("*.yaml"))
    for path in specs:
        from qrun.errors import SpecError
        from qrun.spec import load

        try:
            data = load(path).data
        except SpecError:
            continue  # YAML or template errors: never reaches a schema
        if isinstance(data, dict):
            assert fast.is_valid(data) == (next(slow.iter_errors(data), None) is None), path.name
    for duration in ["0s", "1.5h", "30m 1h", "5m ", "1h  2m", 0, True]:
        data = yaml.safe_load((EXPERIMENTS / "bell.yaml").read_text())
        data["max_time"] = duration
        assert not fast.is_valid(data) and next(slow.iter_errors(data), None) is not None, duration


@pytest.mark.parametrize("spec", ["mixed.yaml", "vqe.yaml", "ising_sweep.yaml"])
def test_validate_does_not_import_qiskit_numpy_or_scipy_once_its_circuit_sources_are_known(spec):
    """The first validate of an OpenQASM source checks it with qiskit's parser and caches what it found; an
    unchanged source never imports qiskit again (pre-commit validates on every commit)."""
    import subprocess
    import sys

    heavy = "{'qiskit', 'qiskit_ibm_runtime', 'qiskit_aer', 'numpy', 'scipy', 'matplotlib', 'rich'}"
    code = (
        f"import sys; from qrun.cli import main; code = main(['validate', {str(EXPERIMENTS / spec)!r}]); "
        f"print(code, sorted({{m.split('.')[0] for m in sys.modules}} & {heavy}))"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert first.stdout.splitlines()[-1].startswith("0 "), first.stdout + first.stderr
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert again.stdout.splitlines()[-1] == "0 []", again.stdout + again.stderr


@pytest.mark.parametrize("name", ["bad_qasm", "opaque_gate"])  # opaque: quick validate passed what a run refused
def test_quick_and_deep_validate_and_run_give_one_verdict_on_bad_qasm(qrun, tmp_path, name):
    bad = BAD / f"{name}.yaml"
    expected = (BAD / f"{name}.expected").read_text().strip().split(": ", 1)[1]
    quick = qrun("validate", bad)
    again = qrun("validate", bad)  # from the facts cache this time
    deep = qrun("validate", "--deep", bad)
    ran = qrun(bad, "--out", tmp_path / "r")
    assert quick.code == again.code == deep.code == ran.code == 2
    assert quick.err.splitlines()[0] == again.err.splitlines()[0] == deep.err.splitlines()[0] == ran.err.strip()
    assert expected in quick.err


def test_a_quick_budget_verdict_on_lower_bounds_says_so(qrun, write_spec):
    """Quick validate checks the budget on each job's lower bound where none is declared or learned; the run checks
    the computed estimate. Between the two, validate said "ok" and the run refused, without a word of why."""
    spec = write_spec(
        # batch: false: each job its own runtime job, and its overhead its own (planning.batches)
        "version: 1\nname: tight\nbackend: fake_fez\nmax_time: 30s\noptions: {batch: false}\n"
        'circuits:\n  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; cx q[0], q[1];"}\n'
        "observables:\n  zz: ZZ\njobs:\n"
        + "".join(f"  - {{name: e{k}, primitive: estimator, circuit: bell, observables: [zz]}}\n" for k in range(4))
    )
    quick, deep = qrun("validate", spec), qrun("validate", "--deep", spec)
    assert (quick.code, quick.err) == (
        0,
        "note: e0, e1, e2 and 1 more: no declared or learned estimate, so the budget was checked on a lower bound; "
        "qrun validate --deep, plan and run check the computed estimate\n",
    )
    assert deep.code == 2 and "max_time: 30s (30 s) is less than the sum of the job estimates" in deep.err
    declared = qrun("validate", spec, *(f"+jobs.e{k}.estimate=5s" for k in range(4)))
    assert (declared.code, declared.err) == (0, "")  # estimates declared: nothing bounded, nothing to say


def test_schema_and_meaning_problems_come_in_one_pass_with_the_original_indices(qrun):
    from conftest import ROOT

    broken = ROOT / "docs" / "examples" / "broken.yaml"
    expected = [
        f"{broken}:13:5: jobs[0].shot: unknown key 'shot'; did you mean 'shots'?",
        f"{broken}:17:12: jobs[1].shots: -5 is less than the minimum of 1",
        f"{broken}:21:19: jobs[2].observables[0]: unknown observable 'zz'; defined: none",
    ]
    checked = qrun("validate", broken)
    ran = qrun(broken, "--out", "/nonexistent")
    assert checked.code == ran.code == 2
    assert checked.err.splitlines() == [*expected, "qrun: 1 of 1 spec invalid"]
    assert ran.err.splitlines() == expected


def test_a_job_on_a_circuit_the_schema_refused_is_not_blamed_for_it(qrun, write_spec):
    spec = write_spec(
        "version: 1\nname: t\nbackend: aer\n"
        "circuits:\n  bad: {qasm: 5}\n"
        '  ok: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; c = measure q;"}\n'
        "jobs:\n  - {name: a, primitive: sampler, circuit: bad}\n  - {name: b, primitive: sampler, circuit: nope}\n"
    )
    lines = qrun("validate", spec).err.splitlines()
    assert [line.split(": ")[1] for line in lines[:-1]] == ["circuits.bad.qasm", "jobs[1].circuit"]


def test_what_names_a_job_left_out_for_a_schema_problem_is_not_blamed_either(qrun, write_spec):
    """A job left out of the meaning checks (its observable failed the schema) is still the spec's: a derived value
    that reads it, and a job that starts from its optimum, are not told it is unknown; the latter's own problems are
    still found."""
    spec = write_spec(
        "version: 1\nname: t\nbackend: aer\n"
        'circuits:\n  ry: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[1] q; ry(a) q[0];"}\n'
        "observables:\n  z: {pauli: Z}\n"
        "jobs:\n  - {name: vqe, primitive: minimize, circuit: ry, observables: [z]}\n"
        "  - {name: at, primitive: estimator, circuit: ry, observables: [nope], parameter_values: {from: vqe}}\n"
        "derived:\n  twice: 2 * vqe\n"
    )
    assert qrun("validate", spec).err.splitlines() == [
        f"{spec}:7:7: observables.z.pauli: unknown key 'pauli' in an observable: {{terms: ..., unit: ...}}, "
        "{file: ..., unit: ...} or {python: ..., args: ...}",
        f"{spec}:10:65: jobs[1].observables[0]: unknown observable 'nope'; defined: none",
        "qrun: 1 of 1 spec invalid",
    ]


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ("x", "5: jobs[1]: 'x' is not of type 'object'"),
        ("[1]", "5: jobs[1]: [1] is not of type 'object'"),
        ("{name: [], primitive: sampler, circuit: c}", "12: jobs[1].name: [] is not of type 'string'"),
    ],
)
def test_a_job_that_is_no_mapping_or_has_no_name_is_one_line(qrun, write_spec, job, message):
    """The schema's other rules for a job hold of anything that is no mapping: only its type is said; and the
    meaning checks of the other jobs still run (a derived value names them)."""
    spec = write_spec(
        "version: 1\nname: t\nbackend: aer\n"
        'circuits:\n  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; c = measure q;"}\n'
        f"jobs:\n  - {{name: a, primitive: sampler, circuit: c}}\n  - {job}\n"
        'derived:\n  p: a.c["0"]\n'
    )
    result = qrun("validate", spec)
    assert (result.code, result.err) == (2, f"{spec}:8:{message}\nqrun: 1 of 1 spec invalid\n")


def test_a_duration_the_schema_pattern_admits_but_no_job_takes_is_a_located_error(qrun, write_spec):
    """99999d matches the duration pattern; validate, plan and a run all name the place (it was an internal error)."""
    spec = write_spec(
        "version: 1\nname: long\nbackend: aer\n"
        "circuits:\n  c: {random: {num_qubits: 2, depth: 2, seed: 1}}\n"
        "observables:\n  z: ZZ\n"
        "jobs:\n  - {name: a, primitive: estimator, circuit: c, observables: [z], estimate: 99999d}\n"
    )
    expected = f"{spec}:9:77: jobs[0].estimate: '99999d' is longer than 30 days, more than any session or job takes"
    for args in (["validate", spec], ["plan", spec], [spec]):
        done = qrun(*args)
        assert (done.code, done.err.splitlines()[0]) == (2, expected)


def test_a_mistake_repeated_over_many_jobs_shows_the_first_50_problems_and_counts_the_rest(qrun, tmp_path):
    from conftest import many_jobs_spec

    spec = many_jobs_spec(tmp_path, 120, "circuit: b, primitiv: estimator, observables: [z]")
    checked, ran = qrun("validate", spec), qrun(spec, "--out", tmp_path / "r")
    assert checked.code == ran.code == 2
    lines = ran.err.splitlines()
    assert len(lines) == 51 and checked.err.splitlines()[:51] == lines
    assert lines[0] == f"{spec}:10:5: jobs[0]: missing required key 'primitive'"
    assert lines[-1] == "... and 190 more problems (240 in all; the first 50 are shown)"


def test_a_job_equal_to_a_clean_one_but_for_its_name_is_clean_and_any_other_is_checked_in_full(qrun, write_spec):
    """Thousands of jobs that differ only in name are checked once; a job that differs in anything else, and every
    job after one with a problem, is checked on its own."""
    job = "primitive: estimator, circuit: c, observables: [{o}], parameter_values: [[0.1, 0.2]]"
    spec = write_spec(
        "version: 1\nname: m\nbackend: aer\ncircuits:\n"
        "  c: {library: real_amplitudes, args: {num_qubits: 1, reps: 1}}\n"
        "observables:\n  z: Z\n  zz: ZZ\njobs:\n"
        + "".join(f"  - {{name: j{k}, {job.format(o=o)}}}\n" for k, o in enumerate(["z", "z", "zz", "zz", "z", "zz"]))
    )
    result = qrun("validate", spec)
    assert result.code == 2
    lines = result.err.splitlines()
    wide = "observable 'zz' acts on 2 qubits but circuit 'c' has 1"
    assert [line.split(": ", 1)[1] for line in lines[:-1]] == [f"jobs[{k}].observables[0]: {wide}" for k in (2, 3, 5)]


@pytest.mark.parametrize(
    "source, located",
    [
        (  # single-quoted on the spec's line: the error's own column, 'cx' at 71
            "{qasm: 'OPENQASM 3.0; include \"stdgates.inc\"; qubit[2] q; h q[0] cx q[0], q[1];'}",
            "5:71: circuits.c.qasm: invalid OpenQASM: 1,57: a syntax error at 'cx'",
        ),
        (  # double-quoted with \n escapes: line 5 of the source is past four escapes on the same spec line
            '{qasm: "OPENQASM 3.0;\\ninclude \\"stdgates.inc\\";\\nqubit[2] q;\\nh q[0];\\ncx q[0] q[1];"}',
            "5:86: circuits.c.qasm: invalid OpenQASM: 5,8: a syntax error at 'q'",
        ),
        (  # plain, on its key's line
            '\n    qasm: OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; hh q[0];',
            "6:61: circuits.c.qasm: invalid OpenQASM: \"1,50: gate 'hh' is not defined.\"",
        ),
        (  # a loop qrun writes out moves the columns after it: the source's start, and the parser's own place
            "{qasm: 'OPENQASM 3.0; include \"stdgates.inc\"; qubit[2] q; for int i in [0:1] { x q[i]; } h q[0]'}",
            "5:13: circuits.c.qasm: invalid OpenQASM: 1,84: a syntax error at the end of the text",
        ),
    ],
)
def test_an_openqasm_error_in_a_one_line_source_is_located_at_its_column_in_the_spec(qrun, write_spec, source, located):
    """A one-line `qasm:` (every example in the README writes one) was located at its key, with the parser's own
    LINE,COLUMN counted from 0 in the message: on a line of 90 characters, no place to look."""
    spec = write_spec(
        f"version: 1\nname: one\nbackend: aer\ncircuits:\n  c: {source}\nobservables: {{zz: ZZ}}\n"
        "jobs:\n  - {name: e, primitive: estimator, circuit: c, observables: [zz]}\n"
    )
    assert qrun("validate", spec).err.splitlines()[0] == f"{spec}:{located}"


def test_a_folder_whose_subfolders_hold_the_specs_says_which_and_how_to_check_them(qrun):
    """`qrun validate examples/` said only "a folder with no specs in it": each example has a folder of its own."""
    from conftest import ROOT

    examples = ROOT / "examples"
    held = sorted(p.name + "/" for p in examples.iterdir() if p.is_dir())
    result = qrun("validate", examples)
    assert (result.code, result.err) == (
        2,
        f"qrun: {examples}: a folder with no specs in it (*.yaml, *.yml, *.yaml.j2); {', '.join(held[:3])} and "
        f"{len(held) - 3} more in it hold some: qrun validate {examples}/*/\n",
    )


def test_a_specs_resilience_level_with_no_estimator_job_to_mitigate_is_warned_of(qrun, write_spec):
    """options.resilience_level: 2 over sampler jobs alone ran them unmitigated without a word (a sampler job's own is
    refused: tests/bad_specs/sampler_resilience.yaml)."""
    spec = write_spec(
        "version: 1\nname: counts\nbackend: fake_fez\nmax_time: 10m\noptions: {resilience_level: 2}\n"
        'circuits:\n  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; '
        'cx q[0], q[1]; c = measure q;"}\n'
        "jobs:\n  - {name: s, primitive: sampler, circuit: bell, shots: 100, estimate: 10s}\n"
    )
    warning = (
        "warning: options.resilience_level: 2 mitigates estimator jobs, and this spec has none: the runtime's Sampler "
        "mitigates nothing, and its counts are raw (an estimator job of the parities a sampler counts, Z0 Z1, is "
        "mitigated)\n"
    )
    assert qrun("validate", spec).err == warning
    assert qrun("validate", "--deep", spec).err == warning
    with_estimator = (
        spec.read_text() + "  - {name: e, primitive: estimator, circuit: bell, observables: [ZZ], estimate: 10s}\n"
    )
    spec.write_text(
        with_estimator.replace("observables: [ZZ]", "observables: [zz]").replace(
            "jobs:", "observables:\n  zz: ZZ\njobs:"
        )
    )
    assert qrun("validate", spec).err == ""
