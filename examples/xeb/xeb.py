"""Random circuits of Google's cross-entropy benchmarking: layers of random single-qubit gates and a layer of CZs."""

import math

import numpy as np
from qiskit import QuantumCircuit

# sqrt(X), sqrt(Y) and sqrt(W), W = (X + Y) / sqrt(2): rotations by pi/2 about three axes of the equator
AXES = (0.0, math.pi / 2, math.pi / 4)


def layers(qubits: int, depth: int, seed: int) -> QuantumCircuit:
    """`depth` cycles on a line of `qubits`: on every qubit one of the three gates, chosen at random but never the
    one it had the cycle before, then CZs on alternate pairs of neighbours (0-1, 2-3, ... then 1-2, 3-4, ...), so
    every cycle holds the same gates and the fidelity decays by the same factor each cycle. Seeded: the same circuit
    each run."""
    rng = np.random.default_rng([seed, depth, qubits])
    qc = QuantumCircuit(qubits)
    last = [-1] * qubits
    for cycle in range(depth):
        for q in range(qubits):
            axis = int(rng.choice([a for a in range(len(AXES)) if a != last[q]]))
            last[q] = axis
            qc.r(math.pi / 2, AXES[axis], q)
        for q in range(cycle % 2, qubits - 1, 2):
            qc.cz(q, q + 1)
        qc.barrier()
    return qc
