"""Circuits and observables from the user's Python: off unless allowed, never run by validate's quick path, checked
for what they return, given the device's coupling map, and recorded so a later run can tell the code changed."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest

BUILD = """\
from pathlib import Path

from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

Path(__file__).with_name("imported").write_text("yes")  # a trace: was this module run?


def ghz(n, coupling_map=None):
    qc = QuantumCircuit(n)
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    qc.metadata = {"device_qubits": None if coupling_map is None else coupling_map.size()}
    return qc


def tilted(theta):
    qc = QuantumCircuit(1)
    qc.ry(theta, 0)
    return qc


def parity(n):
    return SparsePauliOp("Z" * n)


def field(h):
    return SparsePauliOp(["ZZ", "XI", "IX"], [-1.0, -h, -h])


def ising_terms(n):
    return [SparsePauliOp("Z" * n), SparsePauliOp("X" * n), SparsePauliOp("Z" + "I" * (n - 1))]


def not_a_circuit():
    return 42


def complex_observable():
    return SparsePauliOp(["Z"], [1j])


def broken(n):
    raise ValueError("n must be even")


def black_box(n):
    from qiskit.circuit import Gate

    qc = QuantumCircuit(n)
    qc.append(Gate("blackbox", 1, []), [0])  # a gate with no definition: nothing can transpile it
    return qc
"""

SPEC = """\
version: 1
name: py
backend: {backend}
max_time: 10m
{allow}
circuits:
  ghz: {{python: "{ghz}", args: {{n: 3}}}}
  tilted: {{python: "lib/build.py:tilted", args: {{theta: 0.7}}}}
observables:
  zzz: {{python: "lib/build.py:parity", args: {{n: 3}}}}
  z: Z
jobs:
  - {{name: e, primitive: estimator, circuit: ghz, observables: [zzz], precision: 0.01, exact: statevector}}
  - {{name: t, primitive: estimator, circuit: tilted, observables: [z], precision: 0.01, exact: statevector}}
  - {{name: counts, primitive: sampler, circuit: ghz, measure_all: true, shots: 400}}
"""

OFF = (
    "Python sources are off: qrun imports and runs the spec's Python only where it is allowed; set allow_python: "
    "true in the spec, or pass --allow-python"
)


@pytest.fixture
def repo(tmp_path):
    """A repository holding lib/build.py (a file) and mylab/ansatz.py (a package), and the spec's folder."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "build.py").write_text(BUILD, encoding="utf-8")
    (tmp_path / "mylab").mkdir()
    (tmp_path / "mylab" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "mylab" / "ansatz.py").write_text(BUILD, encoding="utf-8")
    return tmp_path


def _spec(repo: Path, backend="aer", allow="allow_python: true", ghz="lib/build.py:ghz", name="spec.yaml") -> Path:
    path = repo / name
    path.write_text(SPEC.format(backend=backend, allow=allow, ghz=ghz), encoding="utf-8")
    return path


def _run_dir(out: Path) -> Path:
    (run,) = (out / "py").iterdir()
    return run


def _job(run: Path, stem: str) -> dict:
    return json.loads((run / "jobs" / f"{stem}.json").read_text())


def test_python_sources_are_off_unless_allowed_and_validate_and_run_agree(qrun, repo):
    spec = _spec(repo, allow="")
    expected = (
        f"{spec}:7:17: circuits.ghz.python: {OFF}\n{spec}:8:20: circuits.tilted.python: {OFF}\n"
        f"{spec}:10:17: observables.zzz.python: {OFF}\n"
    )
    checked = qrun("validate", spec)
    ran = qrun(spec, "--out", repo / "results")
    assert (checked.code, ran.code) == (2, 2)
    assert checked.err == expected + "qrun: 1 of 1 spec invalid\n"
    assert ran.err == expected
    assert not (repo / "lib" / "imported").exists() and not (repo / "results").exists()


