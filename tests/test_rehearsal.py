"""A job on a real-size fake device is simulated on the qubits it uses, with the same answer."""

import numpy as np
import pytest

from qrun import backends
from qrun.planning import rehearsal


@pytest.fixture(scope="module")
def sherbrooke():
    return backends.fake_backend("fake_sherbrooke")


def _isa(device, qc, seed=1):
    from qiskit.transpiler import generate_preset_pass_manager

    return generate_preset_pass_manager(optimization_level=1, backend=device, seed_transpiler=seed).run(qc)


def test_the_restricted_circuit_and_observable_give_the_full_devices_statevector_answer(sherbrooke):
    from qiskit.circuit.library import real_amplitudes
    from qiskit.quantum_info import SparsePauliOp, Statevector

    qc = real_amplitudes(3, reps=1).assign_parameters([0.3, -0.7, 1.1, 0.2, 0.5, -0.4])
    isa = _isa(sherbrooke, qc)
    op = SparsePauliOp.from_list([("ZZI", 0.5), ("IXX", -1.0), ("YII", 0.25)])
    small, ops, device, qubits = rehearsal.rehearse(isa, [("h", op.apply_layout(isa.layout))], sherbrooke)
    assert device.num_qubits == small.num_qubits == len(qubits) < 10
    exact = Statevector(qc).expectation_value(op).real
    # the restricted ISA circuit keeps the final layout's permutation inside the observable's mapping
    got = Statevector(small.remove_final_measurements(inplace=False)).expectation_value(ops[0][1]).real
    assert got == pytest.approx(exact, abs=1e-9)


def test_an_idle_qubit_an_observable_reads_stays_in_the_rehearsal(sherbrooke):
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp

    qc = QuantumCircuit(2)
    qc.x(0)  # qubit 1 idles, but the observable reads it
    isa = _isa(sherbrooke, qc)
    _, ops, _, qubits = rehearsal.rehearse(isa, [("z", SparsePauliOp("ZI").apply_layout(isa.layout))], sherbrooke)
    assert len(qubits) == 2
    assert ops[0][1].num_qubits == 2


def test_a_restricted_observable_stays_sparse_at_127_qubits():
    from qiskit.quantum_info import SparsePauliOp

    op = SparsePauliOp.from_sparse_list([("ZZ", [5, 120], 1.0), ("X", [64], 0.5)], num_qubits=127)
    small = rehearsal.restrict_observable(op, [5, 64, 120])
    assert small == SparsePauliOp.from_sparse_list([("ZZ", [0, 2], 1.0), ("X", [1], 0.5)], num_qubits=3)
    assert np.all(small.coeffs == op.coeffs)


@pytest.mark.parametrize("device_name", ["fake_sherbrooke", pytest.param("fake_fez", marks=pytest.mark.slow)])
def test_qubits_no_gate_couples_get_an_idle_neighbour_so_the_subset_device_has_a_coupling_map(device_name):
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp, Statevector
    from qiskit_aer import AerSimulator

    device = backends.fake_backend(device_name)
    qc = QuantumCircuit(2)
    qc.x(1)  # qubit 0 idles and only the observable reads it: the layout may put the two far apart
    isa = _isa(device, qc)
    op = SparsePauliOp("ZI").apply_layout(isa.layout)
    read = {q for _, where, _ in op.to_sparse_list() for q in where} | set(backends.active_qubits(isa))
    small, ops, cut, qubits = rehearsal.rehearse(isa, [("z", op)], device)
    assert read <= set(qubits) and len(qubits) <= len(read) + 1
    edges = device.coupling_map.get_edges()
    assert any(a in qubits and b in qubits for a, b in edges)
    assert cut.coupling_map is not None and AerSimulator.from_backend(cut).num_qubits == len(qubits)
    assert Statevector(small).expectation_value(ops[0][1]).real == pytest.approx(-1.0)  # Z on the flipped qubit


@pytest.mark.parametrize("device_name", ["fake_sherbrooke", pytest.param("fake_fez", marks=pytest.mark.slow)])
def test_circuits_on_the_same_qubits_share_one_subset_device_and_each_keeps_its_answer(device_name):
    """Making a subset device reads and rewrites the device's calibration: jobs on other circuits that use the same
    physical qubits get the one already made, and each circuit still gives its own exact answer on it."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp, Statevector

    device = backends.fake_backend(device_name)
    circuits = []
    for angle in (0.3, 1.2):
        qc = QuantumCircuit(2)
        qc.ry(angle, 0)
        qc.cx(0, 1)
        circuits.append((angle, qc))
    isas = [_isa(device, qc, seed=5) for _, qc in circuits]
    subsets: dict = {}
    made = []
    for (angle, _), isa in zip(circuits, isas, strict=True):
        ops = [(name, SparsePauliOp(name).apply_layout(isa.layout)) for name in ("ZZ", "ZI")]
        small, restricted, cut, qubits = rehearsal.rehearse(isa, ops, device, subsets=subsets)
        made.append((cut, tuple(qubits)))
        state = Statevector(small)
        # ry(angle) then cx: <ZZ> = 1 and <ZI> = cos(angle), each circuit its own
        assert state.expectation_value(restricted[0][1]).real == pytest.approx(1.0, abs=1e-9)
        assert state.expectation_value(restricted[1][1]).real == pytest.approx(np.cos(angle), abs=1e-9)
    assert made[0][1] == made[1][1]  # one layout for both (the same seed and shape)
    assert made[0][0] is made[1][0] and list(subsets) == [made[0][1]]
    other = rehearsal.rehearse(isas[0], [("zz", SparsePauliOp("ZZ").apply_layout(isas[0].layout))], device)[2]
    assert other is not made[0][0]  # without the shared dict, a device of its own


def test_a_barrier_across_the_whole_device_is_kept_across_the_rehearsed_qubits(sherbrooke):
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp, Statevector

    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    isa = _isa(sherbrooke, qc)
    isa.barrier()  # all 127 qubits
    isa.rz(0.5, isa.layout.final_index_layout()[0])
    qubits = sorted(backends.active_qubits(isa))
    small = rehearsal.restrict_circuit(isa, qubits)
    barrier = next(inst for inst in small.data if inst.operation.name == "barrier")
    assert barrier.operation.num_qubits == len(barrier.qubits) == len(qubits) == small.num_qubits
    zz = rehearsal.restrict_observable(SparsePauliOp("ZZ").apply_layout(isa.layout), qubits)
    assert Statevector(small).expectation_value(zz).real == pytest.approx(1.0, abs=1e-9)  # a Bell pair
