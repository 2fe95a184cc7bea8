"""`qrun plan` of a fake device from a warm transpile cache never builds the device: the plan is the same."""

import json
import os
import subprocess
import sys

import pytest

from qrun import backends
from qrun.app.prepare import prepare
from qrun.backends.fake import Fake
from qrun.model.device import Deferred
from qrun.planning import cache, devicefacts, rehearsal

SPEC = """version: 1
name: deferred
backend: DEVICE
max_time: 1h
options: {optimization_level: 1, seed: 5}
circuits:
  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[3] q; h q[0]; cx q[0], q[1]; rz(0.3) q[2];"}
  lone: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; x q[0];"}
observables:
  zz: ZZI
  z: Z
jobs:
  - {name: e, primitive: estimator, circuit: bell, observables: [zz], precision: 0.05}
  - {name: s, primitive: sampler, circuit: bell, measure_all: true, shots: 200}
  - {name: idle, primitive: estimator, circuit: lone, observables: [z], precision: 0.05}
"""

DEVICES = ["fake_sherbrooke", pytest.param("fake_fez", marks=pytest.mark.slow)]
DEFERRED = Fake.deferred  # the kind's own, kept: a test below stands another in its place


def _never_built(name: str) -> Deferred:
    def refuse():
        raise AssertionError(f"{name} was built")

    real = DEFERRED(Fake(), name)
    assert real is not None
    return Deferred(real.name, real.num_qubits, real.default_rep_delay, refuse)


@pytest.mark.parametrize("name", ["fake_sherbrooke", "fake_fez", "fake_manila"])
def test_a_deferred_fake_device_reads_as_the_device_object_and_builds_it_once(name):
    deferred = Fake().deferred(name)
    real = backends.fake_backend(name)
    assert isinstance(deferred, Deferred)
    assert (deferred.name, deferred.num_qubits, deferred.default_rep_delay) == (
        real.name,
        real.num_qubits,
        real.default_rep_delay,
    )
    assert deferred.built() is deferred.built() and deferred.built().name == name
    assert sorted(deferred.coupling_map.get_edges()) == sorted(real.coupling_map.get_edges())


def test_an_unknown_fake_device_is_not_deferred():
    assert Fake().deferred("fake_nowhere") is None


@pytest.mark.parametrize("name", DEVICES)
def test_a_warm_plan_of_a_deferred_device_equals_the_plan_made_on_the_device_itself(name, write_spec):
    spec = write_spec(SPEC.replace("DEVICE", name))
    on_device = prepare(spec, out="/nonexistent", use_cache=False).planned  # no cache, no kept facts: the device
    cold = prepare(spec, out="/nonexistent", defer_device=True).planned
    assert isinstance(cold.backend, Deferred)
    warm = prepare(spec, out="/nonexistent", defer_device=True).planned
    for plan in (cold, warm):
        for mine, theirs in zip(plan.jobs, on_device.jobs, strict=True):
            assert (mine.estimate, mine.qpu_seconds, mine.simulated_qubits, mine.stats) == (
                theirs.estimate,
                theirs.qpu_seconds,
                theirs.simulated_qubits,
                theirs.stats,
            )
    # a lone qubit has no coupled pair: its rehearsal takes an idle neighbour, as it did
    idle = on_device.jobs[2].simulated_qubits
    assert idle is not None and len(idle) == 2
    assert {*idle} in [{*edge} for edge in backends.fake_backend(name).coupling_map.get_edges()]


def test_the_warm_plan_itself_never_builds_the_device(write_spec, monkeypatch):
    spec = write_spec(SPEC.replace("DEVICE", "fake_sherbrooke"))
    cold = prepare(spec, out="/nonexistent", defer_device=True).planned
    monkeypatch.setattr(Fake, "deferred", lambda self, name: _never_built(name))
    warm = prepare(spec, out="/nonexistent", defer_device=True).planned
    assert [j.estimate for j in warm.jobs] == [j.estimate for j in cold.jobs]
    assert [j.simulated_qubits for j in warm.jobs] == [j.simulated_qubits for j in cold.jobs]
    with pytest.raises(AssertionError, match="fake_sherbrooke was built"):
        _ = warm.device  # running would need it: then it is built


