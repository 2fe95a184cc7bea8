"""Pauli-sum observables as a spec writes them: a label, [label, coefficient] pairs, or "0.5*XI - ZZ", each label
dense (ZIIZ) or by qubit (Z0 Z3); never evaluated."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from ..errors import SourceError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_BY_QUBIT = r"[XYZ]\d+(?:\s*[XYZ]\d+)*"  # Z0 Z3, Z0Z3: a Pauli letter before each qubit's number
_TERM = re.compile(rf"\s*(?P<sign>[+-])?\s*(?:(?P<coeff>{_NUMBER})\s*\*?\s*)?(?P<label>{_BY_QUBIT}|[IXYZ]+)\s*")
_FACTOR = re.compile(r"([XYZ])\s*(\d+)")
MAX_QUBIT = 9_999  # past any device; a label by qubit is made dense up to its highest qubit


Terms = list[tuple[str, float]]


class ByQubit(Terms):
    """Terms written by qubit (Z0 Z3): they act on any circuit at least as wide as the highest qubit plus one, as I
    on the rest. The labels are dense up to that qubit, and widened where the observable is used."""

    def widened(self, num_qubits: int) -> Terms:
        return [("I" * (num_qubits - len(label)) + label, c) for label, c in self]


def parse_observable(value: object) -> Terms:
    """A Pauli label, a list of [label, coeff] pairs, or "0.5*XI - ZZ" -> [(label, coeff), ...]; never evaluated.
    {terms: ..., unit: ...} is the same with a unit (see observable_unit)."""
    if isinstance(value, dict):
        value = value.get("terms")
    if isinstance(value, list):
        terms = [(str(label), float(coeff)) for label, coeff in value]
    elif isinstance(value, str):
        terms = _parse_sum(value)
    else:
        raise SourceError(
            f"expected a Pauli label, a list of [label, coefficient] pairs or a sum string, got {value!r}"
        )
    bad = [c for _, c in terms if not math.isfinite(c)]
    if bad:
        raise SourceError(f"coefficient {bad[0]} is not a finite number")
    if any(_FACTOR.match(label) for label, _ in terms):
        return _dense(terms)
    widths = {len(label) for label, _ in terms}
    if len(widths) > 1:
        raise SourceError(f"all Pauli labels must have the same length; got lengths {sorted(widths)}")
    return terms


def _dense(terms: Terms) -> ByQubit:
    """Terms written by qubit (Z0 Z3; a bare I is the identity), as dense labels up to the highest qubit."""
    factors: list[dict[int, str]] = []
    for label, _ in terms:
        if label == "I":
            factors.append({})
            continue
        if not re.fullmatch(_BY_QUBIT, label):
            raise SourceError(
                f"'{_cut(label)}': write every term by qubit (Z0 Z3) or every term as a label (ZIIZ), not both"
            )
        found = [(p, int(q) if len(q) < 6 else MAX_QUBIT + 1) for p, q in _FACTOR.findall(label)]
        at = {q: p for p, q in found}
        if len(at) < len(found):
            raise SourceError(f"'{_cut(label)}' names a qubit twice")
        if max(at) > MAX_QUBIT:
            raise SourceError(f"'{_cut(label)}' names a qubit past {MAX_QUBIT:,}")
        factors.append(at)
    width = 1 + max((q for at in factors for q in at), default=0)
    return ByQubit(("".join(at.get(q, "I") for q in reversed(range(width))), c) for at, (_, c) in zip(factors, terms))


def _cut(label: str) -> str:
    """A label as a message shows it: a long one cut, so that an error is a line."""
    return label if len(label) <= 40 else label[:37] + "..."


def observable_unit(value: object) -> str | None:
    """The unit an observable declares ({terms: ..., unit: Ha}), or None."""
    return value.get("unit") if isinstance(value, dict) else None


def _parse_sum(text: str) -> Terms:
    pos, terms = 0, Terms()
    while pos < len(text):
        m = _TERM.match(text, pos)
        if not m or m.end() == pos or (terms and not m.group("sign")):
            rest = text[pos:].strip()
            raise SourceError(
                f"cannot read the observable {text!r} at character {pos + 1} ({rest[:12]!r}): "
                "expected terms like 0.5*XI + IX - 1.0*ZZ with Pauli labels of I, X, Y, Z, or by qubit, Z0 Z1 - 0.5*X3"
            )
        coeff = float(m.group("coeff")) if m.group("coeff") else 1.0
        terms.append((m.group("label"), -coeff if m.group("sign") == "-" else coeff))
        pos = m.end()
    if not terms:
        raise SourceError("empty observable")
    return terms


def observable_width(terms: Terms) -> tuple[int, bool]:
    """How many qubits it acts on, and whether that is a minimum (written by qubit) rather than exact."""
    return len(terms[0][0]), isinstance(terms, ByQubit)


def to_sparse_pauli_op(terms: Terms, num_qubits: int) -> SparsePauliOp:
    """The observable on a circuit of num_qubits."""
    from qiskit.quantum_info import SparsePauliOp

    return SparsePauliOp.from_list(terms.widened(num_qubits) if isinstance(terms, ByQubit) else terms)


def laid_out(terms: Terms, isa: QuantumCircuit) -> SparsePauliOp:
    """An observable as a SparsePauliOp laid out on the ISA circuit's physical qubits."""
    width = isa.num_qubits if isa.layout is None else len(isa.layout.final_index_layout())  # the circuit's own
    return to_sparse_pauli_op(terms, width).apply_layout(isa.layout)