@pytest.mark.parametrize("ghz", ["lib/build.py:ghz", "mylab.ansatz:ghz"])
def test_circuits_and_observables_from_python_run_and_match_the_exact_values(qrun, repo, ghz):
    """A file in the repository or a package in it; --allow-python on the command line as allow_python: true."""
    spec = _spec(repo, allow="", ghz=ghz)
    result = qrun(spec, "--allow-python", "--out", repo / "results", "-q")
    assert result.code == 0, result.err
    run = _run_dir(repo / "results")
    e = _job(run, "00-e")["observables"]["zzz"]
    assert e["exact"] == [pytest.approx(0.0, abs=1e-12)]  # <ZZZ> on GHZ_3: (|000> + |111>)/sqrt2 -> 0
    assert e["values"][0] == pytest.approx(0.0, abs=5 * 0.01)
    t = _job(run, "01-t")["observables"]["z"]
    assert t["exact"] == [pytest.approx(math.cos(0.7), abs=1e-12)]
    assert t["values"][0] == pytest.approx(math.cos(0.7), abs=5 * 0.01)
    counts = _job(run, "02-counts")["counts"]["meas"][0]
    assert set(counts) == {"000", "111"} and sum(counts.values()) == 400
    meta = json.loads((run / "metadata.json").read_text())
    assert meta["spec"]["overrides"] == {"allow_python": True}  # recorded as the override it is
    source = Path(meta["spec"]["python"]["circuits.ghz"]["file"])
    assert meta["spec"]["python"]["circuits.ghz"]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    from qrun.app.prepare import prepare

    # on aer there is no device: a function that asks for a coupling map is given None
    assert prepare(spec, {"allow_python": True}, out=repo / "r").plan.jobs[0].circuit.metadata == {
        "device_qubits": None
    }


@pytest.mark.parametrize(
    "device, qubits", [("fake_sherbrooke", 127), pytest.param("fake_fez", 156, marks=pytest.mark.slow)]
)
def test_on_a_real_size_device_a_python_source_gets_the_devices_coupling_map(qrun, repo, device, qubits):
    spec = _spec(repo, backend=device)
    result = qrun(spec, "--out", repo / "results", "-q")
    assert result.code == 0, result.err
    run = _run_dir(repo / "results")
    counts = _job(run, "02-counts")["counts"]["meas"][0]
    # a noisy GHZ_3: 000 and 111 carry most of the shots
    assert counts.get("000", 0) + counts.get("111", 0) > 0.8 * 400
    from qrun.app.prepare import prepare

    # the function was given the device's coupling map, and so it is where `qrun plan` defers building the device
    plan = prepare(spec, out=repo / "results").plan
    assert plan.jobs[0].circuit.metadata == {"device_qubits": qubits}
    shown = prepare(spec, out=repo / "results", defer_device=True).plan
    assert shown is not None and shown.jobs[0].circuit.metadata == {"device_qubits": qubits}


def test_validate_never_runs_the_code_unless_deep_and_says_so(qrun, repo):
    spec = _spec(repo)
    quick = qrun("validate", spec)
    assert quick.code == 0, quick.err
    assert not (repo / "lib" / "imported").exists()
    assert quick.err == (
        "note: circuits.ghz (lib/build.py:ghz), circuits.tilted (lib/build.py:tilted), observables.zzz "
        "(lib/build.py:parity): Python, not imported here; qrun validate --deep, plan and run import and run it\n"
    )
    deep = qrun("validate", "--deep", spec)
    assert deep.code == 0, deep.err
    assert deep.err.startswith(
        "qrun: importing and running your Python, as allow_python allows: circuits.ghz: lib/build.py:ghz; "
        "circuits.tilted: lib/build.py:tilted; observables.zzz: lib/build.py:parity\n"
    )
    assert (repo / "lib" / "imported").exists()


def test_many_circuits_from_one_function_are_named_as_one_entry_by_validate_and_deep(qrun, repo):
    """XEB's 48 circuits come from one function: the notes named each, on one line of 3,000 characters."""
    spec = _spec(repo)
    tilts = "".join(f'  t{k}: {{python: "lib/build.py:tilted", args: {{theta: 0.{k}}}}}\n' for k in range(6))
    jobs = "".join(f"  - {{name: t{k}, primitive: estimator, circuit: t{k}, observables: [z]}}\n" for k in range(6))
    spec.write_text(spec.read_text().replace("observables:\n", tilts + "observables:\n", 1) + jobs)
    quick = qrun("validate", spec)
    assert (quick.code, quick.err) == (
        0,
        "note: circuits.ghz (lib/build.py:ghz), circuits.tilted, circuits.t0, circuits.t1 and 4 more "
        "(lib/build.py:tilted), observables.zzz (lib/build.py:parity): Python, not imported here; qrun validate "
        "--deep, plan and run import and run it\n",
    )
    deep = qrun("validate", "--deep", spec)
    assert (deep.code, deep.err.splitlines()[0]) == (
        0,
        "qrun: importing and running your Python, as allow_python allows: circuits.ghz: lib/build.py:ghz; "
        "circuits.tilted, circuits.t0, circuits.t1 and 4 more: lib/build.py:tilted; observables.zzz: "
        "lib/build.py:parity",
    )


