"""A device a plan can be made for before its backend object exists: what planning reads of it, and how to build it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from qiskit.providers import BackendV2
    from qiskit.transpiler import CouplingMap, Target


class Deferred:
    """A backend known by what a plan reads of it (its name, width and repetition delay), its object built only when
    something needs more: a transpile, its coupling map or durations, a run. A fake device's object means importing
    qiskit-ibm-runtime, most of a warm `qrun plan`'s time (backends/fake.py, `Fake.deferred`); the transpile cache
    keeps what a plan reads of the device about each ISA circuit (DeviceFacts), so a warm plan never builds it."""

    def __init__(self, name: str, num_qubits: int, default_rep_delay: float | None, build: Callable[[], BackendV2]):
        self.name, self.num_qubits, self.default_rep_delay = name, num_qubits, default_rep_delay
        self._build = build
        self._built: BackendV2 | None = None

    def built(self) -> BackendV2:
        if self._built is None:
            self._built = self._build()
        return self._built

    @property
    def coupling_map(self) -> CouplingMap | None:
        return self.built().coupling_map

    @property
    def target(self) -> Target:
        return self.built().target


def built(backend: BackendV2 | Deferred) -> BackendV2:
    """The backend object itself, built now if it was deferred."""
    return backend.built() if isinstance(backend, Deferred) else backend


class DeviceFacts(TypedDict):
    """What a plan reads of a device about one ISA circuit (planning/devicefacts.py): its scheduled duration in
    seconds (None where the target has no durations), the physical qubits it uses, and the device's coupling map as
    its edges, in the map's own order (None: no map), from which a rehearsal picks a lone qubit's idle neighbour
    (planning/rehearsal.qubits_for), and the instructions it runs where the device's calibration has failed."""

    seconds: float | None
    active: list[int]
    edges: list[tuple[int, int]] | None
    # the circuit's gates and readouts the device reports an error of 0.5 or more for (planning/faulty.py)
    broken: list[tuple[str, list[int], float]]
