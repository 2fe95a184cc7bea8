"""The aer backend kind: Aer's noiseless simulator, in-process; no device, no service, nothing billed."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from .kind import BackendInfo, OpenSession

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.circuit import Instruction, Operation
    from qiskit.providers import BackendV2
    from qiskit_aer import AerSimulator

    from ..model.device import Deferred
    from ..sources.facts import CircuitFacts

# What people call Aer's simulator: qiskit's class name, its backend's own name, and qrun's.
AER_NAMES = frozenset({"aer", "aer_simulator", "aersimulator", "qasm_simulator"})


class LocalSession:
    """An aer run's session. Aer's own primitives run in-process and use none, and the runtime's local-mode Session
    would hold nothing (its session_id, details() and status() are None there) while importing the runtime for
    it costs time on every local run (benchmarks/RESULTS.md)."""

    session_id = None

    def close(self) -> None:
        """Nothing to close: no service holds this session."""


class Aer:
    """backend: aer (or aer_simulator, qasm_simulator)."""

    name = "aer"
    device = False
    remote = False
    rehearsed = False

    def claims(self, name: str) -> bool:
        return name.lower().replace("-", "_") in AER_NAMES

    def info(self, name: str) -> BackendInfo:
        return BackendInfo(name, self.name, aer_width(), clifford_wider=True)

    def local(self, name: str, seed: int | None) -> BackendV2:
        return aer_backend(seed)

    def open_session(self, backend: BackendV2, mode: str, max_time: int) -> OpenSession:
        return LocalSession()

    def deferred(self, name: str) -> Deferred | None:
        return None  # AerSimulator is quick to make


def aer_backend(seed: int | None = None) -> AerSimulator:
    from qiskit_aer import AerSimulator

    return AerSimulator(seed_simulator=seed) if seed is not None else AerSimulator()


def aer_basis(backend: BackendV2) -> list[str]:
    """The gates Aer runs as they are that a basis may name: its operations that are qiskit's standard gates or
    control flow (the preset pass manager takes no other name as a basis gate)."""
    return list(_aer_basis(backend))


@lru_cache(maxsize=8)
def _aer_basis(backend: BackendV2) -> tuple[str, ...]:
    # Once a backend: AerSimulator builds its whole target again each time it is asked for its operations, and a plan
    # asks for each of its circuits.
    from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES

    allowed = set(_standard_gates()) | set(CONTROL_FLOW_OP_NAMES)
    return tuple(sorted(name for name in backend.operation_names if name in allowed))


def picks_statevector(circuit: QuantumCircuit) -> bool:
    """Whether Aer's automatic method, noiseless, picks statevector for every row of `circuit`: a gate the stabilizer
    method lacks rules out Clifford simulation whatever the parameters, and statevector runs every instruction.

    Aer makes that choice once per experiment, and each row of a PUB is an experiment: named once by qrun, the same
    method runs every row, but Aer no longer tries the stabilizer and statevector methods on each row first
    (benchmarks/RESULTS.md, "Aer told the method it would pick"). A circuit whose instructions are all Clifford (an
    rz may be, row by row), or with control flow, is left to Aer. Meant for narrow circuits, whose state vector Aer's
    memory check always admits, where this should be asked: a wide one may go to another method, and spends its
    time simulating rather than choosing."""
    statevector, stabilizer = _method_gates()
    names = set(circuit.count_ops()) - {"measure", "barrier"}  # counted in Rust: no Python object per instruction
    return names <= statevector and not names <= stabilizer and not names & _control_flow()


def bindable(circuit: QuantumCircuit) -> QuantumCircuit:
    """`circuit` with each controlled gate whose parameters are unbound replaced by its definition, for Aer's own
    primitives, which bind a PUB's parameter values into such a gate wrongly or fail (qiskit-aer issues 2323, 2391
    and 2403, open in 0.18): the value of a row with a cp(theta) was wrong, and nothing said so. The gates of a
    definition take their values as Aer binds them (tests/test_aer_binding.py holds each against the exact
    statevector). The same circuit where there is nothing to replace, found by its gate names alone for a circuit of
    standard gates."""
    if not circuit.num_parameters or set(circuit.count_ops()) <= _uncontrolled_names():
        return circuit
    out, changed = circuit.copy_empty_like(), False
    for instruction in circuit.data:
        operation = instruction.operation
        blocks = getattr(operation, "blocks", ())
        if blocks:  # control flow: its blocks, replaced alike
            replaced = [bindable(block) for block in blocks]
            if any(new is not old for new, old in zip(replaced, blocks, strict=True)):
                changed = True
                instruction = instruction.replace(operation=operation.replace_blocks(replaced))
        elif _unbound_control(operation) and operation.definition is not None:  # an opaque gate goes as written
            changed = True
            out.compose(bindable(operation.definition), instruction.qubits, instruction.clbits, inplace=True)
            continue
        out.append(instruction, copy=False)  # out is new; the operations it shares are not changed
    return out if changed else circuit


def _unbound_control(operation: Operation) -> bool:
    from qiskit.circuit import ParameterExpression  # deferred: as every qiskit import of this module

    return _controlled(operation) and any(isinstance(p, ParameterExpression) for p in operation.params)


def _controlled(operation: Operation) -> bool:
    # A controlled gate by its control count, not isinstance(ControlledGate): qiskit's operations are ABCs, whose first
    # isinstance check of each gate class walks its subclasses, on every run's first call.
    return getattr(operation, "num_ctrl_qubits", 0) > 0


@lru_cache(maxsize=1)
def _uncontrolled_names() -> frozenset[str]:
    """Standard gates that are not controlled gates with parameters, and the other instructions Aer runs as written."""
    plain = {name for name, gate in _standard_gates().items() if not (_controlled(gate) and gate.params)}
    return frozenset(plain | {"barrier", "measure", "reset", "delay"})


def binds_at_runtime(circuit: QuantumCircuit) -> bool:
    """Whether Aer may bind a PUB's parameter rows as it simulates (`runtime_parameter_bind_enable`), for a circuit
    with parameters that picks_statevector names statevector for: then a PUB is one experiment whose shots take the
    rows in turn, where Aer would otherwise build and run an experiment for every row. The values and shots are the
    same, bit for bit, in less time and CPU (benchmarks/RESULTS.md, "Aer binds the rows as it runs").

    Only where every instruction is one of qiskit's standard gates, a measure or a barrier (tests/test_aer_binding.py
    holds each of them to Aer's values without it) and the global phase is a number: Aer refuses a parameterized
    global phase there, and control flow, which picks_statevector already leaves to Aer, stops the process."""
    from qiskit.circuit import ParameterExpression  # deferred: as every qiskit import of this module

    if not circuit.num_parameters or isinstance(circuit.global_phase, ParameterExpression):
        return False
    return set(circuit.count_ops()) <= _standard_names()


@lru_cache(maxsize=1)
def _standard_names() -> frozenset[str]:
    return frozenset(_standard_gates()) | {"barrier"}


@lru_cache(maxsize=1)
def _standard_gates() -> dict[str, Instruction]:
    """qiskit's standard gates by name, made once (only read: every caller takes names or types from it)."""
    from qiskit.circuit.library import get_standard_gate_name_mapping

    return get_standard_gate_name_mapping()


