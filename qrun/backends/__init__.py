"""Backend names to backend objects: fake_<device> and aer run locally; other names belong to the IBM Quantum service."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from ..errors import BackendError

AER = "aer"
IBM_BASIS = ["rz", "sx", "x", "cx"]


@dataclass(frozen=True)
class BackendInfo:
    """How qrun treats a backend name: which kind of engine, and how many qubits when known without a network."""

    name: str
    kind: str  # "fake" | "aer" | "service"
    num_qubits: int | None


# What people call Aer's simulator: qiskit's class name, its backend's own name, and qrun's.
AER_NAMES = frozenset({"aer", "aer_simulator", "aersimulator", "qasm_simulator"})


def kind_of(name: str) -> str:
    if name == AER or name.lower().replace("-", "_") in AER_NAMES:
        return "aer"
    if name.startswith("fake_"):
        return "fake"
    return "service"


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


def fake_backend(name: str) -> Any:
    """The fake backend object called `name`, e.g. fake_manila -> FakeManilaV2()."""
    import qiskit_ibm_runtime.fake_provider as fp

    stem = _camel(name[len("fake_") :])
    for attr in (f"Fake{stem}V2", f"Fake{stem}"):
        cls = getattr(fp, attr, None)
        if cls is not None:
            backend = cls()
            if getattr(backend, "name", name) == name:
                return backend
    known = fake_names()
    close = difflib.get_close_matches(name, known, n=3)
    hint = (
        f"did you mean {' or '.join(close)}?"
        if close
        else f"{len(known)} are installed, e.g. fake_manila, fake_sherbrooke"
    )
    raise BackendError(f"unknown fake backend {name!r}; {hint}")


def aer_backend(seed: int | None = None) -> Any:
    from qiskit_aer import AerSimulator

    return AerSimulator(seed_simulator=seed) if seed is not None else AerSimulator()


def local_backend(name: str, seed: int | None = None) -> Any:
    """The local backend object for `name`; service names are resolved by the execute stage."""
    kind = kind_of(name)
    if kind == "aer":
        return aer_backend(seed)
    if kind == "fake":
        return fake_backend(name)
    raise BackendError(f"{name!r} is not a local backend")


def info(name: str) -> BackendInfo:
    """Kind and width of a backend, for validation: no network, and no qiskit import (see fake_width, aer_width).

    Without the runtime installed (a validate-only install, e.g. the pre-commit hook's), a fake device's width is
    unknown and left to the run to check."""
    kind = kind_of(name)
    if kind == "service":
        import difflib

        # any other name is a device of the service, checked when it connects; one that reads like a typo of a
        # local name (aer_simulatr, least_bussy) is refused now, before it goes looking for a device of that name
        close = difflib.get_close_matches(name.lower(), [*sorted(AER_NAMES), "least_busy"], n=1, cutoff=0.8)
        if close and close[0] != name and not name.startswith("ibm_"):
            raise BackendError(f"unknown backend {name!r}; did you mean {close[0]}?")
        return BackendInfo(name, kind, None)
    if kind == "aer":
        return BackendInfo(name, kind, aer_width())
    width = fake_width(name)
    if width is None and runtime_installed():
        fake_backend(name)  # raises the BackendError that names the close matches
    return BackendInfo(name, kind, width)


def runtime_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("qiskit_ibm_runtime") is not None


def fake_width(name: str) -> int | None:
    """A fake device's qubit count, read from the runtime package's own configuration file without importing it."""
    import importlib.util
    import json
    from pathlib import Path

    spec = importlib.util.find_spec("qiskit_ibm_runtime")  # locates the package; does not run it
    if spec is None or not spec.submodule_search_locations:
        return None
    stem = name[len("fake_") :]
    conf = Path(spec.submodule_search_locations[0]) / "fake_provider" / "backends" / stem / f"conf_{stem}.json"
    try:
        return int(json.loads(conf.read_text(encoding="utf-8"))["n_qubits"])
    except (OSError, ValueError, KeyError):
        return None


def aer_width() -> int:
    """The most qubits AerSimulator's statevector takes on this machine: log2(memory / 16 bytes), as Aer reckons."""
    import math
    import os

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(math.log2(memory / 16))


# Pulse-level entries of a device configuration: they name qubits by channel, and no simulation reads them.
_PULSE_KEYS = (
    "channels",
    "u_channel_lo",
    "hamiltonian",
    "qubit_lo_range",
    "meas_lo_range",
    "meas_kernels",
    "discriminators",
    "qubit_channel_mapping",
    "n_uchannels",
    "coords",
)


def subset_device(parent: Any, qubits: list[int]) -> Any:
    """A fake device made of `qubits` of `parent` (renumbered 0..k-1), with exactly their calibration and noise.

    Every noise process of the runtime's fake devices (gate errors, readout, T1/T2 relaxation) is local to the
    qubits it names, so the subset device simulates those qubits exactly as the whole device would, at the cost
    of k qubits instead of 127 or 156.
    """
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    index = {q: i for i, q in enumerate(qubits)}
    conf = {k: v for k, v in parent._conf_dict.items() if k not in _PULSE_KEYS}
    conf["n_qubits"] = len(qubits)
    conf["coupling_map"] = [
        [index[a], index[b]] for a, b in conf.get("coupling_map") or [] if a in index and b in index
    ]
    conf["meas_map"] = [[index[q] for q in group if q in index] for group in conf.get("meas_map") or []]
    conf["meas_map"] = [g for g in conf["meas_map"] if g]
    gates = []
    for gate in conf.get("gates") or []:
        cmap = [[index[q] for q in qs] for qs in gate.get("coupling_map") or [] if all(q in index for q in qs)]
        if cmap or not gate.get("coupling_map"):
            gates.append({**gate, "coupling_map": cmap} if gate.get("coupling_map") else gate)
    conf["gates"] = gates
    if parent._props_dict is None:
        parent._set_props_dict_from_json()
    props = dict(parent._props_dict)
    props["qubits"] = [props["qubits"][q] for q in qubits]
    props["gates"] = [
        {**g, "qubits": [index[q] for q in g["qubits"]]} for g in props["gates"] if all(q in index for q in g["qubits"])
    ]
    props["general_qlists"] = []

    class SubsetDevice(FakeBackendV2):
        conf_filename = props_filename = ""

        def _get_conf_dict_from_json(self) -> dict:
            return conf

        def _set_props_dict_from_json(self) -> None:
            self._props_dict = props

    return SubsetDevice()


def active_qubits(isa: Any) -> list[int]:
    """The physical qubits an ISA circuit uses: its laid-out virtual qubits and every qubit an instruction touches."""
    from qiskit.converters import circuit_to_dag

    # the DAG knows its idle wires without a Python pass over every instruction
    dag = circuit_to_dag(isa, copy_operations=False)
    idle = set(dag.idle_wires(ignore=["barrier"]))
    used = {i for i, q in enumerate(dag.qubits) if q not in idle}
    layout = getattr(isa, "layout", None)
    if layout is not None:
        # An idle virtual qubit still carries its part of an observable, so it is part of the experiment.
        used |= set(layout.initial_index_layout(filter_ancillas=True))
    return sorted(used)
