"""What a plan reads of a device about one ISA circuit, worked out once and kept in the transpile cache beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backends
from ..model.device import Deferred, DeviceFacts, built
from . import cache, faulty

if TYPE_CHECKING:
    from pathlib import Path

    from qiskit import QuantumCircuit
    from qiskit.providers import BackendV2


def seconds_on(isa: QuantumCircuit, backend: BackendV2 | Deferred) -> float | None:
    """The ISA circuit's scheduled duration on the device's target, or None where the target has no durations."""
    try:
        return float(isa.estimate_duration(backend.target, unit="s"))
    except Exception:  # no durations in the target: the estimate model's documented fallback applies
        return None


def of(isa: QuantumCircuit, backend: BackendV2 | Deferred) -> DeviceFacts:
    """The facts, read off the device itself (built now if it was deferred)."""
    device = built(backend)
    return {
        "seconds": seconds_on(isa, device),
        "active": backends.active_qubits(isa),
        "edges": edges_of(device),
        "broken": faulty.broken(isa, device.target),
    }


def edges_of(backend: BackendV2 | Deferred) -> list[tuple[int, int]] | None:
    """The device's coupling map as its edges, in the map's own order; None where it has no map."""
    coupling = backend.coupling_map
    return None if coupling is None else [(int(a), int(b)) for a, b in coupling.get_edges()]


def load(folder: Path, hex_key: str) -> DeviceFacts | None:
    """An entry's facts, or None when absent or not what this module writes (then they are worked out again)."""
    data = cache.read_json(folder / f"{hex_key}.device.json")
    if not isinstance(data, dict) or set(data) != {"seconds", "active", "edges", "broken"}:
        return None
    seconds, active, edges, broken = data["seconds"], data["active"], data["edges"], data["broken"]
    if seconds is not None and (type(seconds) not in (int, float) or seconds < 0):
        return None
    if not isinstance(active, list) or not all(type(q) is int and q >= 0 for q in active):
        return None
    if edges is not None and not (isinstance(edges, list) and all(_pair(e) for e in edges)):
        return None
    if not isinstance(broken, list) or not all(faulty.entry(b) for b in broken):
        return None
    return {
        "seconds": None if seconds is None else float(seconds),
        "active": active,
        "edges": None if edges is None else [(a, b) for a, b in edges],
        "broken": [(name, qubits, float(error)) for name, qubits, error in broken],
    }


def _pair(edge: object) -> bool:
    return isinstance(edge, list) and len(edge) == 2 and all(type(q) is int and q >= 0 for q in edge)


def kept(folder: Path, hex_key: str, isa: QuantumCircuit, backend: BackendV2 | Deferred) -> DeviceFacts:
    """The entry's facts from the cache, else worked out and kept there (a cache that cannot be written only costs
    speed)."""
    facts = load(folder, hex_key)
    if facts is None:
        facts = of(isa, backend)
        cache.write_json(folder / f"{hex_key}.device.json", facts)
    return facts
