"""OpenQASM 2 and 3 read as tokens, before any parser builds anything: includes found, and widths and gate counts
bounded (broadcast over registers, loops, `pow` modifiers and gate definitions expanded, unbounded loops refused)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import SourceError

# Both dialects share these lexical rules. Spaces and comments match outside the group, so findall gives them as ''.
# A string is one token, so `include` inside a comment or a string is never taken for one.
# Compiled where first used (re caches them): a run whose circuits are cached never scans OpenQASM text.
_TOKEN = r"""\s+|//[^\n]*|/\*.*?\*/|/\*.*
      | ("[^"\n]*"|'[^'\n]*'
         |(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?
         |[A-Za-z_$][\w$]*
         |->|==|!=|<=|>=|&&|\|\||\*\*|[^\s])"""
_TOKEN_FLAGS = re.S | re.X
# Only what finding includes needs: comments and strings (to skip them), statement ends, and the keyword.
_INCLUDE_SCAN = r"""//[^\n]*|/\*.*?\*/|/\*.*|("[^"\n]*"|'[^'\n]*'|[;{}]|\binclude\b)"""
MAX_QUBITS = 10_000  # declared, all registers together: more than any device, far below what breaks a parser
MAX_NESTING = 64
MAX_MODIFIERS = 16  # each one makes the parser build a new definition from the last
CAP = 10**15  # counts saturate here: the gate limit is far below, and Python's ints stay small


def tokens(text: str) -> list[str]:
    """The significant tokens (no spaces or comments), as text: one findall, at C speed."""
    return [t for t in re.findall(_TOKEN, text, _TOKEN_FLAGS) if t]


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """The significant tokens with where each starts and ends in the text."""
    return [(m.group(1), m.start(1), m.end(1)) for m in re.finditer(_TOKEN, text, _TOKEN_FLAGS) if m.group(1)]


def includes(text: str) -> Iterator[tuple[str, int, int]]:
    """Each `include "name";` statement: the name and the statement's span in `text`."""
    found = [(m.group(1), m.start(), m.end()) for m in re.finditer(_INCLUDE_SCAN, text, re.S) if m.group(1)]
    for i, (tok, start, _) in enumerate(found):
        if tok != "include" or (i > 0 and found[i - 1][0] not in (";", "{", "}")):
            continue
        name, semicolon = found[i + 1 : i + 3] if i + 2 < len(found) else (("", 0, 0), ("", 0, 0))
        gaps = text[start + len("include") : name[1]] + text[name[2] : semicolon[1]]
        if not name[0].startswith('"') or semicolon[0] != ";" or gaps.strip():
            raise SourceError('an include statement must read: include "FILE";')
        yield name[0][1:-1], start, semicolon[2]


def without_version(text: str) -> str:
    """The text without its leading `OPENQASM x;` statement (an included file may carry its own)."""
    m = re.match(r"\s*OPENQASM\b[^;]*;", text)
    return text[m.end() :] if m else text


@dataclass
class _Block:
    """Statements (token lists) and nested blocks, each block with the tokens of its header."""

    items: list[tuple[list[str], _Block | None]] = field(default_factory=list)


def _structure(toks: list[str]) -> _Block:
    """Statements grouped into blocks by braces, with an explicit stack (no recursion on hostile nesting)."""
    root = _Block()
    stack = [root]
    current: list[str] = []
    in_set = False  # `for T v in {1, 5, 9} {...}`: the first braces are a set, part of the loop's header
    for tok in toks:
        if in_set or (tok == "{" and len(current) > 1 and current[0] == "for" and current[-1] == "in"):
            current.append(tok)
            in_set = tok != "}"
        elif tok == "{":
            if len(stack) > MAX_NESTING:
                raise SourceError(f"blocks nest more than {MAX_NESTING} deep")
            block = _Block()
            stack[-1].items.append((current, block))
            stack.append(block)
            current = []
        elif tok == "}":
            if current:
                stack[-1].items.append((current, None))
                current = []
            if len(stack) == 1:
                raise SourceError("a '}' closes no block")
            stack.pop()
        elif tok == ";":
            stack[-1].items.append((current, None))
            current = []
        else:
            current.append(tok)
    if current:
        stack[-1].items.append((current, None))
    return root


def _int(tok: str) -> int | None:
    text = tok.replace("_", "")
    return int(text) if text.isascii() and text.isdigit() else None


