"""The kicked Ising circuit of Kim et al., Nature 618, 500 (2023), on a small heavy-hex patch: a chain of qubits
(a path along the heavy-hex lattice), each Trotter step RX(theta_h) on every qubit then RZZ(-pi/2) on every
edge, with the mean magnetization as the observable."""

from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp

QUBITS = 6  # small enough that zero-noise extrapolation on a simulated noisy device takes seconds


def edges(n: int = QUBITS) -> list[tuple[int, int]]:
    return [(i, i + 1) for i in range(n - 1)]


def kicked_ising(steps: int, n: int = QUBITS) -> QuantumCircuit:
    """`steps` Trotter steps; RZZ on the even edges, then the odd ones, so each layer touches a qubit once."""
    theta = Parameter("theta_h")
    qc = QuantumCircuit(n)
    for _ in range(steps):
        qc.rx(theta, range(n))
        for parity in (0, 1):
            for i, j in edges(n)[parity::2]:
                qc.rzz(-3.141592653589793 / 2, i, j)
    return qc


def magnetization(n: int = QUBITS) -> SparsePauliOp:
    """(1/n) sum_i Z_i."""
    return SparsePauliOp.from_sparse_list([("Z", [i], 1.0 / n) for i in range(n)], n)
