"""Exact references of dynamic circuits: mid-circuit measurements, resets and classical control followed outcome by
outcome, each branch a statevector with its probability and the classical bits measured so far."""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import SourceError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from qiskit import QuantumCircuit
    from qiskit.circuit import CircuitInstruction, Clbit, Qubit, SwitchCaseOp
    from qiskit.circuit.classical import expr

# Every branch's statevector together: 2^24 amplitudes are 256 MiB. A circuit whose measurements could split it into
# more is refused by validate (unfollowable), before anything runs.
MAX_AMPLITUDES = 1 << 24
TINY = 1e-14  # an outcome less likely than this is not followed: it cannot move a reference value
SKIPPED = ("barrier", "delay")


@dataclass
class Branch:
    p: float
    state: np.ndarray  # 2^n amplitudes, qiskit's order (qubit 0 least significant)
    bits: list[int]  # every clbit's value so far, by its index in the circuit (0 until measured, as on a device)


def dynamic(qc: QuantumCircuit) -> bool:
    """Whether a statevector alone cannot give the circuit's results: control flow, a reset, or a measurement that
    something after it acts on or reads."""
    from qiskit.circuit import ControlFlowOp

    if not any(i.operation.name in ("measure", "reset") or isinstance(i.operation, ControlFlowOp) for i in qc.data):
        return False
    if any(i.operation.name == "reset" or isinstance(i.operation, ControlFlowOp) for i in qc.data):
        return True
    return len(final_measurements(qc)) < sum(1 for i in qc.data if i.operation.name == "measure")


def unfollowable(qc: QuantumCircuit) -> str:
    """Why the exact reference cannot follow `qc` (empty where it can): a while loop, classical variables, an
    instruction that is not a gate, or more outcomes than MAX_AMPLITUDES holds."""
    if qc.num_vars or qc.num_input_vars:
        return "it has classical variables"
    try:
        splits = _splits(qc.data, top=final_measurements(qc))
    except SourceError as e:
        return str(e)
    if splits > 24 or (1 << splits) << qc.num_qubits > MAX_AMPLITUDES:
        return (
            f"its mid-circuit measurements and resets could split it into 2^{splits} statevectors of "
            f"{qc.num_qubits} qubits, more than the {MAX_AMPLITUDES:,} amplitudes qrun follows"
        )
    return ""


def branch_bound(qc: QuantumCircuit) -> int:
    """At most how many statevectors following `qc` holds at once (1 where it is not dynamic): what an exact
    reference of it costs beside a plain circuit's one."""
    if not dynamic(qc):
        return 1
    try:
        splits = _splits(qc.data, top=final_measurements(qc))
    except SourceError:
        return 1  # unfollowable: validate refused exact: statevector on it
    return max(min(1 << min(splits, 62), MAX_AMPLITUDES >> qc.num_qubits), 1)


def distribution(qc: QuantumCircuit) -> dict[str, dict[str, float]]:
    """Per classical register, the probability of each outcome, keyed as the sampler's counts are."""
    from qiskit.quantum_info import Statevector

    index = {c: k for k, c in enumerate(qc.clbits)}
    final = final_measurements(qc)
    wired = [(qc.find_bit(qc.data[k].qubits[0]).index, index[qc.data[k].clbits[0]]) for k in sorted(final)]
    regs = [[index[c] for c in reg] for reg in qc.cregs]
    out: list[dict[str, float]] = [{} for _ in regs]
    for b in follow(qc, final):
        probabilities = Statevector(b.state).probabilities([q for q, _ in wired]) if wired else np.ones(1)
        for outcome in np.flatnonzero(probabilities > TINY).tolist():
            bits = list(b.bits)
            for j, (_, c) in enumerate(wired):
                bits[c] = (outcome >> j) & 1
            p = b.p * float(probabilities[outcome])
            for reg, seen in zip(regs, out):
                key = "".join(str(bits[c]) for c in reversed(reg))
                seen[key] = seen.get(key, 0.0) + p
    return {reg.name: dict(sorted(seen.items())) for reg, seen in zip(qc.cregs, out)}


