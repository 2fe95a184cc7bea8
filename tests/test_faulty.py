"""A gate or readout the device reports as broken (error 1, as FakeSherbrooke's ecr on qubits 6-5 and 7-6) is named
before anything runs: at optimization level 1 the transpiler keeps the trivial layout that fits, over them."""

from __future__ import annotations

import json

import pytest
from fake_runtime import Cloud, install

from qrun.planning import faulty

GHZ = """version: 1
name: chain
backend: BACKEND
max_time: 30m
options: {seed: 5, default_precision: 0.03, optimization_level: LEVEL, resilience_level: 0}
circuits:
  ghz:
    qasm: |
      OPENQASM 3.0;
      include "stdgates.inc";
      qubit[8] q;
      h q[0];
      for int i in [0:6] { cx q[i], q[i + 1]; }
observables:
  z-ends: Z0 Z7
jobs:
  - {name: ends, primitive: estimator, circuit: ghz, observables: [z-ends], estimate: 10s}
  - {name: again, primitive: estimator, circuit: ghz, observables: [z-ends], estimate: 10s}
"""
WARNING = (
    "warning: jobs[0] (ends), jobs[1] (again): the ISA circuit runs what BACKEND reports as broken (error 0.5 or "
    "more): ecr on qubits 6, 5 (error 1); ecr on qubits 7, 6 (error 1); its values would be noise. "
    "optimization_level 2 or 3 lays a circuit out by the device's errors (level 0 or 1 keeps a layout that fits), "
    "or a circuit's layout: names its qubits (qrun qubits SPEC lists the best chains)\n"
)


def _spec(tmp_path, backend: str, level: int):
    path = tmp_path / f"{backend}-{level}.yaml"
    path.write_text(GHZ.replace("BACKEND", backend).replace("LEVEL", str(level)))
    return path


def test_a_fake_devices_broken_gates_are_named_by_plan_cold_and_warm_and_by_json(qrun, tmp_path):
    spec = _spec(tmp_path, "fake_sherbrooke", 1)
    cold = qrun("plan", spec)
    warm = qrun("plan", spec)  # from the transpile cache's device facts, without building the device
    assert (cold.code, warm.code) == (0, 0)
    assert cold.err == warm.err == WARNING.replace("BACKEND", "fake_sherbrooke")
    rows = json.loads(qrun("plan", spec, "--json").out)["jobs"]
    assert [r["broken"] for r in rows] == [[["ecr", [6, 5], 1.0], ["ecr", [7, 6], 1.0]]] * 2
    # a noise-aware layout avoids them, and nothing is said
    assert qrun("plan", _spec(tmp_path, "fake_sherbrooke", 2)).err == ""


def test_the_values_it_warns_about_are_noise_and_level_2s_are_not(tmp_path):
    """What the warning is for: <Z0 Z7> of a GHZ chain is 1; across a broken gate it is about 0."""
    from qrun.app.pipeline import run

    found = {}
    for level in (1, 2):
        run_dir = run(_spec(tmp_path, "fake_sherbrooke", level), tmp_path / str(level), progress="none")
        found[level] = json.loads((run_dir / "jobs" / "00-ends.json").read_text())["observables"]["z-ends"]
    assert abs(found[1]["values"][0]) < 5 * found[1]["stderrs"][0]
    assert found[2]["values"][0] > 0.8


def test_a_service_devices_broken_gates_are_named_before_its_jobs_go_out(monkeypatch, qrun, tmp_path):
    from qiskit_ibm_runtime.fake_provider import FakeSherbrooke

    cloud = Cloud({"ibm_sherbrooke": FakeSherbrooke()}, queue_seconds=2.0, job_seconds=1.0)
    install(monkeypatch, cloud)
    qrun.clock = cloud.clock
    result = qrun(_spec(tmp_path, "ibm_sherbrooke", 1), "--out", tmp_path / "results", "-q")
    assert result.code == 0, result.err
    assert result.err.startswith(WARNING.replace("BACKEND", "ibm_sherbrooke"))


def test_broken_reads_readouts_too_and_each_gate_once():
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import CXGate, Measure
    from qiskit.transpiler import InstructionProperties, Target

    target = Target(num_qubits=2)
    target.add_instruction(
        CXGate(), {(0, 1): InstructionProperties(error=0.6), (1, 0): InstructionProperties(error=0.01)}
    )
    target.add_instruction(Measure(), {(0,): InstructionProperties(error=0.02), (1,): InstructionProperties(error=1.0)})
    qc = QuantumCircuit(2, 2)
    qc.cx(0, 1), qc.cx(0, 1), qc.cx(1, 0)
    qc.measure([0, 1], [0, 1])
    assert faulty.broken(qc, target) == [("cx", [0, 1], 0.6), ("measure", [1], 1.0)]


@pytest.mark.parametrize("value", [["cx", [0, 1], 0.6], ["measure", [1], 1]])
def test_a_cached_entry_is_read_back_only_in_the_shape_it_is_written(value):
    assert faulty.entry(value)
    assert not faulty.entry(value[:2]) and not faulty.entry([value[0], [-1], value[2]])
