"""The fastest engine must give the runtime's answer: qrun switches only where this holds (see plan.engine_for)."""

import json
from pathlib import Path

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


@pytest.mark.slow  # four runs on real-size fake devices: make test keeps within its 3 minutes; CI runs it
@pytest.mark.parametrize("device", ["fake_sherbrooke", "fake_fez"])
def test_a_fake_devices_small_jobs_go_out_as_one_pub_of_their_rows_each_row_sampled_alone(
    device, qrun, write_spec, tmp_path
):
    """At resilience 0 a fake device's noisy Aer samples every row on its own: jobs on one circuit and observable
    share one PUB of their rows, and each keeps independent shot noise, as jobs sent one by one get."""
    from qiskit.circuit.library import real_amplitudes
    from qiskit.quantum_info import SparsePauliOp, Statevector

    n, rows = 24, [0.3, -0.2, 0.5, 0.1]
    jobs = "".join(
        f"  - {{name: e{k}, primitive: estimator, circuit: c, observables: [z], parameter_values: [{rows}]}}\n"
        for k in range(n)
    ) + "".join(f"  - {{name: b{k}, primitive: estimator, circuit: h, observables: [z]}}\n" for k in range(3))
    head = (
        f"version: 1\nname: merged\nbackend: {device}\nmax_time: 1h\n"
        "options: {seed: 8, resilience_level: 0, default_precision: 0.04BATCH}\n"
        "circuits:\n  c: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}\n"
        "  h: {qasm: 'OPENQASM 3.0; include \"stdgates.inc\"; qubit[2] q; x q[1];'}\n"
        "observables:\n  z: ZI\njobs:\n" + jobs
    )
    values, stderrs = {}, {}
    for label, batch in (("merged", ""), ("alone", ", batch: false")):
        result = qrun(write_spec(head.replace("BATCH", batch), f"{label}.yaml"), "--out", tmp_path / label, "-q")
        assert result.code == 0, result.err
        run = Path(result.out.strip())
        meta = json.loads((run / "metadata.json").read_text())
        entries = {j["name"]: j for j in meta["jobs"]}
        bodies = {p.stem[3:]: json.loads(p.read_text()) for p in (run / "jobs").glob("*.json")}
        values[label] = np.array([bodies[f"e{k}"]["observables"]["z"]["values"][0] for k in range(n)])
        stderrs[label] = np.array([bodies[f"e{k}"]["observables"]["z"]["stderrs"][0] for k in range(n)])
        if label == "merged":  # the 24 jobs' rows: one PUB; the three jobs without parameters: a PUB each
            assert len({tuple(e["job_ids"]) for e in entries.values()}) == 2
            assert [entries[f"e{k}"]["batched"]["pub"] for k in range(n)] == [0] * n
            assert [entries[f"b{k}"]["batched"]["pub"] for k in range(3)] == [0, 1, 2]
            assert entries["e0"]["engine"] == "backend-primitives"
        bare = [bodies[f"b{k}"]["observables"]["z"]["values"][0] for k in range(3)]
        # <ZI> reads qubit 1, which x flips: -1, less readout error; each job's shots are its own
        assert all(abs(v + 1.0) < 0.2 for v in bare) and len(set(bare)) > 1
    exact = Statevector(real_amplitudes(2, reps=1).assign_parameters(rows)).expectation_value(SparsePauliOp("ZI")).real
    for label in values:
        # 625 shots a row (precision 0.04): rows scatter by their own standard errors, readout error aside
        assert len(set(values[label])) > 4  # each row sampled alone: one shared evaluation would be one value
        assert abs(values[label].mean() - exact) < 0.15
        assert 0.5 < values[label].std() / stderrs[label].mean() < 1.6
    spread = np.sqrt(stderrs["merged"].mean() ** 2 + stderrs["alone"].mean() ** 2) / np.sqrt(n)
    assert abs(values["merged"].mean() - values["alone"].mean()) < 5 * spread  # the same noisy simulator


PARALLEL = """version: 1
name: parallel
backend: aer
max_time: 30m
options: {seed: 3}
circuits:
  c: {library: real_amplitudes, args: {num_qubits: 3, reps: 1}}
observables:
  z: ZZI
jobs:
  - {name: e, primitive: estimator, circuit: c, observables: [z], precision: 1.0e-6, parameter_values: ROWS}
  - {name: s, primitive: sampler, circuit: c, measure_all: true, shots: 300, parameter_values: ROWS}
"""