def test_python_no_job_uses_is_never_run(qrun, repo):
    """A spare circuit or observable's Python ran under validate --deep and the run (and its error stopped both)."""
    spec = _spec(repo)
    text = (
        spec.read_text()
        .replace("  z: Z\n", '  z: Z\n  spare_obs: {python: "lib/build.py:complex_observable"}\n')
        .replace("circuits:\n", 'circuits:\n  spare: {python: "lib/build.py:broken", args: {n: 3}}\n')
    )
    spec.write_text(text)
    quick = qrun("validate", spec)
    assert quick.err == (
        "note: circuits.ghz (lib/build.py:ghz), circuits.tilted (lib/build.py:tilted), observables.zzz "
        "(lib/build.py:parity): Python, not imported here; qrun validate --deep, plan and run import and run it\n"
    )
    deep = qrun("validate", "--deep", spec)
    assert (deep.code, deep.err.splitlines()[0]) == (
        0,
        "qrun: importing and running your Python, as allow_python allows: circuits.ghz: lib/build.py:ghz; "
        "circuits.tilted: lib/build.py:tilted; observables.zzz: lib/build.py:parity",
    )
    ran = qrun(spec, "--out", repo / "results", "-q")
    assert ran.code == 0, ran.err
    assert _job(_run_dir(repo / "results"), "00-e")["observables"]["zzz"]["exact"] == [pytest.approx(0.0)]


@pytest.mark.parametrize(
    "entry, message",
    [
        ('{python: "lib/build.py:not_a_circuit"}', "lib/build.py:not_a_circuit returned an int, not a QuantumCircuit"),
        (
            '{python: "lib/build.py:broken", args: {n: 3}}',
            "lib/build.py:broken(...) raised ValueError at {repo}/lib/build.py:45 in broken: n must be even",
        ),
        (
            '{python: "lib/build.py:nothing"}',
            "'lib/build.py:nothing': build.py has no function 'nothing' (it defines: black_box, broken, "
            "complex_observable, field, ghz, ising_terms, not_a_circuit, parity and 1 more)",
        ),
        ('{python: "lib/build.py:gzh"}', "'lib/build.py:gzh': build.py has no function 'gzh'; did you mean 'ghz'?"),
        ('{python: "lib/missing.py:f"}', "'lib/missing.py:f': no such file '{repo}/lib/missing.py'"),
        ('{python: "nosuchpkg.mod:f"}', "'nosuchpkg.mod:f': no module 'nosuchpkg.mod' in the spec's repository"),
        ('{python: "../outside.py:f"}', "'../outside.py:f' is outside the spec's folder and repository ({repo})"),
        ('{python: "lib/build.py"}', "'lib/build.py' is not a Python source: write package.module:function"),
        (
            '{python: "lib/syntax.py:f"}',
            "importing 'lib/syntax.py:f' raised SyntaxError at {repo}/lib/syntax.py:2: invalid syntax",
        ),
        (
            '{python: "lib/divides.py:f"}',
            "importing 'lib/divides.py:f' raised ZeroDivisionError at {repo}/lib/divides.py:2 in <module>: division",
        ),
    ],
)
def test_a_bad_python_source_is_a_located_error_saying_what_came_back(qrun, repo, entry, message):
    (repo.parent / "outside.py").write_text("def f():\n    pass\n", encoding="utf-8")
    (repo / "lib" / "syntax.py").write_text("x = 1\ndef f(:\n    pass\n", encoding="utf-8")
    (repo / "lib" / "divides.py").write_text("x = 1\ny = x / 0\n", encoding="utf-8")
    text = SPEC.format(backend="aer", allow="allow_python: true", ghz="lib/build.py:ghz")
    text = text.replace('ghz: {python: "lib/build.py:ghz", args: {n: 3}}', f"ghz: {entry}")
    spec = repo / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    result = qrun(spec, "--out", repo / "results")
    assert result.code == 2
    first = result.err.splitlines()[0]
    assert first.startswith(f"{spec}:7:") and ": circuits.ghz.python: " in first
    assert message.format(repo=repo) in first, first


