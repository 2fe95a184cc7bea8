"""Aer's own primitives bind each PUB's parameter rows: qrun sends them circuits whose rows Aer binds correctly
(backends.aer.bindable), and has Aer bind the rows as it runs where that gives its values bit for bit
(backends.aer.binds_at_runtime)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from qiskit import QuantumCircuit, qasm3
from qiskit.circuit import ControlledGate, Gate, Parameter, ParameterVector
from qiskit.circuit.library import CRYGate, MCPhaseGate, RYGate, get_standard_gate_name_mapping
from qiskit.quantum_info import SparsePauliOp, Statevector
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import EstimatorV2, SamplerV2

from qrun import load
from qrun.backends.aer import bindable, binds_at_runtime, picks_statevector

QASM = (
    'OPENQASM 3.0; include "stdgates.inc"; input float a; input float b; qubit[3] q; h q; ry(0.4) q[1]; '
    "cp(a) q[0], q[1]; crx(b) q[1], q[2]; cry(a - b) q[0], q[2]; crz(2 * a) q[2], q[0]; cu(a, b, 0.3, b) q[1], q[0];"
)
ROWS = np.random.default_rng(8).uniform(-np.pi, np.pi, (8, 2)).round(6)
SPEC = f"""version: 1
name: controlled
backend: aer
options: {{seed: 5}}
circuits:
  c: {{qasm: '{QASM}'}}
observables:
  zii: IIZ
  mixed: [[XZI, 0.5], [IYY, -0.7]]
jobs:
  - {{name: e, primitive: estimator, circuit: c, observables: [zii, mixed], precision: 1.0e-6,
     parameter_values: {ROWS.tolist()}}}
  - {{name: s, primitive: sampler, circuit: c, measure_all: true, shots: 4000, parameter_values: {ROWS.tolist()}}}
"""


def test_a_run_on_aer_of_controlled_gates_with_parameters_gives_each_rows_exact_values(qrun, write_spec, tmp_path):
    """Aer's primitives bind a row into cp, crx, cry, crz and cu wrongly, without an error (qiskit-aer issues 2323,
    2391, 2403); qrun's values are each row's exact statevector's, within 5 standard errors."""
    result = qrun(write_spec(SPEC), "--out", tmp_path, "-q")
    assert result.code == 0, result.err
    run = load(Path(result.out.strip()))
    circuit = qasm3.loads(QASM)
    states = [Statevector(circuit.assign_parameters(row)) for row in ROWS]
    ops = [SparsePauliOp("IIZ"), SparsePauliOp(["XZI", "IYY"], [0.5, -0.7])]
    exact = [[state.expectation_value(op).real for state in states] for op in ops]
    np.testing.assert_allclose(run.result("e")[0].data.evs, exact, atol=5e-6)  # precision 1e-6: 5 standard errors
    counts = run.result("s")[0].data.meas
    for k, state in enumerate(states):
        probabilities = state.probabilities_dict()
        frequencies = {bits: n / 4000 for bits, n in counts.get_counts(k).items()}
        for bits in set(probabilities) | set(frequencies):
            p = probabilities.get(bits, 0.0)
            assert abs(frequencies.get(bits, 0.0) - p) <= 5 * np.sqrt(max(p * (1 - p), 1e-4) / 4000), (k, bits)


def _controlled(build: str) -> QuantumCircuit:
    a, b = Parameter("a"), Parameter("b")
    circuit = QuantumCircuit(4, 1)
    circuit.h(range(4))
    circuit.ry(0.3, range(4))
    circuit.rz(b, 3)
    if build == "mcphase":
        circuit.append(MCPhaseGate(2 * a, 2), [0, 1, 2])
    elif build == "c2ry":
        circuit.append(RYGate(a - b).control(2, annotated=False), [2, 0, 1])
    elif build == "open":
        circuit.append(CRYGate(a, ctrl_state=0), [1, 3])
    elif build == "phase":
        circuit.cu(a, b, 0.2, a * b, 0, 2)  # its definition leaves a global phase with parameters
    else:
        gate = get_standard_gate_name_mapping()[build]
        circuit.append(type(gate)(*[a + k * b for k in range(len(gate.params))]), [1, 2])
    return circuit