def test_aer_runs_a_pubs_rows_as_parallel_experiments_with_the_values_of_one_at_a_time(write_spec):
    """Aer runs a PUB's rows one at a time unless asked; qrun asks (max_parallel_experiments=0) below 18 qubits, except
    in a run with a Dask cluster. Seed for seed, the values and every shot are those of one at a time. Aer binds the
    rows as it runs below 14 qubits only. From 18 qubits qrun leaves Aer's options alone, its method too."""
    from qiskit.quantum_info import Statevector

    from qrun.app.prepare import check
    from qrun.planning import plan
    from qrun.running.engines import Engines, estimator_pub, sampler_pub

    rows = np.random.default_rng(11).uniform(-np.pi, np.pi, (64, 6)).round(6).tolist()
    p = plan.build(check(write_spec(PARALLEL.replace("ROWS", str(rows)))))
    est_job, sampler_job = p.jobs
    parallel, alone = Engines(p.backend), Engines(p.backend, parallel=False)
    # ry and cx: statevector, as Aer would pick, and standard gates, whose rows Aer binds as it runs
    named = {"method": "statevector", "runtime_parameter_bind_enable": True}
    both = {"max_parallel_experiments": 0, **named}
    assert parallel.estimator(est_job, None, 7).options.backend_options == both
    # bound at run time the rows are shots, which Aer would spread over the cores a Dask run's workers share
    assert alone.estimator(est_job, None, 7).options.backend_options == {**named, "max_parallel_shots": 1}
    assert parallel.sampler(sampler_job, None, 7).options.backend_options == both

    def widened(qubits: int):
        spec = (
            PARALLEL.replace("num_qubits: 3", f"num_qubits: {qubits}")
            .replace("ZZI", "Z" * qubits)
            .replace("ROWS", "[[" + ", ".join(["0.1"] * (2 * qubits)) + "]]")
        )
        return plan.build(check(write_spec(spec, f"wide{qubits}.yaml"))).jobs[0]

    # from 14 to 17 qubits parallel experiments still run sooner than Aer's own threads; the rows built one by one
    for qubits in (14, 17):
        wide = parallel.estimator(widened(qubits), None, 7).options.backend_options
        assert wide == {"max_parallel_experiments": 0, "method": "statevector"}
    # from 18 qubits Aer spreads each experiment's state over the cores itself as fast: one state vector at a time
    assert parallel.estimator(widened(18), None, 7).options.backend_options == {}

    evs = [e.estimator(est_job, None, 7).run([estimator_pub(est_job)]).result()[0].data.evs for e in (parallel, alone)]
    np.testing.assert_array_equal(evs[0], evs[1])
    op = est_job.observables[0][1]
    exact = [Statevector(est_job.circuit.assign_parameters(r)).expectation_value(op).real for r in rows]
    np.testing.assert_allclose(evs[0][0], exact, atol=1e-5)  # emulated shot noise of 1e-6 (5 standard errors: 5e-6)

    shots = [
        e.sampler(sampler_job, None, 7).run([sampler_pub(sampler_job)]).result()[0].data for e in (parallel, alone)
    ]
    np.testing.assert_array_equal(shots[0].meas.array, shots[1].meas.array)
    assert shots[0].meas.num_shots == 300 and shots[0].meas.shape == (64,)


def _circuit(qasm_body: str, qubits: int = 2):
    from qiskit import qasm3

    return qasm3.loads(f'OPENQASM 3.0; include "stdgates.inc"; qubit[{qubits}] q; bit[{qubits}] c; {qasm_body}')


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("ry(0.3) q[0]; cx q[0], q[1];", True),  # ry: never Clifford, so never Aer's stabilizer method
        ("h q[0]; t q[1]; cx q[0], q[1]; c = measure q;", True),
        ("h q[0]; cx q[0], q[1]; c = measure q;", False),  # all Clifford: Aer picks stabilizer
        ("rz(0.3) q[0]; sx q[0]; cx q[0], q[1];", False),  # rz is Clifford at multiples of pi/2: Aer decides per row
        ("h q[0]; ry(0.3) q[1]; c[0] = measure q[0]; if (c[0]) { x q[1]; }", False),  # control flow: left to Aer
    ],
)
def test_aer_is_told_statevector_only_where_its_own_choice_for_every_row_is_statevector(body, named):
    from qrun.backends.aer import picks_statevector

    assert picks_statevector(_circuit(body)) is named


def test_an_instruction_aers_statevector_method_lacks_leaves_the_choice_to_aer():
    from qiskit_aer.library import SaveSuperOp

    from qrun.backends.aer import picks_statevector

    circuit = _circuit("ry(0.3) q[0]; cx q[0], q[1];")
    circuit.append(SaveSuperOp(2), [0, 1])  # the superop method's alone
    assert picks_statevector(circuit) is False


def test_rows_run_under_the_named_method_give_aers_own_values_and_shots_bit_for_bit():
    """Naming the method changes no value: Aer's automatic choice, made per row, is the same statevector."""
    from qiskit.circuit.library import efficient_su2
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer.primitives import EstimatorV2, SamplerV2

    from qrun.backends.aer import picks_statevector

    circuit = efficient_su2(4, reps=2).decompose()
    assert picks_statevector(circuit)
    rows = np.random.default_rng(2).uniform(-np.pi, np.pi, (40, circuit.num_parameters))
    op = SparsePauliOp(["ZZII", "IXXI"], [0.7, -0.2])
    evs, shots = [], []
    for options in ({}, {"method": "statevector"}):
        backend = {"backend_options": {"max_parallel_experiments": 0, **options}}
        estimator = EstimatorV2(options={"default_precision": 0.01, "run_options": {"seed_simulator": 4}, **backend})
        evs.append(estimator.run([(circuit, op, rows)]).result()[0].data.evs)
        sampler = SamplerV2(default_shots=100, seed=4, options=backend)
        shots.append(sampler.run([(circuit.measure_all(inplace=False), rows)]).result()[0].data.meas.array)
    np.testing.assert_array_equal(evs[0], evs[1])
    np.testing.assert_array_equal(shots[0], shots[1])
    assert evs[0].shape == (40,) and shots[0].shape == (40, 100, 1)
