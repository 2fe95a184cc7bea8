"""Exact references of Clifford circuits at any width (`exact: stabilizer`): whether a circuit is Clifford at each
parameter set, and a sampler's ideal distribution read from the stabilizer tableau."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from qiskit import QuantumCircuit
    from qiskit.circuit import CircuitInstruction, Clbit, Instruction, Qubit

# A register's ideal distribution lists every outcome the state allows, each 2^-k for k random bits: past 2^16 of
# them (a wide register in superposition) it is refused rather than written into every job file.
MAX_RANDOM_BITS = 16
_HALF_PI = math.pi / 2
_PASSED = ("barrier", "delay", "measure")  # no gate: a final measurement is the sampler's, the rest do nothing
# Gates that are Clifford as they are, and rotations that are at multiples of π/2: answered without qiskit, whose
# Clifford builds a tableau to answer, on every built circuit's facts (tests hold these to qiskit's answers).
CLIFFORD_GATES = frozenset(
    ["id", "x", "y", "z", "h", "s", "sdg", "sx", "sxdg", "cx", "cy", "cz", "swap", "iswap", "ecr", "dcx"]
)
ROTATIONS = frozenset(["rx", "ry", "rz", "p", "u1", "rxx", "ryy", "rzz", "rzx"])
_SEEN: dict[tuple[str, tuple[float, ...]], bool] = {}  # a gate and its angles -> Clifford; angles repeat across rows


def non_clifford(qc: QuantumCircuit) -> str:
    """Why `qc` is no Clifford circuit whatever its parameters (empty where it may be one): a gate such as t, a fixed
    angle off a multiple of π/2, or what a tableau does not follow (a mid-circuit measurement, a reset, control flow)."""
    from . import branching  # numpy: only a built circuit's facts need it

    if branching.dynamic(qc):
        return "a stabilizer tableau does not follow its mid-circuit measurements, resets or control flow"
    local: dict = {}
    for inst in qc.data:
        fixed = inst.operation.name not in _PASSED and not inst.operation.is_parameterized()
        if fixed and not _clifford(inst.operation, local=local):
            return f"{_shown(qc, inst)} is not a Clifford gate"
    return ""


def row_refusal(
    qc: QuantumCircuit,
    names: Sequence[str],
    rows: np.ndarray,
    counts: bool,
    label: str = "parameter set",
    step: int = 1,
) -> str:
    """Why exact: stabilizer cannot give `qc`'s reference at one of `rows` (one a parameter set, a column a name of
    `names`; empty where it can at all): a rotation its values leave off a multiple of π/2, or (`counts`, a sampler)
    a register with more than 2^MAX_RANDOM_BITS outcomes. A row is named as `label` and its index times `step`.

    A million rows are checked as arrays: a gate is Clifford or not by its angles' multiples of π/2 modulo 4 (2π, up
    to a global phase), so qiskit is asked once for each distinct tuple of those, not once a row."""
    from qiskit.circuit import ParameterExpression

    # a delay's duration is no angle: only gates are held to multiples of π/2
    angled = [inst for inst in qc.data if inst.operation.is_parameterized() and inst.operation.name not in _PASSED]
    exprs = list(dict.fromkeys(p for i in angled for p in i.operation.params if isinstance(p, ParameterExpression)))
    rows = np.asarray(rows, dtype=float).reshape(-1, len(names)) if len(rows) else np.zeros((1, len(names)))
    at = _expression_values(qc, exprs, names, rows)  # (rows, expressions)
    quarters = at / _HALF_PI
    whole = np.round(quarters)
    off = ~(np.abs(quarters - whole) < 1e-9)  # NaN is off too
    kinds = _kinds(angled, exprs)
    found: list[tuple[int, str]] = []  # (row, why): the earliest is said
    if off.any():
        r = int(np.flatnonzero(off.any(axis=1))[0])
        for inst, place in kinds:
            if any(isinstance(p, tuple) and off[r, p[0]] for p in place):
                angles = tuple(float(at[r, p[0]]) if isinstance(p, tuple) else p for p in place)
                found.append((r, f"{label} {r * step:,} {_makes(qc, inst, angles)}"))
                break
    fine = np.flatnonzero(~off.any(axis=1))
    if len(fine):
        classes = np.nan_to_num(whole[fine]).astype(np.int64) % 4
        distinct, first = np.unique(classes, axis=0, return_index=True)
        for r, tup in sorted(zip(fine[first].tolist(), distinct.tolist())):
            why = _class_refusal(qc, kinds, tup, at[r], dict(zip(names, rows[r].tolist())), counts)
            if why:
                found.append(
                    (r, f"{label} {r * step:,} {why}" if why.startswith("makes") else f"at {label} {r * step:,}, {why}")
                )
                break
    return min(found)[1] if found else ""


def _expression_values(qc: QuantumCircuit, exprs: list, names: Sequence[str], rows: np.ndarray) -> np.ndarray:
    """Each expression's value at every row: a parameter's column as it is, a linear expression as a product of
    the columns with its slopes, any other bound once for each distinct combination of its parameters' values."""
    from qiskit.circuit import Parameter, ParameterExpression

    index = {n: k for k, n in enumerate(names)}
    by_name = {p.name: p for p in qc.parameters}
    out = np.empty((len(rows), len(exprs)))
    for j, e in enumerate(exprs):
        if isinstance(e, Parameter):
            out[:, j] = rows[:, index[e.name]]
            continue
        params = sorted(e.parameters, key=lambda p: p.name)
        used = [index[p.name] for p in params]
        slopes = [e.gradient(p) for p in params]
        if not any(isinstance(g, ParameterExpression) for g in slopes):  # linear (2*a + b - π): as one product
            offset = float(e.bind(dict.fromkeys(params, 0.0)).numeric())
            out[:, j] = offset + rows[:, used] @ np.asarray([float(g) for g in slopes])
            continue
        distinct, inverse = np.unique(rows[:, used], axis=0, return_inverse=True)
        bound = [float(e.bind({by_name[names[u]]: float(v) for u, v in zip(used, d)}).numeric()) for d in distinct]
        out[:, j] = np.asarray(bound)[inverse.reshape(-1)]
    return out


