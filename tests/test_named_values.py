"""Parameter values by name: put in qiskit's order of the circuit's parameters, checked before anything runs."""

import json
import math
from pathlib import Path

import pytest
import yaml

from qrun import load

# theta is declared first, but qiskit sorts a circuit's parameters by name: rows are [phi, theta]
SPEC = """version: 1
name: named
backend: {backend}
options: {{seed: 1, default_precision: 0.01}}
circuits:
  r:
    qasm: |
      OPENQASM 3.0;
      include "stdgates.inc";
      input float[64] theta;
      input float[64] phi;
      qubit[1] q;
      ry(theta) q[0];
      rx(phi) q[0];
observables: {{z: Z, x: X}}
jobs:
{jobs}"""


def _spec(tmp_path: Path, jobs: str, backend: str = "aer", extra: str = "") -> Path:
    path = tmp_path / "named.yaml"
    path.write_text(SPEC.format(backend=backend, jobs=jobs) + extra, encoding="utf-8")
    return path


def _run(qrun, spec: Path) -> Path:
    done = qrun(spec, "--out", spec.parent / "r", "-q")
    assert done.code == 0, done.err
    return spec.parent / done.out.strip()


def test_values_by_name_go_in_qiskits_order_where_a_row_in_declaration_order_silently_swaps_them(qrun, tmp_path):
    """<X> of rx(phi) ry(theta)|0> is sin(theta), whatever phi. `{theta: pi/2, phi: 0.25}` gives 1; the row
    [pi/2, 0.25], written in the order the circuit declares them, is phi = pi/2 and theta = 0.25: sin(0.25)."""
    jobs = (
        "  - {name: by-name, primitive: estimator, circuit: r, observables: [x], exact: statevector,\n"
        "     parameter_values: {theta: [1.5707963, 0.5], phi: 0.25}}\n"
        "  - {name: by-row, primitive: estimator, circuit: r, observables: [x], exact: statevector,\n"
        "     parameter_values: [[1.5707963, 0.25]]}\n"
    )
    run = load(_run(qrun, _spec(tmp_path, jobs.replace("observables: [z]", ""))))
    named, rows = run.jobs["by-name"], run.jobs["by-row"]
    assert named["parameter_values"] == [[0.25, 1.5707963], [0.25, 0.5]]  # phi, theta
    x = named["observables"]["x"]
    assert x["exact"] == pytest.approx([1.0, math.sin(0.5)])
    assert all(abs(v - e) < 5 * s for v, e, s in zip(x["values"], x["exact"], x["stderrs"], strict=True))
    assert rows["observables"]["x"]["exact"] == pytest.approx([math.sin(0.25)])  # theta = 0.25: not what was meant
    saved = yaml.safe_load((run.path / "spec.yaml").read_text())
    assert saved["jobs"][0]["parameter_values"] == {"theta": [1.5707963, 0.5], "phi": 0.25}  # kept as written


def test_a_sweep_takes_its_other_parameters_by_name_and_derived_values_count_the_sets(qrun, tmp_path):
    jobs = (
        "  - {name: scan, primitive: estimator, circuit: r, observables: [z], exact: statevector,\n"
        "     parameter_values: {phi: 3.14159265}, sweep: {values: {theta: [0.0, 1.0]}}}\n"
        "  - {name: two, primitive: estimator, circuit: r, observables: [z], parameter_values: {theta: [0, 1], phi: 0}}\n"
    )
    run = load(_run(qrun, _spec(tmp_path, jobs, extra='derived:\n  second: "two.z[1]"\n')))
    points = run.jobs["scan"]["points"]
    assert [(p["theta"], p["exact"]) for p in points] == [
        (0.0, pytest.approx(-1.0)),
        (1.0, pytest.approx(-math.cos(1.0))),
    ]
    assert run.derived["second"]["value"] == run.jobs["two"]["observables"]["z"]["values"][1]


@pytest.mark.parametrize(
    "values, said",
    [
        (
            "{thta: 1, phi: 0}",
            [
                "17:85: jobs[0].parameter_values: circuit 'r' has theta too: give every parameter a value (one value "
                "or one list each)",
                "17:86: jobs[0].parameter_values.thta: circuit 'r' has no parameter 'thta'; did you mean 'theta'? "
                "(its parameters: phi, theta)",
            ],
        ),
        (
            "{theta: 1}",
            [
                "17:85: jobs[0].parameter_values: circuit 'r' has phi too: give every parameter a value (one value "
                "or one list each)"
            ],
        ),
        (
            "{theta: [1, 2], phi: [0, 1, 2]}",
            ["17:93: jobs[0].parameter_values.theta: 2 values, where 'phi' has 3: each list gives one value per set"],
        ),
    ],
)
def test_values_by_name_are_checked_against_the_circuits_parameters(qrun, tmp_path, values, said):
    jobs = f"  - {{name: e, primitive: estimator, circuit: r, observables: [z], parameter_values: {values}}}\n"
    spec = _spec(tmp_path, jobs)
    lines = "".join(f"{spec}:{line}\n" for line in said)
    checked, ran = qrun("validate", spec), qrun(spec, "--out", tmp_path / "r")
    assert (checked.code, checked.err) == (2, f"{lines}qrun: 1 of 1 spec invalid\n")
    assert (ran.code, ran.err) == (2, lines)
    assert not (tmp_path / "r").exists()


