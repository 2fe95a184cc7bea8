"""What validation knows of a circuit without building it: its facts, read from a built circuit, from a cache
entry, or from an OpenQASM or library source's text alone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import SourceError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit


@dataclass(frozen=True)
class CircuitFacts:
    """What validation needs to know of a circuit, without the circuit."""

    num_qubits: int
    num_parameters: int
    num_clbits: int
    has_measurements: bool
    parameter_names: tuple[str, ...] = ()
    control_flow: bool = False  # if/else, switch, loops or boxes: the runtime's twirling cannot run them
    unfollowable: str = ""  # why exact: statevector cannot follow the circuit's outcomes, if it cannot
    non_clifford: str = ""  # why exact: stabilizer cannot take the circuit at any parameter values, if it cannot
    # (name, width) of each classical register, which a sampler's result has a field for; None: not known
    registers: tuple[tuple[str, int], ...] | None = None
    instructions: tuple[str, ...] | None = None  # a built circuit's instructions' names, sorted; None: not known

    def entry(self) -> dict[str, object]:
        """The facts as a cache entry, which from_entry reads back."""
        return {
            "facts": {
                "num_qubits": self.num_qubits,
                "num_parameters": self.num_parameters,
                "num_clbits": self.num_clbits,
                "has_measurements": self.has_measurements,
                "parameter_names": list(self.parameter_names),
                "control_flow": self.control_flow,
                "unfollowable": self.unfollowable,
                "non_clifford": self.non_clifford,
                "registers": None if self.registers is None else [list(r) for r in self.registers],
                "instructions": None if self.instructions is None else list(self.instructions),
            }
        }


# The patterns of an OpenQASM text's scan, compiled by `re` where first used (its own cache keeps them): a run whose
# circuits' facts are cached, or from the library, never scans text and never pays for compiling them.
_Q3_QUBITS = r"\bqubit\s*(?:\[\s*(\d+)\s*\])?\s+[A-Za-z_]\w*\s*;"
_Q3_BITS = r"\bbit\s*(?:\[\s*(\d+)\s*\])?\s+[A-Za-z_]\w*\s*(?:=|;)"
_Q3_BIT_ARRAY = r"\bbit\s*\[\s*(\d+)\s*\]\s+([A-Za-z_]\w*)\s*(?:=|;)"  # a register; `bit d;` is a loose bit
_Q3_INPUT = r"\binput\s+(?:float|angle)\s*(?:\[\s*\d+\s*\])?\s+([A-Za-z_]\w*)\s*;"
_Q3_LEGACY = r"\b(?:qreg|creg)\b"  # OpenQASM 2's declarations in a 3 source, which a build counts
_Q2_REG = r"\b(qreg|creg)\s+([A-Za-z_]\w*)\s*\[\s*(\d+)\s*\]\s*;"
_MEASURE = r"\bmeasure\b"
# What the text alone cannot settle: how a dynamic source branches, or an opaque gate (which a build refuses).
_DYNAMIC = r"\b(?:if|else|while|for|switch|box|reset|break|continue|opaque)\b"
# Statements that may follow a final measurement: more measurements, barriers, declarations.
_AFTER_MEASURE = r"(?:measure\b|barrier\b|(?:c?reg|bit|creg|output)\b|[A-Za-z_]\w*(?:\[\d+\])?\s*=\s*measure\b)"


def from_entry(entry: object) -> CircuitFacts | SourceError | None:
    """A facts-cache entry (CircuitFacts.entry, or a build's error), or None for anything else (a damaged entry is a
    miss)."""
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("error"), str):
        subpath = entry.get("subpath")
        if isinstance(subpath, list) and all(isinstance(p, (str, int)) for p in subpath):
            return SourceError(entry["error"], tuple(subpath))
        return None
    f = entry.get("facts")
    if not isinstance(f, dict):
        return None
    counts = [
        n for n in (f.get(k) for k in ("num_qubits", "num_parameters", "num_clbits")) if type(n) is int and n >= 0
    ]
    names = f.get("parameter_names")
    flags = [f.get(k) for k in ("has_measurements", "control_flow")]
    why = [f.get(k) for k in ("unfollowable", "non_clifford")]
    if len(counts) != 3 or any(type(b) is not bool for b in flags) or not all(isinstance(w, str) for w in why):
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(names) != counts[1]:
        return None
    return CircuitFacts(
        counts[0],
        counts[1],
        counts[2],
        flags[0] is True,
        tuple(names),
        flags[1] is True,
        f["unfollowable"],
        f["non_clifford"],
        _registers(f.get("registers")),
        _names(f.get("instructions")),
    )


def _names(value: object) -> tuple[str, ...] | None:
    """A cache entry's instruction names, or None (not known) for anything but a list of text."""
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        return None
    return tuple(value)


def _registers(value: object) -> tuple[tuple[str, int], ...] | None:
    """A cache entry's registers, or None (not known) for anything but a list of [name, width] pairs."""
    if not isinstance(value, list):
        return None
    pairs = [tuple(p) for p in value if isinstance(p, list) and len(p) == 2]
    if len(pairs) != len(value) or not all(isinstance(n, str) and type(w) is int and w >= 0 for n, w in pairs):
        return None
    return tuple((str(n), int(w)) for n, w in pairs)


