"""Pauli-sum observables as a spec writes them: a label, [label, coefficient] pairs, or "0.5*XI - ZZ"; never evaluated."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from ..errors import SourceError

if TYPE_CHECKING:
    from qiskit.quantum_info import SparsePauliOp

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_TERM = re.compile(rf"\s*(?P<sign>[+-])?\s*(?:(?P<coeff>{_NUMBER})\s*\*?\s*)?(?P<label>[IXYZ]+)\s*")

Terms = list[tuple[str, float]]


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
    widths = {len(label) for label, _ in terms}
    if len(widths) > 1:
        raise SourceError(f"all Pauli labels must have the same length; got lengths {sorted(widths)}")
    return terms


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
                "expected terms like 0.5*XI + IX - 1.0*ZZ with Pauli labels of I, X, Y, Z"
            )
        coeff = float(m.group("coeff")) if m.group("coeff") else 1.0
        terms.append((m.group("label"), -coeff if m.group("sign") == "-" else coeff))
        pos = m.end()
    if not terms:
        raise SourceError("empty observable")
    return terms


def observable_width(terms: Terms) -> int:
    return len(terms[0][0])


def to_sparse_pauli_op(terms: Terms) -> SparsePauliOp:
    from qiskit.quantum_info import SparsePauliOp

    return SparsePauliOp.from_list(terms)