def test_a_sweeps_fixed_values_by_name_are_one_number_each(qrun, tmp_path):
    jobs = (
        "  - {name: scan, primitive: estimator, circuit: r, observables: [z],\n"
        "     parameter_values: {phi: [1, 2]}, sweep: {values: {theta: [0.0, 1.0]}}}\n"
    )
    result = qrun("validate", _spec(tmp_path, jobs))
    assert result.err.splitlines()[0].endswith(
        "jobs[0].parameter_values.phi: with a sweep, a parameter's value is one number (the sweep varies the others)"
    )
    bare = qrun("validate", _spec(tmp_path, jobs.replace("parameter_values: {phi: [1, 2]}, ", "")))
    assert bare.err.splitlines()[0].endswith(
        "jobs[0]: circuit 'r' parameters phi are not swept; fix them with parameter_values: {phi: 0} by name, or one "
        "row of 2 numbers"
    )


def test_a_sampler_takes_values_by_name_on_a_real_size_device(qrun, tmp_path):
    jobs = "  - {name: s, primitive: sampler, circuit: r, measure_all: true, shots: 400, parameter_values: {theta: 3.14159265, phi: 0}}\n"
    run = load(_run(qrun, _spec(tmp_path, jobs, backend="fake_sherbrooke", extra="max_time: 10m\n")))
    counts = run.jobs["s"]["counts"]["meas"][0]
    assert counts.get("1", 0) > 0.85 * 400  # |1>, less the device's readout error
    assert json.loads((run.path / "metadata.json").read_text())["status"] == "completed"


def test_a_library_circuits_vector_parameters_are_named_as_qiskit_names_them(qrun, tmp_path):
    """real_amplitudes' parameters are θ[0], θ[1]: quoted, as YAML needs them, and in any order the same rows."""
    spec = tmp_path / "lib.yaml"
    spec.write_text(
        "version: 1\nname: lib\nbackend: aer\noptions: {seed: 1, default_precision: 0.02}\n"
        "circuits:\n  ra: {library: real_amplitudes, args: {num_qubits: 1, reps: 1}}\nobservables: {z: Z}\njobs:\n"
        "  - {name: named, primitive: estimator, circuit: ra, observables: [z], exact: statevector,"
        ' parameter_values: {"θ[1]": 0.5, "θ[0]": 0}}\n'
        "  - {name: rows, primitive: estimator, circuit: ra, observables: [z], exact: statevector,"
        " parameter_values: [[0, 0.5]]}\n",
        encoding="utf-8",
    )
    run = load(_run(qrun, spec))
    assert run.jobs["named"]["parameter_values"] == run.jobs["rows"]["parameter_values"] == [[0, 0.5]]
    assert run.jobs["named"]["observables"]["z"]["exact"] == pytest.approx([math.cos(0.5)])


def test_each_named_value_is_a_key_an_override_reaches(qrun, tmp_path):
    jobs = "  - {name: e, primitive: estimator, circuit: r, observables: [x], parameter_values: {theta: 0, phi: 0}}\n"
    spec = _spec(tmp_path, jobs)
    done = qrun(spec, "jobs.e.parameter_values.theta=1.5707963", "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    assert load(tmp_path / done.out.strip()).jobs["e"]["parameter_values"] == [[0, 1.5707963]]  # phi, theta


def test_rows_of_a_circuit_declaring_its_parameters_out_of_qiskits_order_are_warned_of(qrun, tmp_path):
    """The row [pi/2, 0.25] of the first test bound theta to 0.25 without a word: validate and a run say which order
    a row is in; values by name, or a circuit that declares them in qiskit's order, draw nothing."""
    jobs = "  - {name: e, primitive: estimator, circuit: r, observables: [x], parameter_values: [[1.5707963, 0.25]]}\n"
    warning = (
        "warning: e (parameter_values): a row of circuit 'r' is in qiskit's order of its parameters, phi, theta, not "
        "the order it declares them, theta, phi; values by name need no order: {theta: ..., phi: ...}\n"
    )
    spec = _spec(tmp_path, jobs)
    assert qrun("validate", spec).err == warning
    ran = qrun(spec, "--out", tmp_path / "r", "-q")
    assert (ran.code, ran.err) == (0, warning)
    named = _spec(tmp_path, jobs.replace("[[1.5707963, 0.25]]", "{theta: 1.5707963, phi: 0.25}"))
    assert qrun("validate", named).err == ""
    in_order = named.read_text().replace("{theta: 1.5707963, phi: 0.25}", "[[0.25, 1.5707963]]")
    in_order = in_order.replace(
        "input float[64] theta;\n      input float[64] phi;", "input float[64] phi;\n      input float[64] theta;"
    )
    named.write_text(in_order)
    assert qrun("validate", named).err == ""
