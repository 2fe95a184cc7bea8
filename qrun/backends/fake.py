"""The fake-device backend kind: the runtime's fake_<device> backends, simulated locally with their noise, on only
the qubits a job uses (rehearsal)."""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BackendError
from ..model.device import Deferred
from ..model.findings import close_matches
from .kind import BackendInfo, OpenSession

if TYPE_CHECKING:
    from qiskit.providers import BackendV2


class Fake:
    """backend: fake_<device>, e.g. fake_sherbrooke."""

    name = "fake"
    device = True
    remote = False
    rehearsed = True

    def claims(self, name: str) -> bool:
        return name.startswith("fake_")

    def info(self, name: str) -> BackendInfo:
        """Without the runtime installed (a validate-only install, e.g. the pre-commit hook's), a fake device's width
        is unknown and left to the run to check."""
        width = fake_width(name)
        if width is None and runtime_installed():
            fake_backend(name)  # raises the BackendError that names the close matches
        return BackendInfo(name, self.name, width)

    def local(self, name: str, seed: int | None) -> BackendV2:
        return fake_backend(name)

    def open_session(self, backend: BackendV2, mode: str, max_time: int) -> OpenSession:
        from qiskit_ibm_runtime import Batch, Session  # local testing mode: the runtime's own, run in-process

        return (Batch if mode == "batch" else Session)(backend=backend, max_time=max_time)

    def deferred(self, name: str) -> Deferred | None:
        """The device as its configuration file describes it, the runtime's object built when needed; None (the
        object now) where the file is not found as expected."""
        conf = _conf(name)
        if conf is None:
            return None
        try:
            # BackendConfiguration's reading of the file, which the device object's attributes are: microseconds
            rep_delay = conf.get("default_rep_delay")
            delay = None if rep_delay is None else float(rep_delay) * 1e-6
            return Deferred(name, int(conf["n_qubits"]), delay, partial(fake_backend, name))
        except (KeyError, TypeError, ValueError):
            return None


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def fake_names() -> list[str]:
    """Every fake backend name the installed qiskit-ibm-runtime provides, e.g. fake_manila."""
    import qiskit_ibm_runtime.fake_provider as fp

    names = set()
    for attr in dir(fp):
        if attr.startswith("Fake") and attr not in (
            "FakeProviderForBackendV2",
            "FakeBackendV2",
            "FakeFractionalBackend",
        ):
            stem = attr[4:-2] if attr.endswith("V2") else attr[4:]
            if stem and not stem.startswith("Provider"):
                names.add("fake_" + _snake(stem))
    return sorted(names)


@cache
def fake_backend(name: str) -> BackendV2:
    """The fake backend object called `name`, e.g. fake_manila -> FakeManilaV2(), made once a process: its
    calibration is the package's own files, which do not change, and reading them into a device's target is most of
    a plan's own time on a 127- or 156-qubit device. Nothing in qrun or the runtime's local mode changes the object
    (a run simulates a subset device, or an AerSimulator built from it), so a process's specs and points share it."""
    import qiskit_ibm_runtime.fake_provider as fp

    stem = _camel(name[len("fake_") :])
    for attr in (f"Fake{stem}V2", f"Fake{stem}"):
        cls = getattr(fp, attr, None)
        if cls is not None:
            backend = cls()
            if getattr(backend, "name", name) == name:
                return backend
    known = fake_names()
    close = close_matches(name, known, n=3)
    hint = (
        f"did you mean {' or '.join(close)}?"
        if close
        else f"{len(known)} are installed, e.g. fake_manila, fake_sherbrooke"
    )
    raise BackendError(f"unknown fake backend {name!r}; {hint}")


def runtime_installed() -> bool:
    return importlib.util.find_spec("qiskit_ibm_runtime") is not None


def fake_width(name: str) -> int | None:
    """A fake device's qubit count, read from the runtime package's own configuration file without importing it."""
    conf = _conf(name)
    try:
        return None if conf is None else int(conf["n_qubits"])
    except (KeyError, TypeError, ValueError):
        return None


def _conf(name: str) -> dict[str, Any] | None:
    """A fake device's configuration file as the runtime package ships it, read without importing the package."""
    spec = importlib.util.find_spec("qiskit_ibm_runtime")  # locates the package; does not run it
    if spec is None or not spec.submodule_search_locations:
        return None
    stem = name[len("fake_") :]
    path = Path(spec.submodule_search_locations[0]) / "fake_provider" / "backends" / stem / f"conf_{stem}.json"
    try:
        conf = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return conf if isinstance(conf, dict) else None
