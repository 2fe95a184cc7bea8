"""Backend kinds are plug-ins: a kind is one class in backends/ that the registry asks, in order, which names it
claims; everything else asks the kind's traits (device, remote, rehearsed), never its name."""

from __future__ import annotations

import json
from typing import Any

from qrun.backends import registry
from qrun.backends.aer import Aer
from qrun.backends.kind import BackendInfo

SPEC = """version: 1
name: plug
backend: BACKEND
max_time: 10m
options: {seed: 5, default_precision: 0.001}
circuits:
  ghz: {qasm: 'OPENQASM 3.0; include "stdgates.inc"; qubit[3] q; h q[0]; cx q[0], q[1]; cx q[1], q[2];'}
observables:
  zzi: ZZI
  xxx: XXX
jobs:
  - {name: energy, primitive: estimator, circuit: ghz, observables: [zzi, xxx]}
"""


class Small(Aer):
    """A kind a newcomer might add: Aer's simulator limited to a few qubits, under names small_<n>."""

    name = "small"

    def claims(self, name: str) -> bool:
        return name.startswith("small_")

    def info(self, name: str) -> BackendInfo:
        return BackendInfo(name, self.name, int(name.removeprefix("small_")))

    def local(self, name: str, seed: int | None) -> Any:
        from qiskit_aer import AerSimulator

        return AerSimulator(method="statevector", seed_simulator=seed)


def test_a_registered_kind_validates_plans_and_runs_through_its_traits(qrun, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "KINDS", [Small(), *registry.KINDS])
    spec = tmp_path / "plug.yaml"
    spec.write_text(SPEC.replace("BACKEND", "small_2"))
    too_narrow = qrun("validate", spec)
    assert too_narrow.code == 2
    assert "circuit 'ghz' needs 3 qubits but backend small_2 has 2" in too_narrow.err
    spec.write_text(SPEC.replace("BACKEND", "small_4"))
    result = qrun(spec, "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    run = tmp_path / result.out.strip()
    body = json.loads((run / "jobs" / "00-energy.json").read_text())
    # <ZZI> = <XXX> = 1 on a GHZ state, within 5σ at precision 0.001
    assert all(abs(body["observables"][o]["values"][0] - 1.0) < 0.005 for o in ("zzi", "xxx"))
    meta = json.loads((run / "metadata.json").read_text())
    assert meta["jobs"][0]["engine"] == "aer-primitives" and meta["session"]["backend"] == "small_4"