def _kinds(angled: list[CircuitInstruction], exprs: list) -> list[tuple[CircuitInstruction, list[object]]]:
    """The parameterized gates, one of each kind: a name and the same expressions and constants in the same places
    (a layer of rx(θ) on 127 qubits is one kind). An expression's place is (its index,): a gate's constants may be
    integers."""
    from qiskit.circuit import ParameterExpression

    kinds: dict[object, tuple[CircuitInstruction, list[object]]] = {}
    for inst in angled:
        place = [(exprs.index(p),) if isinstance(p, ParameterExpression) else p for p in inst.operation.params]
        try:
            kinds.setdefault((inst.operation.name, tuple(place)), (inst, place))
        except TypeError:  # an unhashable constant beside the angle: a kind of its own
            kinds[id(inst)] = (inst, place)
    return list(kinds.values())


def _class_refusal(
    qc: QuantumCircuit,
    kinds: list[tuple[CircuitInstruction, list[object]]],
    classes: list[int],
    at: np.ndarray,
    values: dict[str, float],
    counts: bool,
) -> str:
    """Why one tuple of angle classes (multiples of π/2, modulo 4) is refused, said of a row with those classes
    whose expressions are `at` and whose parameters are `values`: a gate it leaves non-Clifford, or a register with
    too many outcomes."""
    local: dict = {}
    for inst, place in kinds:
        canonical = tuple(classes[p[0]] * _HALF_PI if isinstance(p, tuple) else p for p in place)
        if not _clifford(inst.operation, canonical, local):
            angles = tuple(float(at[p[0]]) if isinstance(p, tuple) else p for p in place)
            return _makes(qc, inst, angles)
    if counts:
        by_name = {p.name: p for p in qc.parameters}
        bound = qc.assign_parameters({by_name[n]: v for n, v in values.items() if n in by_name}) if values else qc
        for register, k in _random_bits(bound).items():
            if k > MAX_RANDOM_BITS:
                return (
                    f"register '{register}' has 2^{k} equally likely outcomes; exact: stabilizer lists at most "
                    f"2^{MAX_RANDOM_BITS}: measure fewer qubits, or leave exact out"
                )
    return ""


