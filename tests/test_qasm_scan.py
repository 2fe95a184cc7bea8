"""OpenQASM read as tokens before anything is built: includes found on any line, gate counts after broadcast, loops
and modifiers, and what cannot be bounded refused."""

from __future__ import annotations

import pytest

from qrun.errors import SourceError
from qrun.sources import circuits, qasm_scan

STD3 = 'OPENQASM 3.0; include "stdgates.inc"; '


def _build(text: str):
    from qiskit import qasm3

    return qasm3.loads(text)


@pytest.mark.parametrize(
    "body",
    [
        "qubit[3] q; bit[3] c; h q; cx q[0], q[1]; c = measure q;",
        "qubit[5] a; qubit[5] b; bit[5] c; cx a, b; rz(0.5) a[2]; c = measure b;",
        "qubit[2] q; gate g(t) x, y { rz(t) x; cx x, y; } g(0.1) q[0], q[1];",
    ],
)
def test_loop_free_counts_match_what_qiskit_builds(body):
    text = STD3 + body
    gates, qubits = qasm_scan.bounds(text)
    qc = _build(text)
    assert (gates, qubits) == (len(qc.decompose(["g"]).data), qc.num_qubits)


@pytest.mark.parametrize(
    ("body", "applications"),
    [
        ("qubit[4] q; for int i in [0:2] { x q; } rz(0.1) q[0];", 3 * 4 + 1),  # ranges include their end
        ("qubit[2] q; for int i in [0:2:6] { h q[0]; cx q[0], q[1]; }", 4 * 2),
        ("qubit[2] q; for int i in {1, 5, 9} { x q; }", 3 * 2),
        ("qubit[3] q; bit b; if (b) { x q; } else { h q[0]; }", 3 + 1),  # both branches: an upper bound
    ],
)
def test_loops_count_every_iteration(body, applications):
    assert qasm_scan.bounds(STD3 + body)[0] == applications


def test_definitions_broadcast_and_pow_multiply():
    text = STD3 + "qubit[10] q; gate two a { x a; x a; } gate four a { two a; two a; } four q; pow(5) @ x q[0];"
    assert qasm_scan.bounds(text) == (4 * 10 + 5, 10)


def test_an_include_in_a_comment_or_a_string_is_none_and_one_line_keeps_every_statement(tmp_path):
    (tmp_path / "x.inc").write_text("gate myx a { x a; }\n")
    text = 'OPENQASM 2.0; include "qelib1.inc"; include "x.inc"; qreg q[1]; creg c[1]; myx q[0]; x q[0]; // include "y.inc";\n'
    inlined = circuits.qasm_text({"qasm": text}, tmp_path)
    assert inlined == (
        'OPENQASM 2.0; include "qelib1.inc"; gate myx a { x a; }\n qreg q[1]; creg c[1]; myx q[0]; x q[0]; '
        '// include "y.inc";\n'
    )


@pytest.mark.parametrize(
    ("include", "message"),
    [
        (
            "/etc/passwd",
            "'/etc/passwd' is outside the spec's folder and repository ({root}); qrun reads circuit files only from there",
        ),
        (
            "../outside/gates.inc",
            "'../outside/gates.inc' is outside the spec's folder and repository ({root}); qrun reads circuit files only from there",
        ),
    ],
)
def test_includes_anywhere_on_a_line_are_confined_and_never_quoted(tmp_path, include, message):
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "gates.inc").write_text("secret-token-here\n")
    text = f'OPENQASM 2.0; include "{include}"; qreg q[1];'
    with pytest.raises(SourceError) as e:
        circuits.qasm_text({"qasm": text}, spec_dir)
    assert str(e.value) == message.format(root=spec_dir)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("qubit[2] q; while (true) { x q[0]; }", "a while loop is refused: qrun cannot bound how many times it runs"),
        ("qubit[2147483648] q;", "declares more than 10,000 qubits"),
        (
            "qubit[2] q; int n = 5; for int i in [0:n] { x q[0]; }",
            "a for loop's range must be written as numbers ([start:end] or [start:step:end]); for 'n', use a template "
            "variable ({{ n }}, with vars: {n: ...}): qiskit's importer reads no const",
        ),
        (  # qiskit's importer reads no const declaration at all: the number is the template's to give
            "const int n = 4; qubit[n] q;",
            "a qubit register's size must be a number; for 'n', use a template variable ({{ n }}, with vars: "
            "{n: ...}): qiskit's importer reads no const",
        ),
        (
            "qubit[2] q; for int i in {0, 1} { x q[0]; } for int i in [0:1:] { x q[0]; }",
            "a for loop's range must be written as numbers ([start:end] or [start:step:end])",
        ),
        ("qubit[1] q; " + "inv @ " * 17 + "x q[0];", "a gate has more than 16 modifiers (inv @, ctrl @, pow(k) @)"),
        ("qubit[1] q; " + "{" * 70 + "}" * 70, "blocks nest more than 64 deep"),
    ],
)
def test_what_cannot_be_bounded_is_refused_before_anything_is_built(body, message):
    with pytest.raises(SourceError) as e:
        qasm_scan.bounds(STD3 + body)
    assert str(e.value) == message


def test_a_billion_iterations_and_broadcast_lines_are_counted_not_run():
    gates, _ = qasm_scan.bounds(STD3 + "qubit[30] q; for int i in [0:999999999] { h q; }")
    assert gates == 30 * 10**9
    gates, _ = qasm_scan.bounds(STD3 + "qubit[30] q;" + " h q;" * 200_000)
    assert gates == 6_000_000


def test_validate_refuses_them_with_the_run_verdict(qrun, write_spec, monkeypatch):
    spec = write_spec(
        "version: 1\nname: w\nbackend: aer\nmax_time: 10m\ncircuits:\n"
        "  c: {qasm: 'OPENQASM 3.0; qubit[2] q; bit[2] c; while (true) { x q[0]; } c = measure q;'}\n"
        "jobs:\n  - {name: s, primitive: sampler, circuit: c}\n"
    )
    monkeypatch.chdir(spec.parent)
    message = "spec.yaml:6:13: circuits.c.qasm: a while loop is refused: qrun cannot bound how many times it runs\n"
    assert qrun("validate", "spec.yaml").err == message + "qrun: 1 of 1 spec invalid\n"
    ran = qrun("spec.yaml", "--out", "r", "-q")
    assert (ran.code, ran.err) == (2, message)