class _Counter:
    """Gate applications, counted as a run would apply them; qubits declared."""

    def __init__(self) -> None:
        self.registers: dict[str, int] = {}
        self.costs: dict[str, int] = {}  # a defined gate or subroutine: the gates one call applies
        self.qubits = 0

    def block(self, block: _Block) -> int:
        total = 0
        for head, body in block.items:  # `else {...}` is an item of its own after the if's block: both are counted
            total = min(total + self.item(head, body), CAP)
        return total

    def item(self, head: list[str], body: _Block | None) -> int:
        if not head:
            return self.block(body) if body is not None else 0
        word = head[0]
        if body is not None:
            return self.compound(word, head, body)
        if word in ("qreg", "qubit"):
            self.declare(head)
            return 0
        if word in ("OPENQASM", "include", "creg", "bit", "input", "output", "const", "let", "return", "break"):
            return 0
        if word in ("continue", "end", "float", "int", "uint", "angle", "bool", "complex", "duration", "stretch"):
            return 0
        return self.call(head)

    def compound(self, word: str, head: list[str], body: _Block) -> int:
        if word in ("gate", "def") and len(head) > 1:
            self.costs[head[1]] = max(1, self.block(body))
            return 0
        if word == "while":
            raise SourceError("a while loop is refused: qrun cannot bound how many times it runs")
        if word == "for":
            return min(self.iterations(head) * self.block(body), CAP)
        if word in ("defcal", "cal", "defcalgrammar", "extern"):
            return 0
        return self.block(body)  # if, else, box, switch, case, default: every branch, an upper bound

    def iterations(self, head: list[str]) -> int:
        """How often `for T v in [a:b]`, `[a:s:b]`, `{x, y}` or a register runs; refused when not literal."""
        texts = head
        if "in" not in texts:
            raise SourceError("a for loop must read: for TYPE NAME in RANGE")
        rest = head[texts.index("in") + 1 :]
        if len(rest) == 1 and rest[0] in self.registers:
            return self.registers[rest[0]]
        if rest and rest[0] == "[" and rest[-1] == "]":
            parts = rest[1:-1]
            numbers = [_number(parts, i) for i in range(len(parts))]
            bounds = [n for n in numbers if n is not None]
            colons = sum(1 for t in parts if t == ":")
            if colons in (1, 2) and len(bounds) == colons + 1:
                start, end = bounds[0], bounds[-1]
                step = bounds[1] if colons == 2 else 1
                if step != 0:
                    return max(0, (end - start) // step + 1)
        if rest and rest[0] == "{":
            return sum(1 for t in rest if t == ",") + 1
        raise SourceError(
            "a for loop's range must be written as numbers ([start:end] or [start:step:end])" + _template_hint(rest)
        )

    def declare(self, head: list[str]) -> None:
        size = 1
        texts = head
        if "[" in texts:
            at = texts.index("[")
            value = _int(head[at + 1]) if at + 1 < len(head) else None
            if value is None:
                raise SourceError("a qubit register's size must be a number" + _template_hint(head[at + 1 :]))
            size = value
        name = head[-1] if head[0] == "qubit" else head[1] if len(head) > 1 else ""
        self.registers[name] = size
        self.qubits += size
        if self.qubits > MAX_QUBITS:
            raise SourceError(f"declares more than {MAX_QUBITS:,} qubits")

    def call(self, head: list[str]) -> int:
        if len(head) == 2:  # `h q;`, the commonest statement by far: a gate on one operand, no modifier
            return min(self.costs.get(head[0], 1) * self.registers.get(head[1], 1), CAP)
        texts = head
        if "=" in texts and "measure" in texts:  # `c = measure q;`: a measurement of each qubit of q
            head = head[texts.index("measure") :]
        repeat = 1
        i = modifiers = 0
        # modifiers: inv @, ctrl @, negctrl @, pow(k) @ (k applications)
        while i < len(head) and head[i] in ("inv", "ctrl", "negctrl", "pow"):
            j = i + 1
            if j < len(head) and head[j] == "(":
                close = _closing(head, j)
                if head[i] == "pow":
                    k = _number(head, j + 1) if close == j + 2 else None
                    repeat = min(repeat * abs(k if k is not None else 1), CAP)
                j = close + 1
            if j >= len(head) or head[j] != "@":
                break
            i = j + 1
            modifiers += 1
            if modifiers > MAX_MODIFIERS:
                raise SourceError(f"a gate has more than {MAX_MODIFIERS} modifiers (inv @, ctrl @, pow(k) @)")
        if i >= len(head):
            return 0
        name = head[i]
        j = i + 1
        if j < len(head) and head[j] == "(":
            j = _closing(head, j) + 1
        width = max((self.operand(arg) for arg in _split_commas(head[j:])), default=1)
        return min(repeat * self.costs.get(name, 1) * width, CAP)

    def operand(self, arg: list[str]) -> int:
        """How many times a gate is broadcast over this operand: a whole register's size, else once."""
        if len(arg) == 1 and arg[0] in self.registers:
            return self.registers[arg[0]]
        if len(arg) > 1 and arg[0] in self.registers and any(t == ":" for t in arg):
            return self.registers[arg[0]]  # a slice: at most the register
        return 1


def _template_hint(tokens: list[str]) -> str:
    """Where a size or a bound is a name (`const int n = 4;`, which qiskit's importer does not read at all), the
    way a spec names a number: a template variable."""
    name = next((t for t in tokens if t[:1].isalpha() or t[:1] == "_"), None)
    if name is None:
        return ""
    return f"; for '{name}', use a template variable ({{{{ {name} }}}}, with vars: {{{name}: ...}}): qiskit's importer reads no const"


def _closing(head: list[str], open_at: int) -> int:
    depth = 0
    for k in range(open_at, len(head)):
        depth += {"(": 1, ")": -1}.get(head[k], 0)
        if depth == 0:
            return k
    return len(head) - 1


def _number(toks: list[str], i: int) -> int | None:
    """An integer literal at toks[i], with a leading minus."""
    if i < len(toks) and toks[i] == "-" and i + 1 < len(toks):
        value = _int(toks[i + 1])
        return -value if value is not None else None
    if i < len(toks) and (i == 0 or toks[i - 1] != "-"):
        return _int(toks[i])
    return None


def _split_commas(toks: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    depth = 0
    for t in toks:
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(t, 0)
        if t in (",", "->") and depth == 0:  # `measure q -> c`: the register is broadcast over
            out.append([])
        else:
            out[-1].append(t)
    return [a for a in out if a]


def bounds(text: str) -> tuple[int, int]:
    """(gate applications, qubits declared) of an OpenQASM text with its includes inlined; SourceError for what
    cannot be bounded (a while loop, a for loop over a computed range, more than MAX_QUBITS)."""
    counter = _Counter()
    return counter.block(_structure(tokens(text))), counter.qubits


# The gates stdgates.inc declares: a parameter or register given one of these names (`input float t;`, the time of
# a Hamiltonian simulation) clashes with the gate, and qiskit's parser says only that the symbol is already inserted.
STDGATES = "p x y z h s sdg t tdg sx rx ry rz cx cy cz cp crx cry crz ch swap ccx cswap cu CX phase cphase id u1 u2 u3"


def taken_hint(message: str) -> str:
    """ " ('t' is a gate stdgates.inc declares: ...)" where a parser's error is a name clash with a standard gate."""
    taken = re.search(r"Symbol '(\w+)' already inserted", message)
    if taken and taken.group(1) in STDGATES.split():
        return f" ('{taken.group(1)}' is a gate stdgates.inc declares: give yours another name)"
    return ""


# Gates qiskit has but stdgates.inc does not declare, each as OpenQASM defines it from standard gates (a test holds
# each equal to qiskit's, up to a global phase): a Trotter step's rzz is the usual one to miss.
UNDECLARED = {
    "rzz": "gate rzz(θ) a, b { cx a, b; rz(θ) b; cx a, b; }",
    "rxx": "gate rxx(θ) a, b { h a; h b; cx a, b; rz(θ) b; cx a, b; h a; h b; }",
    "ryy": "gate ryy(θ) a, b { rx(pi/2) a; rx(pi/2) b; cx a, b; rz(θ) b; cx a, b; rx(-pi/2) a; rx(-pi/2) b; }",
    "rzx": "gate rzx(θ) a, b { h b; cx a, b; rz(θ) b; cx a, b; h b; }",
    "dcx": "gate dcx a, b { cx a, b; cx b, a; }",
    "iswap": "gate iswap a, b { s a; s b; h a; cx a, b; cx b, a; h b; }",
}


def undeclared_hint(message: str) -> str:
    """ " (stdgates.inc has no 'rzz': define it first, gate rzz(θ) ...)" where the parser names a gate qiskit has but
    stdgates.inc lacks."""
    missing = re.search(r"gate '(\w+)' is not defined", message)
    if missing and missing.group(1) in UNDECLARED:
        return f" (stdgates.inc has no '{missing.group(1)}': define it first, {UNDECLARED[missing.group(1)]})"
    return ""


# A line that means to declare a circuit parameter in another language's words (`parameter theta;`) or without
# OpenQASM 3's `input` (`float[64] theta;`): qiskit names a gate or a type, not what to write.
_DECLARATION = r"\s*(?:parameter|param|input|float|angle)\b[^;]*?(\w+)\s*;"
_AT_LINE = r"[\"']?(?:<input>:)?(\d+),\d+: "


def declaration_hint(message: str, text: str) -> str:
    """ " (OpenQASM 3 declares a circuit parameter as `input float[64] theta;`)" where the parser's error is on a line
    that tries to declare one some other way."""
    at = re.match(_AT_LINE, message)
    lines = text.splitlines()
    if at is None or not 0 < int(at[1]) <= len(lines):
        return ""
    found = re.match(_DECLARATION, lines[int(at[1]) - 1])
    return f" (OpenQASM 3 declares a circuit parameter as `input float[64] {found[1]};`)" if found else ""
