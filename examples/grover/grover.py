"""Grover's search as IBM's tutorial builds it: a phase oracle from MCMTGate, qiskit's grover_operator, and the
optimal number of iterations for the marked states."""

import math

from qiskit import QuantumCircuit
from qiskit.circuit.library import MCMTGate, ZGate, grover_operator


def oracle(marked: list[str]) -> QuantumCircuit:
    """A phase flip on each marked bitstring (qiskit's order: the rightmost bit is qubit 0)."""
    n = len(marked[0])
    qc = QuantumCircuit(n)
    for target in marked:
        zeros = [i for i, bit in enumerate(reversed(target)) if bit == "0"]
        if zeros:
            qc.x(zeros)
        qc.compose(MCMTGate(ZGate(), n - 1, 1), inplace=True)
        if zeros:
            qc.x(zeros)
    return qc


def search(marked: list[str]) -> QuantumCircuit:
    """Uniform superposition, then the Grover operator applied the optimal number of times, then measurement."""
    op = grover_operator(oracle(marked))
    n = op.num_qubits
    iterations = math.floor(math.pi / (4 * math.asin(math.sqrt(len(marked) / 2**n))))
    qc = QuantumCircuit(n)
    qc.h(range(n))
    qc.compose(op.power(iterations), inplace=True)
    qc.measure_all()
    return qc
