"""The fastest engine must give the runtime's answer: qrun switches only where this holds (see plan.engine_for)."""

import json

import numpy as np
import pytest

ROWS = np.random.default_rng(5).uniform(-np.pi, np.pi, (24, 4)).round(6).tolist()
SPEC = f"""version: 1
name: engines
backend: fake_manila
max_time: 30m
options: {{seed: 21, resilience_level: 0, engine: ENGINE}}
circuits:
  ansatz: {{library: {{name: real_amplitudes, args: {{num_qubits: 2, reps: 1}}}}}}
  ghz: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[3] q; bit[3] c; h q[0]; cx q[0], q[1]; cx q[1], q[2]; c = measure q;"}}
observables:
  h2: [[II, -1.052373245772859], [IZ, 0.39793742484318045], [ZI, -0.39793742484318045], [ZZ, -0.01128010425623538], [XX, 0.18093119978423156]]
jobs:
  - {{name: energies, primitive: estimator, circuit: ansatz, observables: [h2], precision: 0.01, parameter_values: {ROWS}}}
  - {{name: counts, primitive: sampler, circuit: ghz, shots: 3000}}
"""


def _run(qrun, write_spec, tmp_path, engine):
    spec = write_spec(SPEC.replace("ENGINE", engine), f"{engine}.yaml")
    assert qrun(spec, "--out", tmp_path / engine, "--quiet").code == 0
    (run,) = (tmp_path / engine / "engines").iterdir()
    meta = json.loads((run / "metadata.json").read_text())
    jobs = {p.stem[3:]: json.loads(p.read_text()) for p in (run / "jobs").glob("*.json")}
    return meta, jobs


@pytest.mark.slow  # several seconds: the fast suite keeps within its 3 minutes; CI runs it
def test_backend_primitives_give_the_runtime_answer_at_resilience_0(qrun, write_spec, tmp_path):
    fast_meta, fast = _run(qrun, write_spec, tmp_path, "auto")
    slow_meta, slow = _run(qrun, write_spec, tmp_path, "runtime")
    assert [j["engine"] for j in fast_meta["jobs"]] == ["backend-primitives"] * 2
    assert [j["engine"] for j in slow_meta["jobs"]] == ["runtime-client-primitives"] * 2
    # Counts: the same noisy simulator and the same seed, so the same shots, outcome for outcome.
    assert fast["counts"]["counts"] == slow["counts"]["counts"]
    # Expectation values: the same estimator (measured, readout error included), so they agree within statistics.
    a = np.array(fast["energies"]["observables"]["h2"]["values"])
    b = np.array(slow["energies"]["observables"]["h2"]["values"])
    sa = np.array(fast["energies"]["observables"]["h2"]["stderrs"])
    sb = np.array(slow["energies"]["observables"]["h2"]["stderrs"])
    z = (a - b) / np.sqrt(sa**2 + sb**2)
    assert np.all(np.abs(z) < 4.5)  # no single set disagrees
    assert abs(z.mean()) * np.sqrt(len(z)) < 3.5  # and no shared bias
    assert z.std() < 1.8  # same simulator, same seeds: the two share much of their shot noise (measured spread ~0.2)


def test_mitigation_twirling_or_dd_keep_the_runtime_path():
    from qrun.planning.plan import engine_for

    assert engine_for("fake", "estimator", {"resilience_level": 1}) == "runtime-client-primitives"
    assert (
        engine_for("fake", "estimator", {"resilience_level": 0, "twirling": {"enable_gates": True}})
        == "runtime-client-primitives"
    )
    assert engine_for("fake", "sampler", {"dynamical_decoupling": {"enable": True}}) == "runtime-client-primitives"
    assert engine_for("fake", "sampler", {"engine": "runtime"}) == "runtime-client-primitives"
    assert engine_for("fake", "sampler", {}) == "backend-primitives"
    assert engine_for("service", "sampler", {}) == "runtime-client-primitives"
    assert engine_for("aer", "estimator", {"resilience_level": 2}) == "aer-primitives"


def test_observables_go_into_a_pub_sparse_even_at_the_width_of_a_real_device(monkeypatch):
    """Never through numpy: SparsePauliOp.__array__ would build a 2^127 x 2^127 matrix."""
    from qiskit.quantum_info import SparsePauliOp

    from qrun.running.engines import observables_array

    def dense(*a, **k):
        raise AssertionError("a dense matrix was built")

    monkeypatch.setattr(SparsePauliOp, "__array__", dense)
    monkeypatch.setattr(SparsePauliOp, "to_matrix", dense)
    ops = [SparsePauliOp.from_sparse_list([("Z", [q], 1.0)], num_qubits=127) for q in (0, 64, 126)]
    column = observables_array(ops, column=True)
    flat = observables_array(ops)
    assert column.shape == (3, 1) and flat.shape == (3,) and flat.num_qubits == 127