def ideal_counts(qc: QuantumCircuit) -> dict[str, dict[str, float]]:
    """Per classical register of a bound Clifford circuit, the probability of each outcome, keyed as the sampler's
    counts are. The outcomes a stabilizer state allows on measured qubits Q are one of them plus the span of the
    stabilizers' X parts on Q, each equally likely: no amplitude is ever formed, so width costs only n^2 bits."""
    from qiskit.quantum_info import Clifford

    tableau = Clifford(qc.remove_final_measurements(inplace=False))
    xs = tableau.stab_x.astype(np.uint8)
    one = _an_outcome(xs, tableau.stab_z.astype(np.uint8), tableau.stab_phase.astype(np.uint8))
    out = {}
    for register, qubits in measured_registers(qc).items():
        basis = _row_basis(xs[:, qubits])
        start = sum(int(one[q]) << i for i, q in enumerate(qubits))
        outcomes = [start]
        for b in basis:  # every sum of a subset of the basis, added to the one outcome
            step = sum(int(bit) << i for i, bit in enumerate(b))
            outcomes += [o ^ step for o in outcomes]
        p = 2.0 ** -len(basis)
        out[register] = {format(o, f"0{len(qubits)}b"): p for o in sorted(outcomes)}
    return out


def _clifford(op: Instruction, angles: tuple | None = None, local: dict | None = None) -> bool:
    """Whether a gate is Clifford with these numeric parameters (its own where None), as qiskit's Clifford reads it
    (rotations by multiples of π/2 are). A gate of qiskit's standard library is remembered across circuits by its
    name; one a source defines (OpenQASM's `gate rzz(θ) ...`) only within one circuit, in `local`, since another
    circuit may define the same name otherwise."""
    from qiskit.exceptions import QiskitError
    from qiskit.quantum_info import Clifford

    standard = _standard_gates().get(op.name)
    standard_class = standard is not None and op.base_class is standard.base_class
    seen = _SEEN if standard_class else local
    params = tuple(op.params) if angles is None else angles
    try:
        key: tuple[str, tuple[float, ...]] | None = (op.name, tuple(float(p) for p in params))
    except (TypeError, ValueError):  # a matrix parameter (a unitary gate): asked each time
        key = None
    if key is not None and seen is not None and key in seen:
        return seen[key]
    # qiskit's Clifford reads some gates through their matrices, within a tolerance: rx(0.001) passes as the
    # identity. A reference must be exact, so every angle is held to a multiple of π/2 first.
    ok = key is None or all(abs(a / _HALF_PI - round(a / _HALF_PI)) < 1e-9 for a in key[1])
    if ok and not (standard_class and (op.name in CLIFFORD_GATES or op.name in ROTATIONS)):
        if angles is not None:
            op = op.copy()
            op.params = list(angles)
        try:
            Clifford(op)
        except QiskitError:
            ok = False
    if key is not None and seen is not None:
        if len(seen) >= 1 << 16:  # a sweep of a million angles: forget rather than grow
            seen.clear()
        seen[key] = ok
    return ok


@functools.cache
def _standard_gates() -> dict[str, Instruction]:
    """qiskit's standard gates by name, once (qiskit builds the mapping anew on each call)."""
    from qiskit.circuit.library import get_standard_gate_name_mapping

    return get_standard_gate_name_mapping()


def _makes(qc: QuantumCircuit, inst: CircuitInstruction, angles: tuple) -> str:
    """ "makes rz(0.3) on qubit 1 non-Clifford (...)": what a row's angles do to a gate, as a refusal says it."""
    return f"makes {_shown(qc, inst, angles)} non-Clifford (angles must be multiples of π/2)"


def _shown(qc: QuantumCircuit, inst: CircuitInstruction, params: Sequence[object] | None = None) -> str:
    """'rz(0.3) on qubit 5': a gate as a message names it, with these parameters (its own where None)."""
    op = inst.operation
    given = op.params if params is None else params
    angles = f"({', '.join(f'{p:.6g}' if isinstance(p, float) else str(p) for p in given)})" if given else ""
    where = [str(qc.find_bit(q).index) for q in inst.qubits]
    return f"{op.name}{angles} on qubit{'s' if len(where) > 1 else ''} {', '.join(where)}"


