"""Max-Cut by QAOA, as IBM's tutorial sets it up: the graph's cost Hamiltonian (one ZZ per edge) and qiskit's QAOA
ansatz over it (`qaoa_ansatz`, the function that replaces the QAOAAnsatz class Qiskit 2.1 deprecated)."""

from qiskit import QuantumCircuit
from qiskit.circuit.library import qaoa_ansatz
from qiskit.quantum_info import SparsePauliOp


def cost(nodes: int, edges: list[list[int]]) -> SparsePauliOp:
    """sum over edges of Z_i Z_j: each cut edge contributes -1, so the lowest energy is the largest cut."""
    return SparsePauliOp.from_sparse_list([("ZZ", [i, j], 1.0) for i, j in edges], nodes)


def ansatz(nodes: int, edges: list[list[int]], reps: int = 2) -> QuantumCircuit:
    return qaoa_ansatz(cost(nodes, edges), reps=reps)
