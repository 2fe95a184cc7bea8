"""Rehearse a job for a real-size fake device on only the qubits its ISA circuit uses, with their own noise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import backends
from . import devicefacts

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.providers import BackendV2
    from qiskit.quantum_info import SparsePauliOp

    from ..model.device import Deferred, DeviceFacts


def restrict_circuit(isa: QuantumCircuit, qubits: list[int]) -> QuantumCircuit:
    """The ISA circuit on `qubits` alone, renumbered 0..k-1 in the order given; classical bits unchanged."""
    from qiskit.circuit import Barrier, CircuitInstruction, QuantumCircuit

    index = {q: i for i, q in enumerate(qubits)}
    position = {bit: i for i, bit in enumerate(isa.qubits)}
    out = QuantumCircuit(len(qubits), name=isa.name, global_phase=isa.global_phase, metadata=isa.metadata)
    for creg in isa.cregs:
        out.add_register(creg)
    loose = [c for c in isa.clbits if not isa.find_bit(c).registers]
    if loose:
        out.add_bits(loose)
    for inst in isa.data:
        operation = inst.operation
        wires = [index.get(position[q]) for q in inst.qubits]
        if any(w is None for w in wires):
            if operation.name != "barrier":  # active_qubits() includes every touched qubit, so only a bug gets here
                raise AssertionError(f"{operation.name} touches a qubit outside the rehearsed set")
            wires = [w for w in wires if w is not None]
            if not wires:
                continue
            operation = Barrier(len(wires), label=operation.label)  # a barrier across the kept qubits only
        # qiskit's documented fast path: the wires are out's own and each operation fits them; append() would
        # validate and broadcast each of a deep circuit's instructions again
        out._append(CircuitInstruction(operation, tuple(out.qubits[w] for w in wires), inst.clbits))
    return out


def restrict_observable(op: SparsePauliOp, qubits: list[int]) -> SparsePauliOp:
    """A SparsePauliOp laid out on the whole device, on `qubits` alone; sparse throughout (no 2^n object)."""
    from qiskit.quantum_info import SparsePauliOp

    index = {q: i for i, q in enumerate(qubits)}
    terms = []
    for paulis, where, coeff in op.to_sparse_list():
        if any(q not in index for q in where):
            raise AssertionError("an observable acts on a qubit outside the rehearsed set")
        terms.append((paulis, [index[q] for q in where], coeff))
    return SparsePauliOp.from_sparse_list(terms, num_qubits=len(qubits))


def rehearse(
    isa: QuantumCircuit,
    observables: Sequence[tuple[str, SparsePauliOp]],
    device: BackendV2,
    qubits: list[int] | None = None,
    subsets: dict[tuple[int, ...], BackendV2] | None = None,
) -> tuple[QuantumCircuit, Sequence[tuple[str, SparsePauliOp]], BackendV2, list[int]]:
    """(circuit, observables, device, physical qubits) to simulate: the subset device when it is smaller.

    `qubits` as qubits_for() found them, else found here. `subsets` keeps one subset device per set of qubits, for
    the jobs on other circuits that use the same qubits (making one reads and rewrites the device's calibration).
    """
    qubits = qubits if qubits is not None else qubits_for(isa, observables, device)
    if len(qubits) >= device.num_qubits:
        return isa, observables, device, list(range(device.num_qubits))
    subsets = {} if subsets is None else subsets
    small = subsets.get(tuple(qubits))
    if small is None:
        small = subsets[tuple(qubits)] = backends.subset_device(device, qubits)
    ops = [(name, restrict_observable(op, qubits)) for name, op in observables]
    return restrict_circuit(isa, qubits), ops, small, qubits


def qubits_for(
    isa: QuantumCircuit,
    observables: Sequence[tuple[str, SparsePauliOp]],
    device: BackendV2 | Deferred,
    facts: DeviceFacts | None = None,
) -> list[int]:
    """The physical qubits a job's rehearsal simulates: those its circuit uses, and those its observables read (a
    qubit the circuit leaves idle but an observable reads stays in). Cheap: the plan records them; the restricted
    circuit and device are made only when the job runs. `facts` (the transpile cache's, devicefacts.py) give the
    circuit's qubits and the device's coupling edges without the device."""
    used = set(backends.active_qubits(isa) if facts is None else facts["active"])
    for _, op in observables:
        used |= {q for _, where, _ in op.to_sparse_list() for q in where}
    qubits = sorted(used)
    edges = devicefacts.edges_of(device) if facts is None else facts["edges"]
    # A subset device with no coupled pair (one qubit, or qubits far apart: `x q[1]` read with ZI) has no two-qubit
    # gate and so no coupling map, which Aer's from_backend needs; an idle neighbour costs nothing.
    if qubits and edges is not None and not any(a in used and b in used for a, b in edges):
        q = qubits[0]
        neighbour = next((b if a == q else a for a, b in edges if q in (a, b)), None)
        if neighbour is not None:
            qubits = sorted({*qubits, neighbour})
    return qubits if len(qubits) < device.num_qubits else list(range(device.num_qubits))