def follow(qc: QuantumCircuit, final: set[int] | None = None) -> list[Branch]:
    """Every branch of `qc` with its probability, its final measurements (`final`, where the caller has them) left
    to the caller, not applied."""
    state = np.zeros(1 << qc.num_qubits, dtype=complex)
    state[0] = 1.0
    qmap = {q: k for k, q in enumerate(qc.qubits)}
    cmap = {c: k for k, c in enumerate(qc.clbits)}
    start = [Branch(1.0, state, [0] * qc.num_clbits)]
    skip = final if final is not None else final_measurements(qc)
    return _Follower(qc.num_qubits).run(qc.data, start, qmap, cmap, skip=skip)


def final_measurements(qc: QuantumCircuit) -> set[int]:
    """The indices of the top-level measurements nothing after acts on (their qubit) or reads (their clbit)."""
    touched_q: set[Qubit] = set()
    touched_c: set[Clbit] = set()
    final = set()
    for k in range(len(qc.data) - 1, -1, -1):
        inst = qc.data[k]
        if inst.operation.name == "barrier":
            continue
        if inst.operation.name == "measure" and inst.qubits[0] not in touched_q and inst.clbits[0] not in touched_c:
            final.add(k)
        touched_q.update(inst.qubits)
        touched_c.update(inst.clbits)
    return final


def _splits(data: Iterable[CircuitInstruction], top: set[int] | None = None) -> int:
    """How many times over a circuit may double its branches; raises SourceError where it cannot be followed."""
    from qiskit.circuit import ControlFlowOp, Gate

    n = 0
    for k, inst in enumerate(data):
        op = inst.operation
        if op.name in ("measure", "reset"):
            n += 0 if top is not None and k in top else 1
        elif op.name == "for_loop":
            indices, _, body = op.params
            n += len(indices) * _splits(body.data)
        elif op.name in ("if_else", "switch_case", "box"):
            if op.name != "box":
                _value(op.condition if op.name == "if_else" else op.target, [0] * 64, _Zeros())
            n += max(_splits(block.data) for block in op.blocks if block is not None)
        elif isinstance(op, ControlFlowOp):
            raise SourceError(f"it has a {op.name.replace('_', ' ')}, whose branches need not end")
        elif not isinstance(op, Gate) and op.name not in SKIPPED:
            raise SourceError(f"it has a '{op.name}' instruction, which is not a gate")
    return n


def _unitary(block: QuantumCircuit) -> bool:
    """Whether a block holds gates alone (loops and boxes of gates too): nothing measured, reset or branched on."""
    from qiskit.circuit import Gate

    return all(
        isinstance(i.operation, Gate)
        or i.operation.name in SKIPPED
        or (i.operation.name in ("for_loop", "box") and all(_unitary(b) for b in i.operation.blocks))
        for i in block.data
    )


class _Zeros(dict[object, int]):
    """Any clbit's index is 0: how _splits evaluates a condition only to see that it can be evaluated."""

    def __missing__(self, key: object) -> int:
        return 0


