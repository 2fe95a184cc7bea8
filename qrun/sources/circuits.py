"""Circuit sources (random, qasm, file, library, python): built, read confined, and their facts without building."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SourceError
from ..model.raw import Raw, Yaml
from ..planning import cache
from ..store.fsio import confinement_root
from ..store.provenance import package_version
from . import facts, pysource, qasm_scan, qasm_unroll
from .facts import CircuitFacts

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.transpiler import CouplingMap

LIBRARY = (
    "efficient_su2",
    "real_amplitudes",
    "excitation_preserving",
    "pauli_two_design",
    "n_local",
    "z_feature_map",
    "zz_feature_map",
    "pauli_feature_map",
    "quantum_volume",
)


def library_call(source: Raw) -> tuple[str, dict[str, object], tuple]:
    """(function name, arguments, where the name sits) of a library source, in either spelling:
    {library: NAME, args: {...}} (the spec page's) or {library: {name: NAME, args: {...}}}."""
    value = source["library"]
    if isinstance(value, str):
        return value, source.get("args") or {}, ("library",)
    return value["name"], value.get("args") or {}, ("library", "name")


def _source(source: Raw) -> tuple[str, Yaml]:
    kind = next(k for k in ("random", "qasm", "file", "library", "python") if k in source)
    return kind, source[kind]


def build(source: Raw, base_dir: Path, coupling_map: CouplingMap | None = None) -> QuantumCircuit:
    """Build the QuantumCircuit a spec's circuit entry describes (exactly one source). `coupling_map`: the device's,
    for a Python source that asks for it."""
    kind, value = _source(source)
    if kind == "python":
        return pysource.circuit(source, base_dir, coupling_map)
    if kind == "random":
        from qiskit.circuit.random import random_circuit

        qc = random_circuit(
            value["num_qubits"],
            value["depth"],
            max_operands=value.get("max_operands", 2),
            measure=value.get("measure", False),
            seed=value.get("seed"),
        )
        # The runtime docs' example decomposes once so the circuit holds standard gates only.
        return qc.decompose(reps=1)
    if kind in ("qasm", "file"):
        text = qasm_text(source, base_dir)
        try:
            return _from_qasm(text, (kind,))
        except SourceError as e:
            if kind != "file" or read_source_file(value, base_dir, confinement_root(base_dir), ("file",)) != text:
                raise  # inline, or a file whose custom include qrun inlined: the lines are not the file's
            raise _in_file(e, str(value)) from None
    if kind == "library":
        return _from_library(*library_call(source))
    raise SourceError(f"unknown circuit source {kind!r}")


def _from_qasm(text: str, subpath: tuple) -> QuantumCircuit:
    import qiskit.qasm2
    import qiskit.qasm3

    head = text.lstrip()
    try:
        written = text if head.startswith("OPENQASM 2") else qasm_unroll.unrolled(text, MAX_SOURCE_BYTES)
    except SourceError as e:
        raise SourceError(str(e), subpath) from None
    console = io.StringIO()  # the OpenQASM 3 parser's ANTLR prints some syntax errors to stderr itself
    try:
        with contextlib.redirect_stderr(console):
            if head.startswith("OPENQASM 2"):
                qc = qiskit.qasm2.loads(text, custom_instructions=qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
            else:
                qc = qasm_unroll.flattened(qiskit.qasm3.loads(written))
    except Exception as e:  # the parsers raise several unrelated types; all mean "bad source"
        message = " ".join(str(e).split()) or _syntax_detail(e, console.getvalue())
        hint = (
            qasm_unroll.hint(message, written != text)
            or qasm_scan.taken_hint(message)
            or qasm_scan.undeclared_hint(message)
            or qasm_scan.declaration_hint(message, written)
        )
        raise SourceError(f"invalid OpenQASM: {message}{hint}", subpath) from None
    for inst in qc.data:  # an angle of 1e999 parses as inf; transpiling or simulating it fails far from the spec
        for value in inst.operation.params:
            if isinstance(value, (int, float)) and not math.isfinite(value):
                raise SourceError(f"gate {inst.operation.name} has the angle {value}, which is not finite", subpath)
    if "opaque" in text:  # declared without a body: the transpiler has nothing to make of it, on any backend
        from qiskit.circuit import Gate

        for inst in qc.data:
            if isinstance(inst.operation, Gate) and inst.operation.definition is None:
                name = inst.operation.name
                message = f"gate '{name}' is opaque, declared without a body: no simulator or device runs it"
                raise SourceError(f"{message}; give it one (gate {name} q {{ ... }})", subpath)
    return qc


def _in_file(error: SourceError, name: str) -> SourceError:
    """A file's OpenQASM error at its own place, as an editor reads one ("circ/bell.qasm:5:9: ...", the column from
    1): the parsers' "LINE,COLUMN" counts columns from 0."""
    found = re.match(r'invalid OpenQASM: (["\']?)(?:<input>:)?(\d+),(\d+): (.*)', str(error), flags=re.S)
    if found is None:
        return error
    quote, line, column, rest = found.groups()
    if quote:  # the parser's own message was quoted; a hint may follow its closing quote
        end = rest.rfind(quote)
        rest = rest[:end] + rest[end + 1 :]
    return SourceError(f"invalid OpenQASM at {name}:{line}:{int(column) + 1}: {rest}", error.subpath)


def _syntax_detail(error: BaseException, console: str) -> str:
    """Where an OpenQASM 3 syntax error is, as "LINE,COLUMN: ...": the parser raises a bare QASM3ParsingError, whose
    cause holds ANTLR's offending token (or ANTLR printed its own words, caught in `console`)."""
    printed = re.search(r"line (\d+):(\d+) (.+)", console)
    if printed:
        return f"{printed[1]},{printed[2]}: {printed[3].strip()}"
    cause = error.__cause__
    token = getattr(cause.args[0], "offendingToken", None) if cause is not None and cause.args else None
    if token is None:
        return f"{type(error).__name__} (the parser gave no detail; check the syntax)"
    found = "the end of the text" if token.text == "<EOF>" else f"'{token.text}'"
    return f"{token.line},{token.column}: a syntax error at {found}"


def _from_library(name: str, args: dict[str, object], where: tuple) -> QuantumCircuit:
    import qiskit.circuit.library as library

    if name not in LIBRARY:
        raise SourceError(f"{name!r} is not an allowed library circuit; use one of {', '.join(LIBRARY)}", where)
    try:
        qc = getattr(library, name)(**args)
    except (TypeError, ValueError) as e:
        raise SourceError(
            f"{name}({_fmt_args(args)}) failed: {e}", where[:-1] + ("args",) if len(where) > 1 else ("args",)
        ) from None
    return qc


def _fmt_args(args: dict[str, object]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in args.items())


MAX_SOURCE_BYTES = 1024 * 1024  # a circuit file, or the OpenQASM text after its includes are inlined
MAX_INCLUDE_DEPTH = 8
DEFAULT_GATE_LIMIT = 1_000_000
_STANDARD = ("stdgates.inc", "qelib1.inc")


def read_source_file(name: str, base_dir: Path, root: Path, subpath: tuple, what: str = "circuit file") -> str:
    """A circuit file named in a spec: a regular file under `root`, at most MAX_SOURCE_BYTES, UTF-8."""
    try:
        return read_confined(name, base_dir, root, subpath, what).decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{name!r} is not a UTF-8 text file", subpath) from None


def read_confined(
    name: str, base_dir: Path, root: Path, subpath: tuple, what: str, limit: int = MAX_SOURCE_BYTES
) -> bytes:
    """A file a spec names (a circuit's, its parameter values'): a regular file under `root`, at most `limit` bytes."""
    path = (base_dir / name).resolve()  # symlinks resolved, so a link cannot lead outside
    if path != root and root not in path.parents:
        raise SourceError(
            f"{name!r} is outside the spec's folder and repository ({root}); qrun reads {what}s only from there",
            subpath,
        )
    try:
        info = path.stat()
    except OSError as e:
        raise SourceError(f"cannot read {what} {str(base_dir / name)!r}: {e.strerror}", subpath) from None
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(f"{name!r} is not a regular file", subpath)
    if info.st_size > limit:
        raise SourceError(f"{name!r} is {info.st_size:,} bytes, more than the {limit:,} a {what} may have", subpath)
    try:
        with open(path, "rb") as f:
            return f.read(limit + 1)
    except OSError as e:
        raise SourceError(f"cannot read {what} {str(base_dir / name)!r}: {e.strerror}", subpath) from None


def qasm_text(source: Raw, base_dir: Path) -> str:
    """The OpenQASM of a qasm: or file: source with every include but the standard ones inlined, each read under
    the same rules as a circuit file; so the parsers never open a file themselves."""
    kind, value = _source(source)
    root = confinement_root(base_dir)
    if kind == "file":
        path = base_dir / value
        return _inline(read_source_file(value, base_dir, root, ("file",)), path.parent, root, ("file",), 0)
    return _inline(value, base_dir, root, ("qasm",), 0)


def _inline(text: str, folder: Path, root: Path, subpath: tuple, depth: int) -> str:
    """Each include statement replaced by its file's text, found from the tokens (not by lines), so several
    statements on one line all stay, and an include in a comment or a string is none."""
    try:
        found = list(qasm_scan.includes(text))
    except SourceError as e:
        raise SourceError(str(e), subpath) from None
    pieces, at = [], 0
    for name, start, end in found:
        if name in _STANDARD:
            continue
        if depth >= MAX_INCLUDE_DEPTH:
            raise SourceError(f"includes nest more than {MAX_INCLUDE_DEPTH} deep", subpath)
        body = qasm_scan.without_version(read_source_file(name, folder, root, subpath))
        pieces += [text[at:start], _inline(body, (folder / name).parent, root, subpath, depth + 1)]
        at = end
    out = "".join(pieces) + text[at:] if pieces else text
    if len(out.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise SourceError(f"the OpenQASM is more than {MAX_SOURCE_BYTES:,} bytes with its includes", subpath)
    return out


def gate_estimate(source: Raw, base_dir: Path) -> tuple[int, tuple]:
    """An upper estimate of a circuit's gate count from its source alone, and where in the source it comes from.

    Library circuits: reps x (n^2 + 4n), which bounds every allowed function and entanglement; random: width x
    depth; OpenQASM: applications as qasm_scan counts them (broadcast, loops, pow and definitions expanded).
    SourceError where the OpenQASM cannot be bounded or read: nothing may build it then.
    """
    kind, value = _source(source)
    if kind == "python":
        return 0, ("python",)  # unknown until it runs; the spec allowed its code, and the circuit is counted built
    if kind == "random":
        return int(value["num_qubits"]) * int(value["depth"]), ("random", "depth")
    if kind == "library":
        name, args, where = library_call(source)
        n = args.get("num_qubits", args.get("feature_dimension", 1))
        layers = "depth" if name == "quantum_volume" else "reps"  # quantum_volume's layers are its depth (default n)
        reps = args.get(layers, n if layers == "depth" else 3)
        n = n if isinstance(n, int) and not isinstance(n, bool) else 1
        reps = reps if isinstance(reps, int) and not isinstance(reps, bool) else 1
        at = where[:-1] + ("args", layers) if len(where) > 1 else ("args", layers)
        return max(reps, 1) * (n * n + 4 * n), at
    text = qasm_text(source, base_dir)
    try:
        gates, _ = qasm_scan.bounds(text)
    except SourceError as e:
        raise SourceError(str(e), (kind,)) from None
    return gates, (kind,)


# 2: non-finite angles refused when a circuit is built; 3: control flow, exact's reach; 4: syntax errors located;
# 5: loops that index a register written out; 6: why exact: stabilizer cannot take the circuit (non_clifford);
# 7: the classical registers (a derived value reads a sampler's by name); 8: the instructions' names (a Clifford
# circuit wider than a state vector runs on aer); 9: loops the importer builds written out (no control flow left)
FACTS_FORMAT = 9


def cached_facts(source: Raw, base_dir: Path) -> CircuitFacts:
    """A circuit's facts as building it finds them (or its SourceError), from a cache keyed by the source's content.

    `qrun validate` must refuse what a run refuses (an undefined gate, say), which takes qiskit's parsers; an
    unchanged source costs nothing after its first check, so pre-commit pays for qiskit only when a circuit changes.
    """

    kind, value = _source(source)
    body = qasm_text(source, base_dir) if kind in ("qasm", "file") else source
    key = hashlib.sha256(
        json.dumps([FACTS_FORMAT, package_version("qiskit"), kind, body], sort_keys=True, default=str).encode()
    ).hexdigest()
    cached = facts.from_entry(cache.read_json(cache.facts_dir() / f"{key}.json"))
    if isinstance(cached, SourceError):
        raise cached
    if cached is not None:
        return cached
    try:
        found = facts.of_circuit(build(source, base_dir))
    except SourceError as e:
        if kind == "file" or "cannot read" in str(e):
            raise  # about the file system, not the source: never cached
        cache.write_json(cache.facts_dir() / f"{key}.json", {"error": str(e), "subpath": list(e.subpath)})
        raise
    cache.write_json(cache.facts_dir() / f"{key}.json", found.entry())
    return found


def cheap_facts(source: Raw, base_dir: Path) -> CircuitFacts | None:
    """A circuit's facts read from its source without qiskit, or None where that would be a guess.

    This keeps `qrun validate` fast and qiskit-free; the run path still builds every circuit.
    """
    kind, value = _source(source)
    if kind == "random":
        measure = bool(value.get("measure", False))
        n = value["num_qubits"]
        return CircuitFacts(n, 0, n if measure else 0, measure, registers=(("c", n),) if measure else ())
    if kind in ("qasm", "file"):
        try:
            value = qasm_text(source, base_dir)
        except SourceError:
            return None  # build() reports it, located
        return facts.from_qasm(value)
    if kind == "library":
        name, args, _ = library_call(source)
        return facts.from_library(name, args)
    return None
