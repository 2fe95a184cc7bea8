"""The on-disk transpile cache: ISA circuits keyed by everything that decides them, checked before being trusted."""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backends.registry import traits
from ..errors import RunFolderError
from ..store import runfolder
from ..store.fsio import atomic_write, atomic_write_bytes
from ..store.provenance import package_version as version

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.providers import BackendV2

    from ..model.device import Deferred


CACHE_ENV = "QRUN_CACHE_DIR"
# 2: an aer circuit's controlled gates with parameters are replaced by their definitions (backends.aer.bindable)
FORMAT = 2


def cache_dir() -> Path:
    """$QRUN_CACHE_DIR, else $XDG_CACHE_HOME/qrun/transpile, else ~/.cache/qrun/transpile."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "qrun" / "transpile"


def facts_dir() -> Path:
    """Where `qrun validate` keeps what building each circuit source found: a `facts` folder in the cache."""
    return cache_dir() / "facts"


MAX_QPY_BYTES = 1024 * 1024 * 1024  # an ISA circuit of millions of gates
MAX_ENTRY_BYTES = 16 * 1024 * 1024  # a facts or parts entry is a few hundred bytes; a shape is two numbers


def read_json(path: Path) -> Any:
    """A cache entry, or None when it is missing, unreadable, or not a regular file (a FIFO must not block a read):
    a cache is never trusted over a rebuild."""
    try:
        data = runfolder.read_bytes(path.parent, path.name, MAX_ENTRY_BYTES, missing_ok=True)
        return None if data is None else json.loads(data)
    except (RunFolderError, ValueError, RecursionError):
        return None


def write_json(path: Path, data: object) -> None:
    """Store a cache entry; a cache that cannot be written is only slower, never an error."""
    try:
        atomic_write(path, json.dumps(data, sort_keys=True))
    except OSError:
        pass


def target_fingerprint(backend: BackendV2 | Deferred, kind: str) -> str:
    """What decides the transpiler's view of the backend.

    A fake device is fixed by its name and the runtime package that ships its files (building its target just to
    hash it cost more than the transpilation it saves). A service device's calibrations change, so its fingerprint is
    every instruction's qubits, duration and error: what noise-aware layout reads.
    """

    if not traits(kind).device:  # Aer's own target: its gates are the package's
        return f"aer:qiskit-aer {version('qiskit-aer')}"
    if traits(kind).rehearsed:
        return f"{backend.name}:qiskit-ibm-runtime {version('qiskit-ibm-runtime')}"
    target = backend.target
    items = sorted(
        (name, tuple(q) if q else (), getattr(p, "duration", None), getattr(p, "error", None))
        for name in target.operation_names
        for q, p in (target[name] or {}).items()
    )
    return f"{getattr(backend, 'name', '?')}:{target.num_qubits}:{hashlib.sha256(repr(items).encode()).hexdigest()}"


def key(
    circuit: QuantumCircuit,
    backend: BackendV2 | Deferred,
    kind: str,
    level: int,
    seed: int | None,
    layout: tuple[int, ...] | None = None,
) -> tuple[str, dict[str, object]]:
    """(hex key, the parts it was made from): circuit QPY bytes, backend and target, level, seed, qiskit version, and
    the initial layout where the spec gives one (a circuit without keeps the key it had before layouts)."""
    import qiskit
    from qiskit import qpy

    buffer = io.BytesIO()
    qpy.dump(canonical(circuit), buffer)
    parts = {
        "format": FORMAT,
        "circuit": hashlib.sha256(buffer.getvalue()).hexdigest(),
        "target": target_fingerprint(backend, kind),
        "optimization_level": level,
        "seed": seed,
        "qiskit": qiskit.__version__,
    }
    if layout:
        parts["layout"] = list(layout)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest(), parts


def canonical(circuit: QuantumCircuit) -> QuantumCircuit:
    """The circuit as QPY should see it for a key: parameters carry random UUIDs and circuits counter-based names,
    so two builds of the same circuit would never match; give each parameter a UUID from its name, and one name."""

    from qiskit.circuit import Parameter

    same = circuit.assign_parameters(
        {p: Parameter(p.name, uuid=uuid.uuid5(uuid.NAMESPACE_OID, p.name)) for p in circuit.parameters}, inplace=False
    )
    same.name, same.metadata = "qrun", {}
    return same


def load(folder: Path, hex_key: str, parts: dict[str, object], circuit: QuantumCircuit) -> QuantumCircuit | None:
    """The cached ISA circuit, or None when absent, unreadable, or not what the key says (never trusted blindly)."""
    from qiskit import qpy

    entry = folder / f"{hex_key}.qpy"
    meta = folder / f"{hex_key}.json"
    if read_json(meta) != parts:
        return None
    try:
        data = runfolder.read_bytes(folder, entry.name, MAX_QPY_BYTES)
        assert data is not None
        (isa,) = qpy.load(io.BytesIO(data))
    except Exception:  # missing, truncated, corrupt, or written by another qiskit: transpile afresh
        return None
    if sorted(p.name for p in isa.parameters) != sorted(p.name for p in circuit.parameters):
        return None  # not a transpilation of this circuit, whatever the key says
    return isa


def store(folder: Path, hex_key: str, parts: dict[str, object], isa: QuantumCircuit) -> None:
    """Write an entry atomically; a cache that cannot be written only costs speed."""
    from qiskit import qpy

    buffer = io.BytesIO()
    qpy.dump(isa, buffer)
    try:
        atomic_write_bytes(folder / f"{hex_key}.qpy", buffer.getvalue())
        atomic_write(folder / f"{hex_key}.json", json.dumps(parts, sort_keys=True))
    except OSError:
        pass


def load_facts(folder: Path, hex_key: str) -> tuple[int, int] | None:
    """What plan computed once about an entry's circuit (its shape: two non-negative ints), or None."""
    shape = read_json(folder / f"{hex_key}.facts.json")
    if isinstance(shape, list) and len(shape) == 2 and all(type(n) is int and n >= 0 for n in shape):
        return shape[0], shape[1]
    return None


def store_facts(folder: Path, hex_key: str, facts: list[int]) -> None:
    """Keep what plan computed about an entry's circuit beside it; a cache that cannot be written only costs speed."""
    try:
        atomic_write(folder / f"{hex_key}.facts.json", json.dumps(facts))
    except OSError:
        pass
