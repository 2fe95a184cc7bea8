"""Max-Cut by QAOA, as IBM's tutorial sets it up: the graph's cost Hamiltonian (one ZZ per edge) and qiskit's
QAOAAnsatz over it."""

from qiskit import QuantumCircuit
from qiskit.circuit.library import QAOAAnsatz
from qiskit.quantum_info import SparsePauliOp


def cost(nodes: int, edges: list[list[int]]) -> SparsePauliOp:
    """sum over edges of Z_i Z_j: each cut edge contributes -1, so the lowest energy is the largest cut."""
    return SparsePauliOp.from_sparse_list([("ZZ", [i, j], 1.0) for i, j in edges], nodes)


def ansatz(nodes: int, edges: list[list[int]], reps: int = 2) -> QuantumCircuit:
    return QAOAAnsatz(cost(nodes, edges), reps=reps).decompose(reps=2)