class _Follower:
    def __init__(self, num_qubits: int) -> None:
        self.n = num_qubits

    def run(
        self,
        data: Sequence[CircuitInstruction],
        branches: list[Branch],
        qmap: Mapping[Qubit, int],
        cmap: Mapping[Clbit, int],
        skip: set[int] | None = None,
    ) -> list[Branch]:
        from qiskit import QuantumCircuit
        from qiskit.circuit import ControlFlowOp

        segment = QuantumCircuit(self.n)
        for k, inst in enumerate(data):
            op = inst.operation
            if op.name in SKIPPED or (skip is not None and k in skip):
                continue
            if not isinstance(op, ControlFlowOp) and op.name not in ("measure", "reset"):
                segment.append(op, [segment.qubits[qmap[q]] for q in inst.qubits])
                continue
            if op.name in ("for_loop", "box") and all(_unitary(block) for block in op.blocks):
                self.inline(inst, segment, qmap, cmap)  # gates alone: one evolution for the loop, not one a turn
                continue
            branches = self.evolve(branches, segment)
            segment = QuantumCircuit(self.n)
            if op.name in ("measure", "reset"):
                c = cmap[inst.clbits[0]] if op.name == "measure" else None
                branches = [part for b in branches for part in self.collapse(b, qmap[inst.qubits[0]], c)]
                if len(branches) << self.n > MAX_AMPLITUDES:  # unfollowable() refuses such circuits first
                    raise SourceError("too many outcomes to follow exactly")
            else:
                branches = self.control(inst, branches, qmap, cmap)
        return self.evolve(branches, segment)

    def inline(
        self, inst: CircuitInstruction, segment: QuantumCircuit, qmap: Mapping[Qubit, int], cmap: Mapping[Clbit, int]
    ) -> None:
        """Append a loop's or box's gates, turn by turn, to `segment` (its blocks are _unitary)."""
        op = inst.operation
        if op.name == "box":
            blocks: Iterable[QuantumCircuit] = op.blocks[:1]
        else:
            indices, parameter, body = op.params
            blocks = (body.assign_parameters({parameter: v}) if parameter is not None else body for v in indices)
        for block in blocks:
            inner, clbits = self.maps(block, inst, qmap, cmap)
            for sub in block.data:
                if sub.operation.name in ("for_loop", "box"):
                    self.inline(sub, segment, inner, clbits)
                elif sub.operation.name not in SKIPPED:
                    segment.append(sub.operation, [segment.qubits[inner[q]] for q in sub.qubits])

    def evolve(self, branches: list[Branch], segment: QuantumCircuit) -> list[Branch]:
        from qiskit.quantum_info import Statevector

        if segment.data:
            for b in branches:
                b.state = Statevector(b.state).evolve(segment).data
        return branches

    def collapse(self, b: Branch, qubit: int, clbit: int | None) -> list[Branch]:
        """The branch measured on `qubit` (into `clbit`), or reset (clbit None: its outcome 1 flipped back to 0)."""
        halves = b.state.reshape(-1, 2, 1 << qubit)
        out = []
        for outcome in (0, 1):
            part = halves[:, outcome, :]
            p = float(np.vdot(part, part).real)
            if p < TINY:
                continue
            state = np.zeros_like(halves)
            state[:, outcome if clbit is not None else 0, :] = part / math.sqrt(p)
            bits = list(b.bits)
            if clbit is not None:
                bits[clbit] = outcome
            out.append(Branch(b.p * p, state.reshape(-1), bits))
        return out

    def control(
        self, inst: CircuitInstruction, branches: list[Branch], qmap: Mapping[Qubit, int], cmap: Mapping[Clbit, int]
    ) -> list[Branch]:
        op = inst.operation
        out: list[Branch] = []
        if op.name == "for_loop":
            indices, parameter, body = op.params
            for v in indices:
                bound = body.assign_parameters({parameter: v}) if parameter is not None else body
                branches = self.run(bound.data, branches, *self.maps(bound, inst, qmap, cmap))
            return branches
        for b in branches:
            if op.name == "box":
                block = op.blocks[0]
            elif op.name == "if_else":
                block = (
                    op.blocks[0] if _value(op.condition, b.bits, cmap) else op.blocks[1] if len(op.blocks) > 1 else None
                )
            else:
                block = _case(op, _value(op.target, b.bits, cmap))
            out += [b] if block is None else self.run(block.data, [b], *self.maps(block, inst, qmap, cmap))
        return out

    @staticmethod
    def maps(
        block: QuantumCircuit, inst: CircuitInstruction, qmap: Mapping[Qubit, int], cmap: Mapping[Clbit, int]
    ) -> tuple[dict[Qubit, int], dict[Clbit, int]]:
        """The block's own qubits and clbits, by position, at the outer circuit's indices."""
        qubits = {**qmap, **{bq: qmap[q] for bq, q in zip(block.qubits, inst.qubits)}}
        clbits = {**cmap, **{bc: cmap[c] for bc, c in zip(block.clbits, inst.clbits)}}
        return qubits, clbits


