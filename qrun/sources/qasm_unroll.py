"""OpenQASM 3 `for` loops whose variable indexes a register, written out before qiskit's importer reads them.

qiskit's importer builds a loop's body once, its variable unbound, so `cx q[i], q[i + 1];` inside `for int i in
[0:10] {...}`, the way a chain is written, fails there ("index must be int, slice or list"). Such a loop's bounds
are numbers (qasm_scan refuses any other, and counts the gates the copies make against limits.gates), so it can be
written out: one copy of the body per value, the variable replaced by the value. A loop whose variable indexes no
register stays a loop, as qiskit builds it; so does one whose body declares a name or leaves the loop early, which
copies would change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SourceError
from ..model.defaults import MAX_LOOP_WRITTEN_OUT
from .qasm_scan import MAX_NESTING, token_spans

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.circuit import ForLoopOp

# Statements a body may not hold to be copied: a declaration would be made again in the next copy, and break or
# continue mean nothing outside a loop.
_KEEP_LOOP = {"bit", "int", "uint", "float", "angle", "bool", "complex", "duration", "stretch", "qubit", "const"}
_KEEP_LOOP |= {"let", "creg", "qreg", "array", "input", "output", "def", "gate", "break", "continue"}


def hint(message: str, wrote_out: bool) -> str:
    """What to add to the importer's error where a loop is its cause."""
    if message == "index must be int, slice or list":
        return (
            " (qiskit's importer cannot index a register with a loop variable; qrun writes such a loop out, one body "
            "per value, when its range is numbers and its body declares nothing and has no break or continue)"
        )
    if message == "index out of range" and wrote_out:
        return " (in a for loop qrun wrote out? OpenQASM's range [a:b] includes b)"
    return ""


def unrolled(text: str, limit: int, depth: int = 0) -> str:
    """The text with each loop over numbers whose variable indexes a register written out, inner loops first.
    Each written-out loop stays on its first line, followed by the line breaks it had: later lines keep their
    numbers, so the importer's errors still point at them. SourceError where the copies would pass `limit`
    characters, the most a circuit's text may have: qiskit's importer takes about a second per 4,000 statements."""
    if "for" not in text or depth > MAX_NESTING:
        return text
    spans = token_spans(text)
    out: list[str] = []
    end = k = 0
    while k < len(spans):
        loop = _loop(spans, k) if spans[k][0] == "for" and (k == 0 or spans[k - 1][0] in (";", "{", "}")) else None
        if loop is None:
            k += 1
            continue
        variable, values, opening, closing = loop
        start, body_start, body_end, stop = spans[k][1], spans[opening][2], spans[closing][1], spans[closing][2]
        body = unrolled(text[body_start:body_end], limit, depth + 1)
        words = [t for t, _, _ in token_spans(body)]
        if _indexes(words, variable) and not _KEEP_LOOP.intersection(words):
            if len(values) * len(body) > limit:
                raise SourceError(
                    f"a for loop of {len(values):,} turns would be written out as more than {limit:,} characters of "
                    "OpenQASM, the most a circuit's text may have (qiskit's importer cannot build a loop whose "
                    "variable indexes a register); build the circuit in Python (allow_python) instead"
                )
            copies = " ".join(" ".join(f"({v})" if w == variable else w for w in words) for v in values)
            out += [text[end:start], copies, "\n" * text.count("\n", start, stop)]
            end = stop
        elif body != text[body_start:body_end]:  # the loop stays, with its inner loops written out
            out += [text[end:body_start], body]
            end = body_end
        k = closing + 1
    return "".join(out) + text[end:]


