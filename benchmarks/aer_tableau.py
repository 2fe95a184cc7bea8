"""Aer's stabilizer method on GHZ chains, against qrun's local model of it (`planning/estimates.local` with a
tableau): a sampler's seconds a shot by width and measured qubits, and an estimator's by gates.

Usage: python benchmarks/aer_tableau.py [ROUNDS]   (default 3; a few seconds a round).
Prints each case's median and min-max over the rounds (interleaved) beside the model's figure."""

from __future__ import annotations

import statistics
import sys
import time


def _ghz(n: int, reps: int, measured: int):  # type: ignore[no-untyped-def]
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n, measured)
    for _ in range(reps):
        qc.h(0)
        for q in range(n - 1):
            qc.cx(q, q + 1)
    for q in range(measured):
        qc.measure(q, q)
    return qc


def main(rounds: int = 3) -> None:
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer.primitives import EstimatorV2, SamplerV2

    from qrun.planning import estimates
    from qrun.planning.estimates import Work

    samplers = [(20, 20, 4000), (50, 50, 4000), (100, 100, 2000), (100, 10, 2000), (200, 200, 500), (300, 30, 500)]
    estimators = [(100, 1), (100, 20), (400, 1), (1000, 5)]
    timed: dict[str, list[float]] = {}
    model: dict[str, float] = {}
    for _ in range(rounds):
        for n, measured, shots in samplers:
            qc = _ghz(n, 1, measured)
            name = f"sampler, {n} qubits, {measured} measured, {shots:,} shots"
            start = time.perf_counter()
            SamplerV2(seed=1).run([qc], shots=shots).result()
            timed.setdefault(name, []).append(time.perf_counter() - start)
            gates = sum(qc.count_ops().values())
            model[name] = estimates.local([Work(1, shots)], n, qc.depth(), False, (gates, measured))
        for n, reps in estimators:
            qc = _ghz(n, reps, 0)
            name = f"estimator, {n} qubits, {qc.size():,} gates"
            start = time.perf_counter()
            EstimatorV2().run([(qc, SparsePauliOp("X" * n))], precision=0.02).result()
            timed.setdefault(name, []).append(time.perf_counter() - start)
            model[name] = estimates.local([Work(1, 2500)], n, qc.depth(), True, (qc.size(), 0))
    for name, times in timed.items():
        print(
            f"{name}: median {statistics.median(times):.3f} s ({min(times):.3f}-{max(times):.3f}), "
            f"model {model[name]:.3f} s, {rounds} rounds"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