@lru_cache(maxsize=1)
def _method_gates() -> tuple[frozenset[str], frozenset[str]]:
    """The instructions Aer's statevector and stabilizer methods run, as Aer lists them."""
    from qiskit_aer import AerSimulator

    def gates(method: str) -> frozenset[str]:
        return frozenset(AerSimulator(method=method).configuration().basis_gates)

    return gates("statevector"), gates("stabilizer")


@lru_cache(maxsize=1)
def _control_flow() -> frozenset[str]:
    from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES

    return frozenset(CONTROL_FLOW_OP_NAMES)


def stabilizer_runs(facts: CircuitFacts) -> bool:
    """Whether Aer's automatic method runs a circuit on its stabilizer method, which holds any number of qubits (its
    statevector method, aer_width()): a Clifford circuit (no parameters, no gate off a Clifford one, nothing
    dynamic) of instructions that method has. Asked only of a circuit too wide for a state vector: it imports Aer."""
    if facts.instructions is None or facts.num_parameters or facts.non_clifford:
        return False
    return _stabilizer_method(facts.instructions)


def tableau_shape(circuit: QuantumCircuit) -> tuple[int, int] | None:
    """(gates, measured qubits) of a circuit that Aer's automatic method runs on its stabilizer method, whose cost
    is a tableau's, not a state vector's; None for any other. It imports Aer."""
    if circuit.num_parameters:  # Aer picks its method before it binds a parameter
        return None
    ops = circuit.count_ops()
    if not _stabilizer_method(ops):
        return None
    return sum(ops.values()), min(ops.get("measure", 0), circuit.num_qubits)


def _stabilizer_method(names: Iterable[str]) -> bool:
    """Whether every instruction named is one Aer's stabilizer method runs, so its automatic method picks that one on
    a noiseless simulator."""
    return set(names) - {"measure", "barrier"} <= _method_gates()[1]


def aer_width() -> int:
    """The most qubits AerSimulator's statevector takes on this machine: log2(memory / 16 bytes), as Aer reckons."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(math.log2(memory / 16))