def _case(op: SwitchCaseOp, value: int) -> QuantumCircuit | None:
    from qiskit.circuit.controlflow import CASE_DEFAULT

    for values, block in op.cases_specifier():
        if any(v is CASE_DEFAULT or int(v) == value for v in values):
            return block
    return None


def _value(condition: object, bits: Sequence[int], cmap: Mapping[Clbit, int]) -> int:
    """A condition or switch target (a legacy (bit or register, value) pair, a bit, a register or an expression)
    over the branch's bits, as an int (a bool is 0 or 1)."""
    from qiskit.circuit import ClassicalRegister, Clbit
    from qiskit.circuit.classical import expr

    if isinstance(condition, Clbit):
        return bits[cmap[condition]]
    if isinstance(condition, ClassicalRegister):
        return sum(bits[cmap[c]] << k for k, c in enumerate(condition))
    node = expr.lift_legacy_condition(condition) if isinstance(condition, tuple) else condition
    if not isinstance(node, expr.Expr):
        raise SourceError(f"it has a condition qrun cannot read ({type(condition).__name__})")
    return _eval(node, bits, cmap)


def _eval(node: expr.Expr, bits: Sequence[int], cmap: Mapping[Clbit, int]) -> int:
    from qiskit.circuit import ClassicalRegister, Clbit
    from qiskit.circuit.classical import expr, types

    binary, unary = _ops()

    if isinstance(node, expr.Value):
        return int(node.value)
    if isinstance(node, expr.Var):
        if isinstance(node.var, (Clbit, ClassicalRegister)):
            return _value(node.var, bits, cmap)
        raise SourceError("it has classical variables")
    if isinstance(node, expr.Cast):
        x = _eval(node.operand, bits, cmap)
        return int(bool(x)) if isinstance(node.type, types.Bool) else x
    if isinstance(node, expr.Index):
        return (_eval(node.target, bits, cmap) >> _eval(node.index, bits, cmap)) & 1
    if isinstance(node, expr.Unary) and node.op in unary:
        width = getattr(node.type, "width", 1)
        return unary[node.op](_eval(node.operand, bits, cmap), width)
    if isinstance(node, expr.Binary) and node.op in binary:
        left, right = _eval(node.left, bits, cmap), _eval(node.right, bits, cmap)
        return int(binary[node.op](left, right)) & ((1 << getattr(node.type, "width", 64)) - 1)
    raise SourceError(f"it has a condition qrun cannot read ({type(node).__name__})")


@functools.cache
def _ops() -> tuple[dict[object, Callable[[int, int], int | bool]], dict[object, Callable[[int, int], int]]]:
    """The expression operators qrun evaluates, by qiskit's op (made once: qiskit is imported lazily)."""
    from qiskit.circuit.classical import expr

    b, u = expr.Binary.Op, expr.Unary.Op
    binary: dict[object, Callable[[int, int], int | bool]] = {
        b.BIT_AND: operator.and_,
        b.BIT_OR: operator.or_,
        b.BIT_XOR: operator.xor,
        b.LOGIC_AND: lambda x, y: bool(x) and bool(y),
        b.LOGIC_OR: lambda x, y: bool(x) or bool(y),
        b.EQUAL: operator.eq,
        b.NOT_EQUAL: operator.ne,
        b.LESS: operator.lt,
        b.LESS_EQUAL: operator.le,
        b.GREATER: operator.gt,
        b.GREATER_EQUAL: operator.ge,
        b.SHIFT_LEFT: operator.lshift,
        b.SHIFT_RIGHT: operator.rshift,
    }
    unary: dict[object, Callable[[int, int], int]] = {
        u.BIT_NOT: lambda x, w: ~x & ((1 << w) - 1),
        u.LOGIC_NOT: lambda x, w: int(not x),
    }
    return binary, unary
