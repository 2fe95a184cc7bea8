"""What a plan reads of a device about one ISA circuit, worked out once and kept in the transpile cache beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backends
from ..model.device import Deferred, DeviceFacts, built
from . import cache

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
    active = backends.active_qubits(isa)
    coupling = device.coupling_map
    used = set(active)
    coupled = coupling is not None and any(a in used and b in used for a, b in coupling.get_edges())
    return {"seconds": seconds_on(isa, device), "active": active, "coupled": coupled}


def load(folder: Path, hex_key: str) -> DeviceFacts | None:
    """An entry's facts, or None when absent or not what this module writes (then they are worked out again)."""
    data = cache.read_json(folder / f"{hex_key}.device.json")
    if not isinstance(data, dict) or set(data) != {"seconds", "active", "coupled"}:
        return None
    seconds, active, coupled = data["seconds"], data["active"], data["coupled"]
    if seconds is not None and (type(seconds) not in (int, float) or seconds < 0):
        return None
    if not isinstance(active, list) or not all(type(q) is int and q >= 0 for q in active) or type(coupled) is not bool:
        return None
    return {"seconds": None if seconds is None else float(seconds), "active": active, "coupled": coupled}


def kept(folder: Path, hex_key: str, isa: QuantumCircuit, backend: BackendV2 | Deferred) -> DeviceFacts:
    """The entry's facts from the cache, else worked out and kept there (a cache that cannot be written only costs
    speed)."""
    facts = load(folder, hex_key)
    if facts is None:
        facts = of(isa, backend)
        cache.write_json(folder / f"{hex_key}.device.json", facts)
    return facts