def _loop(spans: list[tuple[str, int, int]], k: int) -> tuple[str, range | list[int], int, int] | None:
    """(variable, its values, the body's '{' and '}' token indexes) of `for [TYPE] NAME in [a:b] {`, `[a:s:b]` or
    `{x, y}` with numbers; None for anything else, which the importer reads as it is."""
    head = [t for t, _, _ in spans[k : k + 8]]  # for uint[32] i in [ ...: the name and `in` come early
    if "in" not in head or head.index("in") < 2 or head.index("in") + 1 >= len(head):
        return None
    at = k + head.index("in")
    variable, bracket = spans[at - 1][0], spans[at + 1][0]
    closing_word = {"[": "]", "{": "}"}.get(bracket)
    shut = next((j for j in range(at + 2, len(spans)) if spans[j][0] in (closing_word, ";")), None)
    if closing_word is None or shut is None or spans[shut][0] != closing_word:
        return None
    values = _values(bracket, [t for t, _, _ in spans[at + 2 : shut]])
    if values is None or shut + 1 >= len(spans) or spans[shut + 1][0] != "{":
        return None
    opening = shut + 1
    depth = 0
    for j in range(opening, len(spans)):
        depth += {"{": 1, "}": -1}.get(spans[j][0], 0)
        if depth == 0:
            return variable, values, opening, j
    return None


def _values(bracket: str, inside: list[str]) -> range | list[int] | None:
    """[a:b] and [a:s:b] (the end included, as OpenQASM 3 reads a range) or {x, y, ...}, of integer literals."""
    numbers, sign, separators = [], 1, 0
    for word in inside:
        if word == "-" and sign == 1:
            sign = -1
        elif word.isascii() and word.replace("_", "").isdigit():
            numbers.append(sign * int(word.replace("_", "")))
            sign = 1
        elif word == (":" if bracket == "[" else ","):
            separators += 1
        else:
            return None
    if bracket == "{":
        return numbers if len(numbers) == separators + 1 else None
    if separators not in (1, 2) or len(numbers) != separators + 1:
        return None
    start, step, end = numbers[0], numbers[1] if separators == 2 else 1, numbers[-1]
    return range(start, end + (1 if step > 0 else -1), step) if step else None  # not a list: it may be long


def _indexes(words: list[str], variable: str) -> bool:
    """Whether the variable appears inside square brackets: an index of a register."""
    depth = 0
    for word in words:
        depth += {"[": 1, "]": -1}.get(word, 0)
        if depth > 0 and word == variable:
            return True
    return False


def flattened(qc: QuantumCircuit) -> QuantumCircuit:
    """The circuit with the loops the importer built written out by qiskit's UnrollForLoops: a repeated step
    (`for int s in [1:4] { ... }`) or a loop whose variable turns an angle means plain gates, but as a `for_loop` it
    made the circuit one with control flow, which twirling, ZNE and dynamical decoupling refuse. Left as it is where a
    loop's body holds other control flow (an `if` inside keeps the circuit dynamic anyway, and the pass fails on an
    `if` without `else` in qiskit 2.6) or `break`/`continue`, or where the copies would pass MAX_LOOP_WRITTEN_OUT."""
    if "for_loop" not in qc.count_ops():  # counted in qiskit's Rust, not by a Python scan of every instruction
        return qc
    loops = [inst.operation for inst in qc.data if inst.operation.name == "for_loop"]
    if not all(_plain(op) for op in loops):
        return qc
    if sum(_written_size(op) for op in loops) > MAX_LOOP_WRITTEN_OUT:
        return qc
    from qiskit.transpiler.passes import UnrollForLoops

    return UnrollForLoops()(qc)


def _plain(loop: ForLoopOp) -> bool:
    """Whether a for_loop's body holds only gates, measurements and other such loops."""
    (body,) = loop.blocks
    for inst in body.data:
        name = inst.operation.name
        if name == "for_loop" and not _plain(inst.operation):
            return False
        if name != "for_loop" and (name in ("break_loop", "continue_loop") or hasattr(inst.operation, "blocks")):
            return False
    return True


def _written_size(loop: ForLoopOp) -> int:
    """How many instructions a plain for_loop makes written out, inner loops included."""
    indexset, _, body = loop.params
    inner = sum(_written_size(i.operation) - 1 for i in body.data if i.operation.name == "for_loop")
    return len(indexset) * (len(body.data) + inner)