@pytest.mark.parametrize(
    "function, message",
    [
        ("complex_observable", "lib/build.py:complex_observable returned a SparsePauliOp with the complex coefficient"),
        ("ghz", "lib/build.py:ghz(...) raised TypeError"),
        ("tilted", "lib/build.py:tilted(...) raised TypeError"),
    ],
)
def test_an_observable_must_come_back_as_a_real_sparse_pauli_op(qrun, repo, function, message):
    spec = _spec(repo)
    spec.write_text(
        spec.read_text().replace(
            'zzz: {python: "lib/build.py:parity", args: {n: 3}}', f'zzz: {{python: "lib/build.py:{function}"}}'
        ),
        encoding="utf-8",
    )
    result = qrun(spec, "--out", repo / "results")
    assert result.code == 2
    assert f"observables.zzz.python: {message}" in result.err


def test_an_observable_function_returning_a_circuit_is_named(qrun, repo):
    spec = _spec(repo)
    spec.write_text(
        spec.read_text().replace(
            'zzz: {python: "lib/build.py:parity", args: {n: 3}}', 'zzz: {python: "lib/build.py:ghz", args: {n: 3}}'
        ),
        encoding="utf-8",
    )
    result = qrun(spec, "--out", repo / "results")
    assert result.code == 2
    assert "observables.zzz.python: lib/build.py:ghz returned a QuantumCircuit, not a SparsePauliOp" in result.err


def test_a_changed_source_stops_a_resume_and_a_rerun_says_so(qrun, repo):
    spec = _spec(repo)
    assert qrun(spec, "--out", repo / "results", "-q").code == 0
    run = _run_dir(repo / "results")
    meta_file = run / "metadata.json"
    meta = json.loads(meta_file.read_text())
    meta["status"] = "interrupted"
    meta_file.write_text(json.dumps(meta))
    source = repo / "lib" / "build.py"
    source.write_text(source.read_text() + "\n# tuned\n", encoding="utf-8")
    resumed = qrun(spec, "--out", repo / "results", "--resume", run)
    assert resumed.code == 2
    assert resumed.err.strip().endswith(
        "the spec changed since that run: circuits.ghz, circuits.tilted, observables.zzz: build.py changed"
    ), resumed.err
    rerun = qrun("rerun", run, "-q")
    assert rerun.code == 0, rerun.err
    assert rerun.err.startswith(
        "qrun: warning: the Python this run used has changed since (circuits.ghz, circuits.tilted, observables.zzz: "
        "build.py changed); "
    )


def test_an_observable_function_may_return_a_list_each_member_measured_by_its_own_name(qrun, repo):
    spec = repo / "list.yaml"
    spec.write_text(
        SPEC.format(backend="aer", allow="allow_python: true", ghz="lib/build.py:ghz")
        .replace(
            'zzz: {python: "lib/build.py:parity", args: {n: 3}}',
            'zzz: {python: "lib/build.py:ising_terms", args: {n: 3}}',
        )
        .split("  - {name: t,")[0],
        encoding="utf-8",
    )
    result = qrun(spec, "--out", repo / "results", "-q")
    assert result.code == 0, result.err
    body = _job(repo / result.out.strip(), "00-e")
    # on a GHZ state: <ZZZ> = 0, <XXX> = 1, <ZII> = 0, each within 5σ at precision 0.01
    assert list(body["observables"]) == ["zzz_0", "zzz_1", "zzz_2"]
    for name, want in (("zzz_0", 0.0), ("zzz_1", 1.0), ("zzz_2", 0.0)):
        entry = body["observables"][name]
        assert entry["exact"] == [pytest.approx(want, abs=1e-12)] and abs(entry["values"][0] - want) < 0.05
    minimize = spec.read_text().replace("primitive: estimator", "primitive: minimize")
    spec.write_text(minimize, encoding="utf-8")
    refused = qrun("validate", "--deep", spec)
    assert (
        refused.code == 2
        and "jobs[0].observables[0]: observable 'zzz' is a list of 3; a minimize job takes one" in refused.err
    )


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize(
    "spec",
    [p for p in sorted([*EXAMPLES.glob("*/*.yaml"), *EXAMPLES.glob("*/*.yaml.j2")]) if "python:" in p.read_text()],
    ids=lambda p: p.parent.name,
)
def test_the_examples_python_sources_call_nothing_their_libraries_deprecated(spec):
    """The examples are what users copy: each circuit and observable an example builds in Python, called as its spec
    calls it, raises no DeprecationWarning (QAOAAnsatz, deprecated in Qiskit 2.1 and gone in 3.0, did)."""
    import importlib.util
    import warnings

    from qrun import spec as specs

    entries = [
        entry
        for section in ("circuits", "observables")
        for entry in (specs.load(spec).data.get(section) or {}).values()
        if isinstance(entry, dict) and "python" in entry
    ]
    assert entries, f"{spec.name} names python: but builds nothing in Python"
    # one call each of a function and its words (rb's thirty sequences of up to 3,000 Cliffords differ in numbers only)
    kinds = {
        (e["python"], repr(sorted((k, v) for k, v in (e.get("args") or {}).items() if isinstance(v, str)))): e
        for e in reversed(entries)
    }
    for entry in kinds.values():
        file, function = entry["python"].rsplit(":", 1)
        assert file.endswith(".py"), entry["python"]  # an example keeps its sources beside its spec
        path = spec.parent / file
        module_spec = importlib.util.spec_from_file_location(f"example_{spec.parent.name}_{path.stem}", path)
        module = importlib.util.module_from_spec(module_spec)
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            module_spec.loader.exec_module(module)
            built = getattr(module, function)(**(entry.get("args") or {}))
        assert built is not None, entry["python"]