def measured_registers(qc: QuantumCircuit) -> dict[str, list[int]]:
    """Each fully measured register's qubits, by its clbits' order (the last measurement into a clbit wins, as on a
    device): what an ideal distribution is read over, by statevector or by tableau."""
    wired: dict[Clbit, Qubit] = {}
    for inst in qc.data:
        if inst.operation.name == "measure":
            wired[inst.clbits[0]] = inst.qubits[0]
    return {
        register.name: [qc.find_bit(wired[c]).index for c in register]
        for register in qc.cregs
        if all(c in wired for c in register)  # a register only partly measured has no ideal distribution
    }


def _random_bits(qc: QuantumCircuit) -> dict[str, int]:
    """How many random bits each measured register of a bound Clifford circuit has: the rank of the stabilizers' X
    parts on its qubits."""
    from qiskit.quantum_info import Clifford

    xs = Clifford(qc.remove_final_measurements(inplace=False)).stab_x.astype(np.uint8)
    return {register: len(_row_basis(xs[:, qubits])) for register, qubits in measured_registers(qc).items()}


def _row_basis(m: np.ndarray) -> list[np.ndarray]:
    """A basis of the rows' span over GF(2)."""
    m = m.copy()
    basis = []
    for col in range(m.shape[1]):
        hits = np.flatnonzero(m[:, col])
        if not len(hits):
            continue
        pivot = m[hits[0]].copy()
        m[hits] ^= pivot
        basis.append(pivot)
    return basis


def _an_outcome(x: np.ndarray, z: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """One computational-basis outcome (a bit per qubit) that the stabilizer state gives with nonzero probability.
    Eliminating the X parts leaves generators ±Z^a, each a parity the outcome must have; products of generators keep
    their signs by Aaronson and Gottesman's rowsum (Phys. Rev. A 70, 052328, 2004)."""
    x, z, sign = x.copy(), z.copy(), sign.copy()
    n = x.shape[0]
    row = 0
    for col in range(n):
        hits = np.flatnonzero(x[row:, col])
        if not len(hits):
            continue
        p = row + int(hits[0])
        for a in (x, z, sign):
            a[[row, p]] = a[[p, row]]
        others = np.flatnonzero(x[:, col])
        others = others[others != row]
        if len(others):
            sign[others] = _product_sign(x[row], z[row], sign[row], x[others], z[others], sign[others])
            x[others] ^= x[row]
            z[others] ^= z[row]
        row += 1
    return _solve(z[row:], sign[row:], n)


def _product_sign(
    x1: np.ndarray, z1: np.ndarray, s1: int, x2: np.ndarray, z2: np.ndarray, s2: np.ndarray
) -> np.ndarray:
    """The sign bit of the product of Pauli row (x1, z1, s1) with each of the rows (x2, z2, s2), which commute with it:
    the power of i that the qubits' products contribute, Aaronson and Gottesman's g."""
    a, b = x1.astype(np.int64), z1.astype(np.int64)
    c, d = x2.astype(np.int64), z2.astype(np.int64)
    g = a * b * (d - c) + a * (1 - b) * d * (2 * c - 1) + (1 - a) * b * c * (1 - 2 * d)
    total = 2 * int(s1) + 2 * s2.astype(np.int64) + g.sum(axis=1)
    return ((total % 4) // 2).astype(np.uint8)


def _solve(a: np.ndarray, s: np.ndarray, n: int) -> np.ndarray:
    """A solution b of a·b = s over GF(2) (a's rows independent), its free bits 0."""
    a, s = a.copy(), s.copy()
    pivots = []
    row = 0
    for col in range(n):
        if row == len(a):
            break
        hits = np.flatnonzero(a[row:, col])
        if not len(hits):
            continue
        p = row + int(hits[0])
        a[[row, p]], s[[row, p]] = a[[p, row]], s[[p, row]]
        others = np.flatnonzero(a[:, col])
        others = others[others != row]
        a[others] ^= a[row]
        s[others] ^= s[row]
        pivots.append(col)
        row += 1
    b = np.zeros(n, dtype=np.uint8)
    for r, col in enumerate(pivots):  # reduced: each pivot's row holds no other pivot column
        b[col] = s[r]
    return b
