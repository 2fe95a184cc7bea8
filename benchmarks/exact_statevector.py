"""What qiskit's Statevector, which `exact: statevector` uses, costs a parameter set, as written and with its gates
merged first as qrun merges them (`sources/exact.fused`): the model behind `planning/estimates.statevector_seconds`
(seconds per amplitude per gate evolved), at 12 to 20 qubits.

Usage: python benchmarks/exact_statevector.py [ROUNDS]   (default 3; about 20 s a round).
Prints each circuit's median and min-max over the rounds (interleaved), and nanoseconds per amplitude per gate."""

from __future__ import annotations

import statistics
import sys
import time


def _layers(n: int, layers: int):  # type: ignore[no-untyped-def]
    """ry on every qubit, then `layers` of rz on every qubit and a chain of cz."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n)
    qc.ry(0.3, range(n))
    for k in range(layers):
        qc.rz(0.1 * (k + 1), range(n))
        for q in range(0, n - 1, 2):
            qc.cz(q, q + 1)
    return qc


def main(rounds: int = 3) -> None:
    from qiskit.circuit.random import random_circuit
    from qiskit.quantum_info import Statevector

    from qrun.planning import estimates
    from qrun.sources import exact

    circuits = {
        "layered, 12 qubits, 4 layers": _layers(12, 4),
        "layered, 16 qubits, 4 layers": _layers(16, 4),
        "layered, 20 qubits, 4 layers": _layers(20, 4),
        "random_circuit(20, 6)": random_circuit(20, 6, seed=4),
    }
    timed: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for name, qc in circuits.items():
            for how, make in (("as written", lambda c: c), ("merged", exact.fused)):
                start = time.perf_counter()
                Statevector(make(qc))
                timed.setdefault((name, how), []).append(time.perf_counter() - start)
    for (name, how), times in timed.items():
        qc = circuits[name]
        gates = qc.size() if how == "as written" else exact.evolved_gates(qc)
        median = statistics.median(times)
        model = estimates.statevector_seconds(1, qc.num_qubits, gates)
        print(
            f"{name}, {how}, {gates} gates: median {median:.3f} s ({min(times):.3f}-{max(times):.3f}), "
            f"{median / (gates * 2**qc.num_qubits) * 1e9:.1f} ns per amplitude per gate, model {model:.3f} s"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