def test_qrun_plan_from_a_warm_cache_imports_no_runtime_and_prints_the_cold_plan(write_spec, tmp_path):
    spec = write_spec(SPEC.replace("DEVICE", "fake_sherbrooke"))
    probe = (
        "import sys; from qrun.cli import main\n"
        "code = main(['plan', '--json', sys.argv[1]])\n"
        "print('runtime imported:', 'qiskit_ibm_runtime' in sys.modules, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )

    def plan() -> tuple[dict, str]:
        done = subprocess.run(
            [sys.executable, "-c", probe, str(spec)], capture_output=True, text=True, env=os.environ, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout), done.stderr.strip().splitlines()[-1]

    cold, cold_said = plan()
    warm, warm_said = plan()
    assert (cold_said, warm_said) == ("runtime imported: True", "runtime imported: False")
    assert warm == cold


def test_a_rehearsal_reads_the_kept_facts_and_never_the_device():
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp
    from qiskit.transpiler import generate_preset_pass_manager

    device = backends.fake_backend("fake_sherbrooke")
    never = _never_built("fake_sherbrooke")
    pm = generate_preset_pass_manager(optimization_level=1, backend=device, seed_transpiler=3)
    pair = QuantumCircuit(3)
    pair.h(0)
    pair.cx(0, 1)
    lone = QuantumCircuit(1)
    lone.x(0)
    for qc, terms in ((pair, "ZZI"), (lone, "Z")):
        isa = pm.run(qc)
        ops = [("o", SparsePauliOp(terms).apply_layout(isa.layout))]
        facts = devicefacts.of(isa, device)
        assert facts["active"] == backends.active_qubits(isa)
        assert facts["edges"] == [tuple(e) for e in device.coupling_map.get_edges()]
        assert rehearsal.qubits_for(isa, ops, never, facts) == rehearsal.qubits_for(isa, ops, device)
    # the lone qubit's rehearsal took an idle neighbour from the kept edges
    simulated = rehearsal.qubits_for(isa, ops, never, facts)
    assert len(simulated) == 2 and {*simulated} in [{*e} for e in device.coupling_map.get_edges()]


@pytest.mark.parametrize(
    "damage",
    [
        "{}",
        "not json",
        '{"seconds": -1.0, "active": [1], "edges": [[0, 1]]}',
        '{"seconds": 1.0, "active": ["x"], "edges": [[0, 1]]}',
        '{"seconds": "1", "active": [1], "edges": [[0, 1]]}',
        '{"seconds": 1.0, "active": [1], "edges": [[0]]}',
        '{"seconds": 1.0, "active": [1], "edges": [[0, -1]]}',
        '{"seconds": 1.0, "active": [1], "edges": 3}',
        '{"seconds": 1.0, "active": [1], "edges": [[0, 1]], "more": 0}',
        '{"seconds": 1.0, "active": [1], "coupled": true}',
    ],
)
def test_damaged_device_facts_are_worked_out_again(write_spec, damage):
    spec = write_spec(SPEC.replace("DEVICE", "fake_sherbrooke"))
    cold = prepare(spec, out="/nonexistent", defer_device=True).planned
    entries = sorted(cache.cache_dir().glob("*.device.json"))
    assert entries and all(devicefacts.load(e.parent, e.name.removesuffix(".device.json")) for e in entries)
    for entry in entries:
        entry.write_text(damage)
    again = prepare(spec, out="/nonexistent", defer_device=True).planned
    assert [(j.estimate, j.simulated_qubits) for j in again.jobs] == [
        (j.estimate, j.simulated_qubits) for j in cold.jobs
    ]
    assert all(devicefacts.load(e.parent, e.name.removesuffix(".device.json")) for e in entries)  # rewritten
