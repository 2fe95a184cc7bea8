from pathlib import Path

import numpy as np
import pytest

from qrun.errors import SourceError
from qrun.sources import circuits, observables, qasm_scan
from qrun.sources.facts import CircuitFacts, of_circuit


@pytest.mark.parametrize(
    "value, terms",
    [
        ("IY", [("IY", 1.0)]),
        ("0.5*XI + 0.5*IX - 1.0*ZZ", [("XI", 0.5), ("IX", 0.5), ("ZZ", -1.0)]),
        ("-ZZ + 2 XX - .5e-1*YY", [("ZZ", -1.0), ("XX", 2.0), ("YY", -0.05)]),
        ([["II", -1.05], ["ZZ", 0.25]], [("II", -1.05), ("ZZ", 0.25)]),
    ],
)
def test_observables_parse_to_terms(value, terms):
    assert observables.parse_observable(value) == terms


@pytest.mark.parametrize(
    "value, message",
    [
        (
            "XX ZZ",
            "cannot read the observable 'XX ZZ' at character 4 ('ZZ'): expected terms like 0.5*XI + IX - 1.0*ZZ with Pauli labels of I, X, Y, Z, "
            "or by qubit, Z0 Z1 - 0.5*X3",
        ),
        (
            "__import__('os').system('x')",
            "cannot read the observable \"__import__('os').system('x')\" at character 1 (\"__import__('\"): expected terms like 0.5*XI + IX - 1.0*ZZ with Pauli labels of I, X, Y, Z, "
            "or by qubit, Z0 Z1 - 0.5*X3",
        ),
        ("X + YY", "all Pauli labels must have the same length; got lengths [1, 2]"),
        ("Z0 Z3 + XX", "'XX': write every term by qubit (Z0 Z3) or every term as a label (ZIIZ), not both"),
        ("Z0 X2 Y0", "'Z0 X2 Y0' names a qubit twice"),
        ("Z1 Z10000", "'Z1 Z10000' names a qubit past 9,999"),
        ("Z" + "9" * 5000, f"'Z{'9' * 36}...' names a qubit past 9,999"),  # no int of 5,000 digits is made
    ],
)
def test_observable_strings_are_parsed_never_evaluated(value, message):
    with pytest.raises(SourceError) as e:
        observables.parse_observable(value)
    assert str(e.value) == message


@pytest.mark.parametrize(
    "value, terms",
    [
        ("Z0 Z3", [("ZIIZ", 1.0)]),
        ("Z0Z1 - 0.5*X3 + 2 * I", [("IIZZ", 1.0), ("XIII", -0.5), ("IIII", 2.0)]),
        ([["Z0 Z5", 1.0], ["Y2", 0.5]], [("ZIIIIZ", 1.0), ("IIIYII", 0.5)]),
    ],
)
def test_observables_written_by_qubit_are_dense_up_to_their_highest_and_widened_to_a_circuit(value, terms):
    """On a 127-qubit device a dense label of a wide circuit is a line of I's: Z0 Z3 names what acts."""
    from qiskit.quantum_info import SparsePauliOp

    parsed = observables.parse_observable(value)
    assert parsed == terms and observables.observable_width(parsed) == (len(terms[0][0]), True)
    widened = SparsePauliOp.from_list([("I" * 2 + label, c) for label, c in terms])
    assert observables.to_sparse_pauli_op(parsed, len(terms[0][0]) + 2) == widened


def test_sum_string_equals_the_sparse_pauli_op_it_names():
    from qiskit.quantum_info import SparsePauliOp

    op = observables.to_sparse_pauli_op(observables.parse_observable("0.5*XI + 0.5*IX - 1.0*ZZ"), 2)
    assert op == SparsePauliOp.from_list([("XI", 0.5), ("IX", 0.5), ("ZZ", -1.0)])


def test_random_source_is_the_docs_example_decomposed_once():
    from qiskit.circuit.random import random_circuit

    qc = circuits.build({"random": {"num_qubits": 2, "depth": 2, "seed": 1}}, Path("."))
    assert qc == random_circuit(2, 2, seed=1).decompose(reps=1)