@pytest.mark.parametrize("build", ["cp", "crx", "cry", "crz", "cu", "cu1", "cu3", "mcphase", "c2ry", "open", "phase"])
def test_a_controlled_gate_with_parameters_goes_to_aer_as_gates_it_binds_each_row_into(build):
    circuit = _controlled(build)
    safe = bindable(circuit)
    assert safe is not circuit and safe.num_parameters == circuit.num_parameters
    op = SparsePauliOp(["ZZII", "IXYZ", "YIIX"], [0.4, 1.0, -0.3])
    rows = np.random.default_rng(6).uniform(-3, 3, (5, circuit.num_parameters))
    estimator = EstimatorV2(options={"default_precision": 0.0, "backend_options": {"method": "statevector"}})
    evs = estimator.run([(safe, op, rows)]).result()[0].data.evs
    exact = [Statevector(circuit.assign_parameters(row)).expectation_value(op).real for row in rows]
    np.testing.assert_allclose(evs, exact, atol=1e-12)


def test_a_circuit_aer_binds_correctly_goes_as_it_is_and_control_flow_blocks_are_replaced_too():
    a = Parameter("a")
    plain = QuantumCircuit(2)
    plain.cu(0.1, 0.2, 0.3, 0.4, 0, 1)  # no parameters in the controlled gate: Aer runs it as written
    plain.ry(a, 0)
    plain.cx(0, 1)
    assert bindable(plain) is plain
    opaque = QuantumCircuit(2)  # a controlled gate with no definition has nothing to be replaced by: as written
    opaque.append(ControlledGate("cop", 2, [a], num_ctrl_qubits=1, base_gate=Gate("op", 1, [a])), [0, 1])
    assert bindable(opaque) is opaque
    flow = QuantumCircuit(2, 1)
    flow.ry(a, 0)
    flow.measure(0, 0)
    with flow.if_test((flow.clbits[0], 1)):
        flow.crx(a, 0, 1)
    (block,) = bindable(flow).data[-1].operation.blocks
    assert "crx" not in block.count_ops() and set(block.count_ops()) <= {"s", "sdg", "cx", "ry", "u", "p", "rz"}


def _standard_gates_aer_runs() -> list[str]:
    statevector = set(AerSimulator(method="statevector").configuration().basis_gates)
    return sorted(set(get_standard_gate_name_mapping()) & statevector)


