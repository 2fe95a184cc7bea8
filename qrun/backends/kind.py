"""What a backend kind is: the protocol each file in backends/ implements, and the name facts validation needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from qiskit.providers import BackendV2

    from ..model.device import Deferred


@dataclass(frozen=True)
class BackendInfo:
    """How qrun treats a backend name: which kind of engine, and how many qubits when known without a network."""

    name: str
    kind: str  # a BackendKind's name: "aer" | "fake" | "service"
    num_qubits: int | None
    # num_qubits is a state vector's (aer's): a Clifford circuit that Aer's stabilizer method runs may be wider
    clifford_wider: bool = False


class OpenSession(Protocol):
    """A session or batch as a backend kind opens it: the runtime's Session or Batch (the primitives' `mode`), or
    an aer run's LocalSession."""

    @property
    def session_id(self) -> str | None: ...

    def close(self) -> None: ...


class BackendKind(Protocol):
    """A kind of backend. Its traits are what the rest of qrun asks of it, instead of comparing kind names:

    device: the backend is a device (real or fake) with a target: ISA circuits for its gates, a QPU-time model,
        charged seconds, an estimate floor, and dry runs and costs in `qrun plan`.
    remote: jobs go to a service over the network: the journal is fsynced (a job id is what prevents paying
        twice), sessions have details, blocks, deadlines and usage, chunks and batches are kept small.
    rehearsed: a local simulation of a device on only the qubits a job uses, with their own noise.
    """

    name: str
    device: bool
    remote: bool
    rehearsed: bool

    def claims(self, name: str) -> bool:
        """Whether a spec's `backend:` name is of this kind (asked in registry order; the service takes the rest)."""
        ...

    def info(self, name: str) -> BackendInfo:
        """Kind and width for validation: no network and no qiskit import; BackendError for a name that is none."""
        ...

    def local(self, name: str, seed: int | None) -> BackendV2:
        """The backend object, for a local kind; a remote one is resolved by connecting (backends/service.py)."""
        ...

    def open_session(self, backend: BackendV2, mode: str, max_time: int) -> OpenSession:
        """A session (or batch) for a block of jobs, with session_id and close()."""
        ...

    def deferred(self, name: str) -> Deferred | None:
        """What `qrun plan` may hold in place of the backend object until something needs the object itself
        (model.device.Deferred), where building it is slow; None: the object, as a run needs it."""
        ...