def test_interleaved_rb_of_a_gate_the_example_does_not_know_is_refused_in_its_words_once(qrun, tmp_path):
    """`gate=cx` raised KeyError: 'cx' from irb.py, once for each of its 30 interleaved circuits."""
    spec, source = EXAMPLES / "irb" / "irb.yaml.j2", EXAMPLES / "irb" / "irb.py"
    here = Path.cwd().resolve()
    shown = source.relative_to(here) if source.is_relative_to(here) else source  # as a traceback's place is said
    done = qrun(spec, "gate=cx", "--out", tmp_path / "r")
    assert (done.code, done.err.splitlines()) == (
        2,
        [
            f"{spec}:26: circuits.int-m1-s0.python: irb.py:sequence(...) raised ValueError at {shown}:16 "
            "in sequence: gate=cx: this example interleaves ecr or cz, a device's native gate (line 175 of the rendered "
            "text)",
            f"{spec}:26: the same for circuits.int-m1-s1.python, circuits.int-m1-s2.python, circuits.int-m1-s3.python "
            "and 26 more",
        ],
    )
    assert not (tmp_path / "r").exists()


def test_a_module_that_fails_to_import_fails_the_same_way_the_next_time_in_one_process(qrun, repo):
    """A notebook runs a spec again: the module that raised half way through its import is not kept half made (the
    second run said its function did not exist)."""
    (repo / "lib" / "divides.py").write_text("x = 1\ny = x / 0\n\n\ndef f():\n    pass\n", encoding="utf-8")
    text = SPEC.format(backend="aer", allow="allow_python: true", ghz="lib/build.py:ghz")
    spec = repo / "spec.yaml"
    spec.write_text(
        text.replace('ghz: {python: "lib/build.py:ghz", args: {n: 3}}', 'ghz: {python: "lib/divides.py:f"}')
    )
    message = (
        f"{spec}:7:17: circuits.ghz.python: importing 'lib/divides.py:f' raised ZeroDivisionError at "
        f"{repo}/lib/divides.py:2 in <module>: division by zero"
    )
    for _ in range(2):
        result = qrun(spec, "--out", repo / "results")
        assert (result.code, result.err.splitlines()[0]) == (2, message)


@pytest.mark.parametrize("backend", ["aer", "fake_fez"])
def test_a_python_circuit_no_transpile_can_make_isa_is_a_located_spec_error(qrun, repo, backend):
    """A TranspilerError from the plan was exit 3, 'internal error'."""
    spec = _spec(repo, backend=backend, ghz="lib/build.py:black_box")
    result = qrun(spec, "--out", repo / "r")
    assert (result.code, result.err) == (
        2,
        f"{spec}:7:8: circuits.ghz: cannot be transpiled for {backend}: HighLevelSynthesis is unable to synthesize "
        '"blackbox"\n',
    )
    assert not (repo / "r").exists()