def test_every_gate_aer_binds_as_it_runs_gives_aers_values_and_shots_of_a_circuit_a_row():
    """backends.aer.binds_at_runtime admits circuits of qiskit's standard gates that Aer's statevector method runs.
    For each of them, parameterized by expressions where it takes parameters and sent as qrun sends it (bindable),
    the rows bound as Aer runs give the values and the shots of Aer's experiment a row, bit for bit, and the values
    are the exact statevector's."""

    names = _standard_gates_aer_runs()
    assert {"rx", "ry", "rz", "u", "cp", "rzz", "cx", "ecr", "reset", "delay"} <= set(names)
    op = SparsePauliOp(["XYZI", "IIXZ", "ZZIY"], [0.3, 1.0, 0.5])
    rows = np.random.default_rng(3).uniform(-3, 3, (6, 8))
    checked = []
    for name in names:
        gate = get_standard_gate_name_mapping()[name]
        if name in ("reset", "delay"):
            continue  # no unitary to bind: the sampler below measures, resets and waits
        p = ParameterVector("p", len(gate.params))
        circuit = QuantumCircuit(4, global_phase=0.4)
        circuit.h(range(4))
        circuit.ry(0.3, range(4))
        circuit.rz(Parameter("z"), 0)
        circuit.append(type(gate)(*[2 * x + 0.1 for x in p]) if gate.params else gate, range(gate.num_qubits))
        circuit = bindable(circuit)  # as qrun sends it: a controlled gate with parameters as its definition
        assert picks_statevector(circuit) and binds_at_runtime(circuit), name
        values = rows[:, : circuit.num_parameters]
        evs = []
        for bound in ({}, {"runtime_parameter_bind_enable": True}):
            options = {"backend_options": {"method": "statevector", "max_parallel_experiments": 0, **bound}}
            evs.append(EstimatorV2(options={"default_precision": 0.0, **options}).run([(circuit, op, values)]))
        evs = [job.result()[0].data.evs for job in evs]
        np.testing.assert_array_equal(evs[1], evs[0], err_msg=name)
        exact = [Statevector(circuit.assign_parameters(r)).expectation_value(op).real for r in values]
        np.testing.assert_allclose(evs[1], exact, atol=1e-12, err_msg=name)
        checked.append(name)
    assert len(checked) >= 35

    a, b = Parameter("a"), Parameter("b")
    circuit = QuantumCircuit(3, 3)
    circuit.rx(2 * a - b, 0)
    circuit.measure(0, 0)
    circuit.reset(0)
    circuit.delay(100, 1)
    circuit.ry(a * b, 0)
    circuit.cx(0, 2)
    circuit.barrier()
    circuit.measure([0, 1, 2], [0, 1, 2])
    assert picks_statevector(circuit) and binds_at_runtime(circuit)
    shots = []
    for bound in ({}, {"runtime_parameter_bind_enable": True}):
        options = {"backend_options": {"method": "statevector", "max_parallel_experiments": 0, **bound}}
        result = SamplerV2(default_shots=200, seed=11, options=options).run([(circuit, rows[:, :2])]).result()
        shots.append(result[0].data.c.array)
    np.testing.assert_array_equal(shots[1], shots[0])
    assert shots[0].shape == (6, 200, 1)


@pytest.mark.parametrize(
    ("build", "bound"),
    [
        ("ry", True),
        ("constant", False),  # no parameters: nothing to bind
        ("phase", False),  # Aer refuses a parameterized global phase with its rows bound as it runs
        ("unitary", False),  # not one of qiskit's standard gates
        ("if", False),  # control flow stops Aer's process with its rows bound as it runs
    ],
)
def test_aer_binds_rows_as_it_runs_only_for_standard_gates_and_a_fixed_global_phase(build, bound):

    a = Parameter("a")
    circuit = QuantumCircuit(2, 1, global_phase=a if build == "phase" else 0.0)
    circuit.ry(0.3 if build == "constant" else a, 0)
    if build == "unitary":
        circuit.unitary(np.eye(2), [1])
    if build == "if":
        circuit.measure(0, 0)
        with circuit.if_test((circuit.clbits[0], 1)):
            circuit.x(1)
    assert binds_at_runtime(circuit) is bound


