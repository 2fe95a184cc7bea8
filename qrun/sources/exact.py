"""Exact, noiseless references for `exact: statevector` and `exact: stabilizer`: <O>(θ) by Statevector or a
stabilizer tableau, a ground energy by sparse diagonalization, a sampler's ideal distribution; all on the circuit as
written, before transpilation (a PauliEvolutionGate as its synthesis: as_run)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp, StabilizerState, Statevector

MAX_QUBITS = 20  # a statevector of 2^20 amplitudes is 16 MB; past that qrun refuses rather than exhaust memory
# The outcomes a sampler job's ideal distributions may list in all, its sets or points together: each is about 40
# bytes of its job file, which qrun reads back whole (at most runfolder.MAX_JOB_FILE_BYTES, 256 MiB)
MAX_LISTED_OUTCOMES = 1 << 22
# Expectation values already computed for one circuit, by the id of the observable (each entry holds it, so its id
# cannot be reused while kept) and the row: jobs that differ only in name share their reference objects, and 10,000
# of them each simulated the same statevector (RESULTS.md). A different circuit starts the memo afresh, so it never
# keeps more than one circuit alive; past MEMO_SIZE rows the oldest go first.
MEMO_SIZE = 4096
# Below this fraction of an observable's norm bound (the sum of its |coefficients|), a statevector's expectation
# value is floating-point rounding, far above the error of summing 2^20 amplitudes: it is stored as an exact 0.
ROUNDING = 1e-12
_MEMO: dict[tuple[int, tuple[str, ...], tuple[float, ...]], tuple[SparsePauliOp, float]] = {}
# the circuit _MEMO is for, whether dynamic, how, and the circuit as it runs (as_run)
_MEMO_CIRCUIT: list[tuple[QuantumCircuit, bool, str, QuantumCircuit]] = []
# The circuit's states by row (a dynamic circuit's branches, each with its probability), so that a job's observables
# share one simulation of each row; the oldest go first past MAX_KEPT_AMPLITUDES (64 MiB) in all.
MAX_KEPT_AMPLITUDES = 1 << 22
_STATES: dict[tuple[tuple[str, ...], tuple[float, ...]], list[tuple[float, Statevector | StabilizerState]]] = {}
_KEPT = [0]  # the amplitudes _STATES holds


def as_run(circuit: QuantumCircuit) -> QuantumCircuit:
    """The circuit with each PauliEvolutionGate as its synthesis (a Lie-Trotter product unless its author chose
    another), which is what the transpiler builds and a backend runs. qiskit's Statevector takes such a gate's exact
    exponential instead, and a noiseless aer run read many σ off its "exact" value: the Trotter error shown as the
    backend's."""
    if "PauliEvolution" not in circuit.count_ops():
        return circuit
    return circuit.decompose(gates_to_decompose=["PauliEvolution"])


def bind(circuit: QuantumCircuit, names: Sequence[str], row: Sequence[float]) -> QuantumCircuit:
    """The circuit with its parameters bound by name (the plan's parameter order is the ISA circuit's)."""
    if not names:
        return circuit
    by_name = {p.name: p for p in circuit.parameters}
    return circuit.assign_parameters({by_name[n]: float(v) for n, v in zip(names, row)})


def expectation(
    circuit: QuantumCircuit, op: SparsePauliOp, names: Sequence[str], row: Sequence[float], method: str = "statevector"
) -> float:
    """<op> of the circuit with `row` bound, by Statevector or (`method` "stabilizer", a Clifford circuit of any
    width) a stabilizer tableau; computed once per circuit, observable and row."""
    from . import branching  # numpy: only a run's exact values need it

    if not _MEMO_CIRCUIT or _MEMO_CIRCUIT[0][0] is not circuit or _MEMO_CIRCUIT[0][2] != method:
        _MEMO.clear()
        _STATES.clear()
        _KEPT[0] = 0
        _MEMO_CIRCUIT[:] = [(circuit, branching.dynamic(circuit), method, as_run(circuit))]
    key = (id(op), tuple(names), tuple(float(v) for v in row))
    kept = _MEMO.get(key)
    if kept is not None:
        return kept[1]
    value = sum(p * float(state.expectation_value(op).real) for p, state in _states(circuit, key[1], key[2]))
    if abs(value) <= ROUNDING * float(abs(op.coeffs).sum()):
        value = 0.0  # a zero's rounding noise (1.4e-17) read as a value in every headline and CSV
    if len(_MEMO) >= MEMO_SIZE:
        del _MEMO[next(iter(_MEMO))]
    _MEMO[key] = (op, value)
    return value