def declared_parameters(text: str) -> list[str]:
    """An OpenQASM 3 source's circuit parameters (`input float[64] theta;`) in the order it declares them."""
    return re.findall(_Q3_INPUT, re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S))


def from_qasm(text: str) -> CircuitFacts | None:
    """An OpenQASM source's facts from its text, or None where the text alone would be a guess: a custom include, or
    a dynamic circuit (control flow, a reset, a measurement something follows), whose facts a build gives."""
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    includes = re.findall(r'^\s*include\s+"([^"]+)"', code, flags=re.M)
    if any(i not in ("stdgates.inc", "qelib1.inc") for i in includes):
        return None  # a custom include may declare anything
    if re.search(_DYNAMIC, code) or any(
        s.strip() and not re.match(_AFTER_MEASURE, s.strip()) for s in _after_measure(code)
    ):
        return None
    if code.lstrip().startswith("OPENQASM 2"):
        regs = re.findall(_Q2_REG, code)
        qubits = sum(int(n) for kind, _, n in regs if kind == "qreg")
        clbits = sum(int(n) for kind, _, n in regs if kind == "creg")
        registers = tuple((name, int(n)) for kind, name, n in regs if kind == "creg")
        params: list[str] = []
    elif code.lstrip().startswith("OPENQASM 3") and not re.search(_Q3_LEGACY, code):
        qubits = sum(int(n or 1) for n in re.findall(_Q3_QUBITS, code))
        clbits = sum(int(n or 1) for n in re.findall(_Q3_BITS, code))
        # `bit[2] c;` is a register; `bit d;` a loose bit, which qiskit's importer keeps in none
        registers = tuple((name, int(n)) for n, name in re.findall(_Q3_BIT_ARRAY, code))
        params = sorted(re.findall(_Q3_INPUT, code))
    else:
        return None
    if qubits == 0:
        return None
    return CircuitFacts(
        qubits, len(params), clbits, bool(re.search(_MEASURE, code)), tuple(params), registers=registers
    )


# The parameter counts of the allow-listed library functions, for the arguments qrun can read without qiskit.
# tests/test_circuits.py checks each against qiskit itself.
def from_library(name: str, args: dict[str, object]) -> CircuitFacts | None:
    n = args.get("num_qubits", args.get("feature_dimension"))
    if not isinstance(n, int) or n < 1:
        return None
    reps = args.get("reps", 3)
    final = 0 if args.get("skip_final_rotation_layer", False) else 1
    known = {
        "num_qubits",
        "reps",
        "entanglement",
        "skip_final_rotation_layer",
        "insert_barriers",
        "parameter_prefix",
        "name",
        "feature_dimension",
        "seed",
        "depth",
        "su2_gates",
    }
    if set(args) - known or not isinstance(reps, int):
        return None
    prefix = str(args.get("parameter_prefix", "θ"))
    if name == "efficient_su2":
        gates = args.get("su2_gates", ["ry", "rz"])
        if not isinstance(gates, list) or not all(g in ("rx", "ry", "rz") for g in gates):
            return None
        count = n * len(gates) * (reps + final)
    elif name == "real_amplitudes" and "su2_gates" not in args:
        count = n * (reps + final)
    elif name in ("z_feature_map", "zz_feature_map", "pauli_feature_map") and "feature_dimension" in args:
        count, prefix = n, str(args.get("parameter_prefix", "x"))
    elif name == "quantum_volume" and "num_qubits" in args:
        count = 0
    else:
        return None
    names = tuple(sorted((f"{prefix}[{i}]" for i in range(count)), key=lambda s: int(s[len(prefix) + 1 : -1])))
    return CircuitFacts(n, count, 0, False, names, registers=())


def of_circuit(qc: QuantumCircuit) -> CircuitFacts:
    """A built circuit's facts."""
    from qiskit.circuit import ControlFlowOp

    from . import branching, stabilizer  # numpy: only a built circuit's facts need them

    return CircuitFacts(
        num_qubits=qc.num_qubits,
        num_parameters=qc.num_parameters,
        num_clbits=qc.num_clbits,
        has_measurements=any(inst.operation.name == "measure" for inst in qc.data),
        parameter_names=tuple(p.name for p in qc.parameters),
        control_flow=any(isinstance(inst.operation, ControlFlowOp) for inst in qc.data),
        unfollowable=branching.unfollowable(qc) if branching.dynamic(qc) else "",
        non_clifford=stabilizer.non_clifford(qc),
        registers=tuple((r.name, r.size) for r in qc.cregs),
        instructions=tuple(sorted(qc.count_ops())),  # counted in Rust: no Python object per instruction
    )


def constructs(qc: QuantumCircuit) -> set[str]:
    """The control-flow instructions a built circuit uses (if_else, for_loop, ...), nested ones too: a device runs
    only those its target lists."""
    from qiskit.circuit import ControlFlowOp

    out: set[str] = set()
    for inst in qc.data:
        if isinstance(inst.operation, ControlFlowOp):
            out.add(inst.operation.name)
            for block in inst.operation.blocks:
                out |= constructs(block)
    return out


def _after_measure(code: str) -> list[str]:
    """The statements after a source's first measurement."""
    found = re.search(_MEASURE, code)
    if found is None:
        return []
    return code[code.find(";", found.start()) + 1 :].split(";")