@pytest.mark.slow  # a whole experiment: `make test` stays well under its 3 minutes
def test_random_circuits_of_aers_standard_gates_give_each_rows_exact_values_as_qrun_sends_them():
    """200 seeded random circuits of 2-5 qubits over every standard gate Aer's statevector method runs, with
    parameters, expressions of them and fixed angles, and a global phase fixed or parameterized. Sent as qrun sends
    them on aer (bindable; the rows bound as Aer runs where binds_at_runtime says so), Aer's values are each row's
    exact statevector's. Sent as written, about a quarter of them came out wrong or failed."""
    import random

    names = _standard_gates_aer_runs()
    gates = {name: get_standard_gate_name_mapping()[name] for name in names if name not in ("reset", "delay")}
    pick = random.Random(20261205)
    p = ParameterVector("p", 4)
    compared = bound = 0
    for trial in range(200):
        width = pick.randint(2, 5)
        circuit = QuantumCircuit(width, global_phase=pick.choice([0.0, 0.3, 0.5 * p[0], p[1] + p[2]]))
        for _ in range(pick.randint(3, 12)):
            gate = gates[pick.choice(list(gates))]
            if gate.num_qubits > width:
                continue
            angles = [
                pick.choice(
                    [pick.uniform(-3, 3), p[pick.randrange(4)], 2 * p[pick.randrange(4)] - p[pick.randrange(4)]]
                )
                for _ in gate.params
            ]
            circuit.append(type(gate)(*angles) if gate.params else gate, pick.sample(range(width), gate.num_qubits))
        if not circuit.num_parameters:
            continue
        sent = bindable(circuit)
        options = {"method": "statevector", "max_parallel_experiments": 0}
        if picks_statevector(sent) and binds_at_runtime(sent):
            options["runtime_parameter_bind_enable"] = True
            bound += 1
        op = SparsePauliOp(["".join(pick.choice("IXYZ") for _ in range(width)) for _ in range(3)], [0.5, -1.0, 0.25])
        rows = np.random.default_rng(trial).uniform(-3, 3, (4, circuit.num_parameters))
        estimator = EstimatorV2(options={"default_precision": 0.0, "backend_options": options})
        evs = estimator.run([(sent, op, rows)]).result()[0].data.evs
        exact = [Statevector(circuit.assign_parameters(row)).expectation_value(op).real for row in rows]
        np.testing.assert_allclose(evs, exact, atol=1e-9, err_msg=f"circuit {trial}: {dict(circuit.count_ops())}")
        compared += 1
    assert compared > 150 and 50 < bound < compared  # both ways of binding are exercised


@pytest.mark.slow  # a whole experiment: `make test` stays well under its 3 minutes
def test_random_measured_circuits_give_the_same_shots_with_their_rows_bound_as_aer_runs():
    """100 seeded random circuits of 2-4 qubits over every standard gate Aer's statevector method runs, with
    measurements and resets midway: where binds_at_runtime admits them, the rows bound as Aer runs give Aer's shots of
    an experiment a row, bit for bit, seed for seed."""
    import random

    gates = {name: get_standard_gate_name_mapping()[name] for name in _standard_gates_aer_runs() if name != "delay"}
    pick = random.Random(5)
    p = ParameterVector("p", 3)
    compared = 0
    for trial in range(100):
        width = pick.randint(2, 4)
        circuit = QuantumCircuit(width, width)
        for _ in range(pick.randint(3, 10)):
            name = pick.choice([*gates, "measure"])
            if name == "measure":
                qubit = pick.randrange(width)
                circuit.measure(qubit, qubit)
                continue
            gate = gates[name]
            if gate.num_qubits > width:
                continue
            angles = [
                pick.choice([pick.uniform(-3, 3), p[pick.randrange(3)], 2 * p[pick.randrange(3)]]) for _ in gate.params
            ]
            circuit.append(type(gate)(*angles) if gate.params else gate, pick.sample(range(width), gate.num_qubits))
        circuit.measure(range(width), range(width))
        sent = bindable(circuit)
        if not (circuit.num_parameters and picks_statevector(sent) and binds_at_runtime(sent)):
            continue
        rows = np.random.default_rng(trial).uniform(-3, 3, (5, circuit.num_parameters))
        shots = []
        for bound in ({}, {"runtime_parameter_bind_enable": True}):
            options = {"backend_options": {"method": "statevector", "max_parallel_experiments": 0, **bound}}
            shots.append(SamplerV2(default_shots=64, seed=trial, options=options).run([(sent, rows)]).result()[0])
        np.testing.assert_array_equal(shots[1].data.c.array, shots[0].data.c.array, err_msg=f"circuit {trial}")
        compared += 1
    assert compared > 60
