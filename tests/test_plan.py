from conftest import EXPERIMENTS

from qrun import plan
from qrun.pipeline import check


def test_job_options_override_spec_options_key_by_key():
    merged = plan.merge_options(
        {"resilience_level": 2, "twirling": {"enable_gates": True, "num_randomizations": 32}},
        {"resilience_level": 0, "twirling": {"num_randomizations": 8}},
    )
    assert merged == {"resilience_level": 0, "twirling": {"enable_gates": True, "num_randomizations": 8}}


def test_each_distinct_circuit_is_transpiled_once(write_spec, monkeypatch):
    calls = []
    real = plan.transpile
    monkeypatch.setattr(plan, "transpile", lambda *a: calls.append(a) or real(*a))
    spec = write_spec("""
version: 1
name: once
backend: fake_manila
max_time: 5m
circuits:
  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}
jobs:
  - {name: a, primitive: sampler, circuit: bell, estimate: 10s}
  - {name: b, primitive: sampler, circuit: bell, estimate: 10s, shots: 10}
  - {name: c, primitive: sampler, circuit: bell, estimate: 10s, options: {optimization_level: 0}}
""")
    p = plan.build(check(spec))
    assert len(calls) == 2  # levels 2 and 0
    assert p.jobs[0].circuit is p.jobs[1].circuit
    assert p.jobs[1].shots == 10 and p.jobs[0].shots == plan.DEFAULT_SHOTS


def test_observables_are_mapped_to_the_isa_layout():
    p = plan.build(check(EXPERIMENTS / "seed_example.yaml"))
    job = p.jobs[0]
    ((name, op),) = job.observables
    assert name == "iy"
    assert op.num_qubits == 5  # fake_manila's width: the observable follows the circuit onto the device
    assert job.circuit.num_qubits == 5
    from qiskit.quantum_info import SparsePauliOp

    assert op == SparsePauliOp("IY").apply_layout(job.circuit.layout)
