"""What `exact: stabilizer` costs on a 127-qubit device's width, and what qiskit's own routes to the same
distribution cost: a state of four 31- and 32-qubit GHZ blocks (16 outcomes), measured on every qubit.

Usage: python benchmarks/stabilizer_refs.py [ROUNDS]   (default 3; qiskit's probabilities take about 20 s a round).
Prints the median and min-max of each, the rounds interleaved."""

from __future__ import annotations

import math
import statistics
import sys
import time


def main(rounds: int = 3) -> None:
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter
    from qiskit.quantum_info import SparsePauliOp, StabilizerState

    from qrun.sources import exact, stabilizer

    n = 127
    blocks = QuantumCircuit(n)
    for start in range(0, n, 32):
        blocks.h(start)
        for q in range(start, min(start + 31, n - 1)):
            blocks.cx(q, q + 1)
    measured = blocks.measure_all(inplace=False)
    h = Parameter("h")
    ising = QuantumCircuit(n)
    for _ in range(5):  # kicked Ising steps: rx(h) on every qubit, rzz(-π/2) on pairs
        ising.rx(h, range(n))
        for q in range(0, n - 1, 2):
            ising.rzz(-math.pi / 2, q, q + 1)
    rows = [[k * math.pi / 2] for k in range(1000)]
    xs = SparsePauliOp("X" * n)
    timed: dict[str, list[float]] = {}
    cases = {
        "qrun ideal_counts (16 outcomes)": lambda: stabilizer.ideal_counts(measured),
        "qiskit StabilizerState.probabilities_dict": lambda: StabilizerState(blocks).probabilities_dict(),
        "qiskit StabilizerState.measure (one outcome)": lambda: StabilizerState(blocks).measure(),
        "qrun row check, 1,000 parameter sets": lambda: stabilizer.row_refusal(ising, ["h"], rows, False),
        "qrun <X..X> by tableau, 20 parameter sets": lambda: [  # a fresh circuit: nothing remembered
            exact.expectation(fresh, xs, ["h"], r, "stabilizer") for fresh in [ising.copy()] for r in rows[:20]
        ],
    }
    for _ in range(rounds):
        for name, case in cases.items():
            start = time.perf_counter()
            case()
            timed.setdefault(name, []).append(time.perf_counter() - start)
    for name, times in timed.items():
        print(f"{name}: median {statistics.median(times):.3f} s ({min(times):.3f}-{max(times):.3f}), {rounds} rounds")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
