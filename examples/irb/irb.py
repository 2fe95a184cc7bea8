"""Two-qubit randomized benchmarking sequences, standard and interleaved with one gate: random Cliffords (the gate
after each, where interleaved) and the one Clifford that undoes them all."""

from qiskit import QuantumCircuit
from qiskit.circuit.library import CZGate, ECRGate
from qiskit.quantum_info import Clifford, random_clifford

GATES = {"ecr": ECRGate, "cz": CZGate}  # the two-qubit gates IBM's Eagles and Herons run natively


def sequence(length: int, seed: int, interleaved: str = "") -> QuantumCircuit:
    """`length` random two-qubit Cliffords (seeded: the same sequence each run, and the same Cliffords with or
    without the interleaved gate), each behind a barrier so the transpiler cannot merge them, then their inverse and
    a measurement: ideally always 00."""
    if interleaved and interleaved not in GATES:
        raise ValueError(f"gate={interleaved}: this example interleaves {' or '.join(GATES)}, a device's native gate")
    qc = QuantumCircuit(2)
    total = Clifford(QuantumCircuit(2))
    gate = GATES[interleaved]() if interleaved else None
    for k in range(length):
        clifford = random_clifford(2, seed=seed * 100_003 + k)
        qc.compose(clifford.to_circuit(), inplace=True)
        qc.barrier()
        total = total.compose(clifford)
        if gate is not None:
            qc.append(gate, [0, 1])
            qc.barrier()
            total = total.compose(Clifford(gate))
    qc.compose(total.adjoint().to_circuit(), inplace=True)
    qc.measure_all()
    return qc