def test_qasm2_file_and_qasm3_string_give_the_same_state(tmp_path):
    from qiskit.quantum_info import Statevector

    (tmp_path / "ghz.qasm").write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0], q[1];\n')
    from_file = circuits.build({"file": "ghz.qasm"}, tmp_path)
    from_str = circuits.build(
        {"qasm": 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; h q[0]; cx q[0], q[1];'}, tmp_path
    )
    expected = np.array([1, 0, 0, 1]) / np.sqrt(2)
    assert np.allclose(Statevector(from_file).data, expected, atol=1e-12)
    assert np.allclose(Statevector(from_str).data, expected, atol=1e-12)


def test_library_circuit_and_its_facts():
    qc = circuits.build({"library": {"name": "efficient_su2", "args": {"num_qubits": 2, "reps": 1}}}, Path("."))
    assert of_circuit(qc) == CircuitFacts(
        num_qubits=2,
        num_parameters=8,
        num_clbits=0,
        has_measurements=False,
        parameter_names=tuple(f"θ[{i}]" for i in range(8)),
        registers=(),
        instructions=("cx", "ry", "rz"),
    )


def test_library_allow_list_is_enforced_even_past_the_schema():
    with pytest.raises(SourceError) as e:
        circuits.build({"library": {"name": "__class__"}}, Path("."))
    assert e.value.subpath == ("library", "name")


@pytest.mark.parametrize(
    "text, message",
    [
        (
            'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0];\ncx q[0] q[1];\n',
            "invalid OpenQASM at circ/bell.qasm:5:9: a syntax error at 'q'",
        ),
        (
            'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\nfoo q[1];\n',
            "invalid OpenQASM at circ/bell.qasm:5:1: 'foo' is not defined in this scope",
        ),
        (
            'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float t;\nqubit[1] q;\nrz(t) q[0];\n',
            "invalid OpenQASM at circ/bell.qasm:3:1: Symbol 't' already inserted in symbol table in this scope: "
            "Scope.GLOBAL ('t' is a gate stdgates.inc declares: give yours another name)",
        ),
        (
            'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nrzz(0.5) q[0], q[1];\n',
            "invalid OpenQASM at circ/bell.qasm:4:1: gate 'rzz' is not defined. (stdgates.inc has no 'rzz': define it "
            "first, gate rzz(θ) a, b { cx a, b; rz(θ) b; cx a, b; })",
        ),
    ],
)
def test_an_error_in_a_qasm_file_names_its_place_as_an_editor_reads_it(tmp_path, text, message):
    """The parsers count a column from 0 and name no file: `5,8: ...` sent a user to the wrong column of no file."""
    (tmp_path / "circ").mkdir()
    (tmp_path / "circ" / "bell.qasm").write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        circuits.build({"file": "circ/bell.qasm"}, tmp_path)
    assert (str(caught.value), caught.value.subpath) == (message, ("file",))


def test_a_qasm_file_with_a_custom_include_keeps_the_parsers_place(tmp_path):
    """qrun inlines a custom include before parsing, so the parser's line is not the file's: it is not mapped."""
    (tmp_path / "defs.inc").write_text("gate flip a { x a; }\n", encoding="utf-8")
    (tmp_path / "c.qasm").write_text('OPENQASM 3.0;\ninclude "defs.inc";\nqubit[1] q;\nflip q[0]\n', encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        circuits.build({"file": "c.qasm"}, tmp_path)
    assert str(caught.value).startswith("invalid OpenQASM: ") and "c.qasm" not in str(caught.value)


@pytest.mark.parametrize(
    "line, error",
    [
        ("parameter theta;", "\"3,0: gate 'parameter' is not defined.\""),
        ("input theta;", "3,6: no viable alternative at input 'theta'"),
        ("float[64] theta;", "\"3,0: declarations of type 'float' are not supported\""),
        ("parameter float[64] theta;", "3,10: no viable alternative at input 'parameterfloat'"),
    ],
)
def test_a_parameter_declared_another_way_is_shown_openqasm_3s_and_it_parses(line, error):
    """`parameter theta;` drew "gate 'parameter' is not defined", which says nothing of how to declare one. The hint's
    declaration, pasted in place of the line, parses to a circuit with that parameter."""
    text = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n{}\nqubit[1] q;\nrx(theta) q[0];\n'
    with pytest.raises(SourceError) as caught:
        circuits.build({"qasm": text.format(line)}, Path("."))
    hint = "OpenQASM 3 declares a circuit parameter as `input float[64] theta;`"
    assert str(caught.value) == f"invalid OpenQASM: {error} ({hint})"
    fixed = circuits.build({"qasm": text.format(hint.split("`")[1])}, Path("."))
    assert [p.name for p in fixed.parameters] == ["theta"]


@pytest.mark.parametrize("name", sorted(qasm_scan.UNDECLARED))
def test_each_definition_the_missing_gate_hint_gives_is_qiskits_gate(name):
    """A user pastes the hint's definition: it must be the gate qiskit means by that name, up to a global phase."""
    from qiskit import QuantumCircuit, qasm3
    from qiskit.circuit.library import DCXGate, RXXGate, RYYGate, RZXGate, RZZGate, iSwapGate
    from qiskit.quantum_info import Operator

    gate = {"rzz": RZZGate(0.37), "rxx": RXXGate(0.37), "ryy": RYYGate(0.37), "rzx": RZXGate(0.37)}.get(name)
    gate = gate or {"dcx": DCXGate(), "iswap": iSwapGate()}[name]
    angle = "(0.37)" if gate.params else ""
    text = f'OPENQASM 3.0; include "stdgates.inc"; {qasm_scan.UNDECLARED[name]} qubit[2] q; {name}{angle} q[0], q[1];'
    expected = QuantumCircuit(2)
    expected.append(gate, [0, 1])
    assert Operator(qasm3.loads(text)).equiv(Operator(expected))
