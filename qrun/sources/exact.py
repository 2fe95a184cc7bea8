"""Exact, noiseless references for `exact: statevector`: <O>(θ) by Statevector, a ground energy by sparse
diagonalization, a sampler's ideal distribution; all on the circuit as written, before transpilation."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from qiskit import QuantumCircuit
    from qiskit.circuit import Clbit, Qubit
    from qiskit.quantum_info import SparsePauliOp

MAX_QUBITS = 20  # a statevector of 2^20 amplitudes is 16 MB; past that qrun refuses rather than exhaust memory
# Expectation values already computed, by the ids of the circuit and observable (each entry holds both, so neither id
# can be reused while it is kept) and the row: jobs that differ only in name share their reference objects, and
# 10,000 of them each simulated the same statevector (RESULTS.md). The oldest entries go first past MEMO_SIZE.
MEMO_SIZE = 4096
_MEMO: dict[tuple[int, int, tuple[str, ...], tuple[float, ...]], tuple[QuantumCircuit, SparsePauliOp, float]] = {}


def bind(circuit: QuantumCircuit, names: list[str], row: Sequence[float]) -> QuantumCircuit:
    """The circuit with its parameters bound by name (the plan's parameter order is the ISA circuit's)."""
    if not names:
        return circuit
    by_name = {p.name: p for p in circuit.parameters}
    return circuit.assign_parameters({by_name[n]: float(v) for n, v in zip(names, row)})


def expectation(circuit: QuantumCircuit, op: SparsePauliOp, names: list[str], row: Sequence[float]) -> float:
    """<op> of the circuit with `row` bound, by Statevector; computed once per circuit, observable and row."""
    key = (id(circuit), id(op), tuple(names), tuple(float(v) for v in row))
    kept = _MEMO.get(key)
    if kept is not None:
        return kept[2]
    from qiskit.quantum_info import Statevector

    value = float(Statevector(bind(circuit, names, row)).expectation_value(op).real)
    if len(_MEMO) >= MEMO_SIZE:
        del _MEMO[next(iter(_MEMO))]
    _MEMO[key] = (circuit, op, value)
    return value


def ground_energy(op: SparsePauliOp) -> float:
    """The lowest eigenvalue of a Pauli sum: dense for a few qubits, Lanczos on the sparse matrix beyond."""
    import numpy as np

    if op.num_qubits <= 10:
        return float(np.linalg.eigvalsh(op.to_matrix()).min())
    from scipy.sparse.linalg import eigsh

    return float(eigsh(op.to_matrix(sparse=True), k=1, which="SA", return_eigenvectors=False)[0])


def ideal_counts(circuit: QuantumCircuit, names: list[str], row: Sequence[float]) -> dict[str, dict[str, float]]:
    """Per classical register, the ideal probability of each outcome, keyed as the sampler's counts are."""
    from qiskit.quantum_info import Statevector

    qc = bind(circuit, names, row)
    wired: dict[Clbit, Qubit] = {}  # clbit -> the qubit measured into it (the last measurement wins, as on a device)
    for inst in qc.data:
        if inst.operation.name == "measure":
            wired[inst.clbits[0]] = inst.qubits[0]
    state = Statevector(qc.remove_final_measurements(inplace=False))
    out = {}
    for register in qc.cregs:
        qargs = [qc.find_bit(wired[c]).index for c in register if c in wired]
        if len(qargs) != register.size:
            continue  # a register only partly measured: no ideal distribution to compare with
        probabilities = state.probabilities_dict(qargs=qargs)
        out[register.name] = {k: float(v) for k, v in sorted(probabilities.items()) if v > 1e-12}
    return out
