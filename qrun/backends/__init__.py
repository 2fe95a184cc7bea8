"""Backends: names to kinds (backends/registry.py, one file per kind), and the device helpers rehearsal and planning
share: a device cut down to some of its qubits, and the qubits an ISA circuit uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .aer import AER_NAMES, aer_backend, aer_width, stabilizer_runs, tableau_shape
from .fake import fake_backend, fake_names, fake_width, runtime_installed
from .kind import BackendInfo
from .registry import kind_for, traits

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.providers import BackendV2

__all__ = [
    "AER_NAMES",
    "BackendInfo",
    "active_qubits",
    "aer_backend",
    "aer_width",
    "fake_backend",
    "fake_names",
    "fake_width",
    "info",
    "kind_for",
    "kind_of",
    "local_backend",
    "runtime_installed",
    "stabilizer_runs",
    "tableau_shape",
    "subset_device",
    "traits",
]


def kind_of(name: str) -> str:
    """The name of the kind of backend a spec names: aer, fake or service."""
    return kind_for(name).name


def info(name: str) -> BackendInfo:
    """Kind and width of a backend, for validation: no network, and no qiskit import."""
    return kind_for(name).info(name)


def local_backend(name: str, seed: int | None = None) -> BackendV2:
    """The local backend object for `name`; service names are resolved by connecting."""
    return kind_for(name).local(name, seed)


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


def subset_device(parent: BackendV2, qubits: list[int]) -> BackendV2:
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


def active_qubits(isa: QuantumCircuit) -> list[int]:
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
