"""The IBM Quantum service backend kind: any other name is a device of the service (or least_busy), reached through
qiskit-ibm-runtime (backends/service.py holds every call to it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import BackendError
from ..model.findings import close_matches
from .aer import AER_NAMES
from .kind import BackendInfo, OpenSession

if TYPE_CHECKING:
    from qiskit.providers import BackendV2

    from ..model.device import Deferred


class Service:
    """backend: ibm_<device>, or least_busy."""

    name = "service"
    device = True
    remote = True
    rehearsed = False

    def claims(self, name: str) -> bool:
        return True  # asked last: whatever no local kind claims

    def info(self, name: str) -> BackendInfo:
        # any other name is a device of the service, checked when it connects; one that reads like a typo of a
        # local name (aer_simulatr, least_bussy) is refused now, before it goes looking for a device of that name
        close = close_matches(name.lower(), [*sorted(AER_NAMES), "least_busy"], cutoff=0.8)
        if close and close[0] != name and not name.startswith("ibm_"):
            raise BackendError(f"unknown backend {name!r}; did you mean {close[0]}?")
        return BackendInfo(name, self.name, None)

    def local(self, name: str, seed: int | None) -> BackendV2:
        raise BackendError(f"{name!r} is not a local backend")

    def open_session(self, backend: BackendV2, mode: str, max_time: int) -> OpenSession:
        from qiskit_ibm_runtime import Batch, Session

        return (Batch if mode == "batch" else Session)(backend=backend, max_time=max_time)

    def deferred(self, name: str) -> Deferred | None:
        return None  # a device of the service is looked up by connecting, before the plan