def _states(
    circuit: QuantumCircuit, names: tuple[str, ...], row: tuple[float, ...]
) -> list[tuple[float, Statevector | StabilizerState]]:
    """The circuit's state with `row` bound, as (probability, state) pairs: one, or a dynamic circuit's branches (its
    final measurements dropped, as an estimator drops them)."""
    from qiskit.quantum_info import StabilizerState, Statevector

    from . import branching  # numpy: only a run's exact values need it

    kept = _STATES.get((names, row))
    if kept is None:
        bound = bind(_MEMO_CIRCUIT[0][3], names, row)
        if _MEMO_CIRCUIT[0][2] == "stabilizer":  # validate and the plan refused what a tableau cannot take
            kept = [(1.0, StabilizerState(bound))]
        elif _MEMO_CIRCUIT[0][1]:  # mid-circuit measurements, resets or control flow: each outcome followed
            kept = [(b.p, Statevector(b.state)) for b in branching.follow(bound)]
        else:
            kept = [(1.0, Statevector(fused(bound)))]
        size = sum(_size(state) for _, state in kept)
        while _STATES and (_KEPT[0] + size > MAX_KEPT_AMPLITUDES or len(_STATES) >= MEMO_SIZE):
            _KEPT[0] -= sum(_size(state) for _, state in _STATES.pop(next(iter(_STATES))))
        _STATES[(names, row)] = kept
        _KEPT[0] += size
    return kept


# From this many qubits a circuit's gates are merged before its state is evolved: qiskit's Statevector takes a pass
# over every amplitude for each gate, and merging runs of gates on one or two qubits into one unitary each (a few
# ms) cuts a layered circuit's passes about tenfold (RESULTS.md, "Exact values by statevector")
FUSE_QUBITS = 14


def fused(circuit: QuantumCircuit) -> QuantumCircuit:
    """The circuit with each run of gates on one or two qubits merged into one unitary, the same state to rounding
    (1e-14), where it is wide enough for that to pay; as it is where it is not, or the merge cannot take it."""
    if circuit.num_qubits < FUSE_QUBITS:
        return circuit
    from qiskit.exceptions import QiskitError
    from qiskit.transpiler import PassManager
    from qiskit.transpiler.passes import Collect1qRuns, Collect2qBlocks, ConsolidateBlocks

    merge = PassManager([Collect2qBlocks(), Collect1qRuns(), ConsolidateBlocks(force_consolidate=True)])
    try:
        return merge.run(circuit)
    except QiskitError:  # a gate with no matrix to merge: Statevector takes it through its definition, unmerged
        return circuit


def evolved_gates(circuit: QuantumCircuit) -> int:
    """How many gates Statevector evolves the circuit through, once merged as `fused` merges it (its parameters bound
    to 0 where it has any: the merge counts blocks, whatever their angles)."""
    if circuit.num_qubits < FUSE_QUBITS:
        return circuit.size()
    bound = circuit.assign_parameters([0.0] * circuit.num_parameters) if circuit.num_parameters else circuit
    return fused(bound).size()


def _size(state: Statevector | StabilizerState) -> int:
    """What a kept state weighs, in amplitudes: a tableau's 2n x 2n bits count as n^2."""
    return len(state.data) if hasattr(state, "data") else state.num_qubits**2


def ground_energy(op: SparsePauliOp) -> float:
    """The lowest eigenvalue of a Pauli sum: dense for a few qubits, Lanczos on the sparse matrix beyond."""
    import numpy as np

    if op.num_qubits <= 10:
        return float(np.linalg.eigvalsh(op.to_matrix()).min())
    from scipy.sparse.linalg import eigsh

    return float(eigsh(op.to_matrix(sparse=True), k=1, which="SA", return_eigenvectors=False)[0])


def ideal_counts(
    circuit: QuantumCircuit, names: Sequence[str], row: Sequence[float], method: str = "statevector"
) -> dict[str, dict[str, float]]:
    """Per classical register, the ideal probability of each outcome, keyed as the sampler's counts are."""
    import numpy as np  # as the modules below: only a run's exact values need it
    from qiskit.quantum_info import Statevector

    from . import branching, stabilizer  # numpy: only a run's exact values need it

    qc = bind(as_run(circuit), names, row)
    if method == "stabilizer":
        return stabilizer.ideal_counts(qc)
    if branching.dynamic(qc):  # mid-circuit measurements, resets or control flow: each outcome followed
        return {reg: {k: p for k, p in seen.items() if p > 1e-12} for reg, seen in branching.distribution(qc).items()}
    state = Statevector(fused(qc.remove_final_measurements(inplace=False)))
    out = {}
    for register, qargs in stabilizer.measured_registers(qc).items():  # a partly measured register has none
        # keyed as probabilities_dict keys them (qargs[0] the last bit), without its array of every outcome's digits,
        # which took a 20-qubit register gigabytes and half a minute
        probabilities = state.probabilities(qargs=qargs)
        width = len(qargs)
        out[register] = {
            format(i, f"0{width}b"): float(probabilities[i]) for i in np.flatnonzero(probabilities > 1e-12).tolist()
        }
    return out
