"""Observables written by qubit (Z0 Z5): the same values and exact references as their dense labels, laid out on a
real-size device's qubits, on any circuit at least as wide."""

import json

import pytest


def _ghz(n: int) -> str:
    chain = " ".join(f"cx q[{i}], q[{i + 1}];" for i in range(n - 1))
    return f'{{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[{n}] q; h q[0]; {chain}"}}'


@pytest.mark.parametrize("device", ["fake_fez", pytest.param("fake_sherbrooke", marks=pytest.mark.slow)])
def test_by_qubit_and_dense_labels_give_one_value_and_one_exact_reference(qrun, write_spec, device):
    spec = write_spec(
        f"version: 1\nname: byq\nbackend: {device}\nmax_time: 10m\noptions: {{seed: 3, resilience_level: 0}}\n"
        f"circuits:\n  four: {_ghz(4)}\n  six: {_ghz(6)}\n"
        "observables:\n"
        "  ends: Z0 Z3\n  ends-dense: ZIIZ\n"
        '  sum: "X0X1X2X3 - 0.5*Z1 Z2 + 2 * I"\n  sum-dense: [[XXXX, 1], [IZZI, -0.5], [IIII, 2]]\n'
        "jobs:\n"
        "  - {name: four, primitive: estimator, circuit: four, observables: [ends, ends-dense, sum, sum-dense], "
        "exact: statevector, precision: 0.02}\n"
        "  - {name: six, primitive: estimator, circuit: six, observables: [ends, sum], exact: statevector, "
        "precision: 0.02}\n"
    )
    done = qrun(spec, "--out", spec.parent / "r", "-q")
    assert done.code == 0, done.err
    jobs = next((spec.parent / "r" / "byq").iterdir()) / "jobs"
    four = json.loads((jobs / "00-four.json").read_text())["observables"]
    for name, exact in [("ends", 1.0), ("sum", 1.0 - 0.5 + 2.0)]:  # GHZ: <ZZ> = <XXXX> = 1
        assert four[name]["exact"] == four[f"{name}-dense"]["exact"] == [pytest.approx(exact, abs=1e-12)]
        assert four[name]["values"] == four[f"{name}-dense"]["values"]  # the same operator on the same qubits
    six = json.loads((jobs / "01-six.json").read_text())["observables"]
    # on six qubits Z0 Z3 still reads qubits 0 and 3 (1), and X0X1X2X3 is no stabilizer of GHZ-6 (0)
    assert [six["ends"]["exact"][0], six["sum"]["exact"][0]] == pytest.approx([1.0, -0.5 + 2.0], abs=1e-12)
    assert six["sum"]["values"][0] == pytest.approx(1.5, abs=0.15)  # the device's noise at resilience 0, measured
