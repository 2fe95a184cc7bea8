"""Single-qubit randomized benchmarking sequences: random Cliffords and the one Clifford that undoes them all."""

from qiskit import QuantumCircuit
from qiskit.quantum_info import Clifford, random_clifford


def sequence(length: int, seed: int) -> QuantumCircuit:
    """`length` random single-qubit Cliffords (seeded: the same sequence each run), each behind a barrier so the
    transpiler cannot merge them into one gate, then their inverse, and a measurement: ideally always 0."""
    qc = QuantumCircuit(1)
    total = Clifford(QuantumCircuit(1))
    for k in range(length):
        clifford = random_clifford(1, seed=seed * 100_003 + k)
        qc.compose(clifford.to_circuit(), inplace=True)
        qc.barrier()
        total = total.compose(clifford)
    qc.compose(total.adjoint().to_circuit(), inplace=True)
    qc.measure_all()
    return qc
