import pytest
from conftest import EXPERIMENTS

from qrun.app.prepare import check
from qrun.model.defaults import DEFAULT_SHOTS
from qrun.planning import plan, work
from qrun.planning import transpile as transpiling


@pytest.fixture
def transpiles(monkeypatch) -> list[tuple]:
    """Each call planning makes to the transpiler, with its arguments."""
    calls: list[tuple] = []
    real = transpiling.transpile
    monkeypatch.setattr(transpiling, "transpile", lambda *a: calls.append(a) or real(*a))
    return calls


def test_job_options_override_spec_options_key_by_key():
    from qrun.model.experiment import Options

    spec = Options({"resilience_level": 2, "twirling": {"enable_gates": True, "num_randomizations": 32}})
    merged = Options({"resilience_level": 0, "twirling": {"num_randomizations": 8}}).over(spec).given
    assert merged == {"resilience_level": 0, "twirling": {"enable_gates": True, "num_randomizations": 8}}


def test_each_distinct_circuit_is_transpiled_once(write_spec, transpiles):
    calls = transpiles
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
    assert p.jobs[1].shots == 10 and p.jobs[0].shots == DEFAULT_SHOTS


def test_observables_are_mapped_to_the_isa_layout():
    p = plan.build(check(EXPERIMENTS / "seed_example.yaml"))
    job = p.jobs[0]
    ((name, op),) = job.observables
    assert name == "iy"
    assert op.num_qubits == 5  # fake_manila's width: the observable follows the circuit onto the device
    assert job.circuit.num_qubits == 5
    from qiskit.quantum_info import SparsePauliOp

    assert op == SparsePauliOp("IY").apply_layout(job.circuit.layout)


def test_a_long_sweeps_runtime_jobs_are_counted_without_making_its_points_and_match_its_chunks(write_spec, monkeypatch):
    """Above one chunk, plan counts a one-setting sweep's runtime jobs by arithmetic; the count and each job's
    configurations equal what grouping every chunk's points gives. Chunks hold whole rows (3 observables: 9 of 10)."""
    from qrun.planning import estimates, sweeps

    monkeypatch.setattr(sweeps, "LOCAL_CHUNK", 10)
    spec = write_spec(
        (EXPERIMENTS / "ising_sweep.yaml")
        .read_text()
        .replace("observables: [ising]", "observables: [ising, zz, x]")
        .replace("observables:\n  ising:", "observables:\n  zz: IIZZ\n  x: IIIX\n  ising:")
    )
    (job,) = plan.build(check(spec)).jobs
    assert (len(job.points), job.chunk) == (150, 9)
    counted = work.job_work(job)
    grouped = [
        estimates.Work(len(g.rows) * work.measurement_bases([op for _, op in job.observables]), counted[0].shots)
        for _, _, groups in work.sweep_chunks(job)
        for g in groups
    ]
    assert counted == grouped and len(counted) == 17  # 16 chunks of 3 rows, then 2 rows
    assert [g.product for _, _, groups in work.sweep_chunks(job) for g in groups] == [True] * 17


def test_mode_auto_opens_a_session_only_for_jobs_that_need_an_earlier_result():
    from qrun.model.experiment import FromJob, Job, Options
    from qrun.planning import modes

    def job(name: str, primitive: str = "estimator", **fields: object) -> Job:
        return Job(0, name, primitive, "c", Options(), **fields)  # type: ignore[arg-type]

    independent = [job("a"), job("b", "sampler")]
    dependent = [job("vqe", "minimize"), job("c", parameter_values=FromJob("vqe"))]
    loop = [job("vqe", "minimize")]
    assert modes.resolve("auto", independent) == (
        "batch",
        "no job needs another's result, and a batch bills QPU time only (a session, its wall-clock time)",
    )
    assert modes.resolve("auto", dependent) == ("session", "job 'c' uses the result of job 'vqe', so they run in order")
    assert modes.resolve("auto", loop) == (
        "session",
        "job 'vqe' is a minimize loop: each evaluation waits for the one before",
    )
    assert modes.resolve("batch", dependent) == ("batch", "as the spec says (mode: batch)")


def test_the_open_plan_refusal_comes_at_validate_when_the_spec_says_its_plan(qrun):
    """An Open Plan instance opens no session (IBM: its workloads run in job or batch mode): under mode: auto a VQE
    runs there as a batch, and validate says what that costs; a spec that asks for a session in so many words is
    refused where it asks."""
    from conftest import EXPERIMENTS

    vqe = EXPERIMENTS / "vqe.yaml"
    on_open = ("validate", vqe, "backend=ibm_fez", "precision=0.01", "+service={plan: open}")
    done = qrun(*on_open)
    assert (done.code, done.out, done.err.splitlines()[-1]) == (
        0,
        f"{vqe}: ok\n",
        "note: mode: batch: an Open Plan instance has no sessions, so a batch, though job 'vqe' is a minimize loop: "
        "each evaluation waits for the one before; in a batch each may wait in the queue (a session, on a paid plan, "
        "would hold the device between them)",
    )
    done = qrun(*on_open, "mode=session")
    assert (done.code, done.err.splitlines()[0]) == (
        2,
        f"{vqe}: mode: --set mode=session: an Open Plan instance cannot open sessions; set mode: batch (or leave "
        "mode to auto), which the Open Plan allows",
    )
    done = qrun(*on_open, "+jobs.final-counts.dependent=true")
    assert (done.code, done.err.splitlines()[0]) == (
        2,
        f"{vqe}: jobs[1].dependent: --set +jobs.final-counts.dependent=true: an Open Plan instance cannot open "
        "sessions, and job 'final-counts' is marked dependent (it runs in a session with the job before it); remove "
        "its dependent: true, or use an instance on a paid plan",
    )
    mixed = EXPERIMENTS / "mixed.yaml"
    done = qrun("validate", mixed, "backend=ibm_fez", "+service={plan: open}")
    assert (done.code, "Open Plan" in done.err) == (0, False)  # a batch, as on any plan: nothing to say


def test_an_estimator_may_give_shots_as_the_tutorials_do(qrun, write_spec, tmp_path):
    """shots N on an estimator is precision 1/sqrt(N), the runtime's own relation; giving both is refused."""
    import json
    import math

    import pytest

    spec = write_spec(
        "version: 1\nname: shots\nbackend: aer\noptions: {seed: 5}\n"
        'circuits:\n  rot: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; ry(0.7) q;"}\n'
        "observables:\n  zz: ZZ\n"
        "jobs:\n  - {name: e, primitive: estimator, circuit: rot, observables: [zz], shots: 10000, exact: statevector}\n"
    )
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    body = json.loads(next((tmp_path / done.out.strip() / "jobs").glob("*.json")).read_text())
    assert body["precision"] == 0.01
    zz = body["observables"]["zz"]
    assert zz["exact"][0] == pytest.approx(math.cos(0.7) ** 2, abs=1e-12)  # ⟨ZZ⟩ of ry(θ)⊗ry(θ)|00⟩ is cos²θ
    assert abs(zz["values"][0] - zz["exact"][0]) < 5 * zz["stderrs"][0] == 5 * 0.01
    both = qrun("validate", spec, "+jobs.e.precision=0.1")
    assert both.err.splitlines()[0] == (
        f"{spec}:10:70: jobs[0].shots: give shots or precision, not both: shots 10000 means precision 1/sqrt(10000) "
        "= 0.01"
    )


def test_on_aer_a_circuit_of_aer_gates_is_sent_as_written_and_any_other_keeps_plain_rotations(write_spec, transpiles):
    """Aer runs ry and cx as they are: the ansatz is its own ISA circuit, as a hand script sends it. A circuit with
    a gate of its own is transpiled, to Aer's gates: no rotation becomes an expression Aer binds point by point."""
    calls = transpiles
    spec = write_spec("""
version: 1
name: native
backend: aer
max_time: 5m
options: {seed: 3, optimization_level: 3}
circuits:
  ansatz: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}
  custom: {qasm: 'OPENQASM 3.0; include "stdgates.inc"; input float[64] theta; gate turn(a) q { ry(a) q; } qubit[2] q; turn(theta) q[0]; cx q[0], q[1];'}
observables:
  zz: ZZ
jobs:
  - {name: a, primitive: estimator, circuit: ansatz, observables: [zz], parameter_values: [[0.1, 0.2, 0.3, 0.4]]}
  - {name: b, primitive: estimator, circuit: custom, observables: [zz], parameter_values: [[0.5]]}
""")
    checked = check(spec)
    p = plan.build(checked)
    native, custom = p.jobs[0].circuit, p.jobs[1].circuit
    assert native == checked.circuits["ansatz"] and len(calls) == 1  # only the custom gate's circuit was transpiled
    assert dict(custom.count_ops()) == {"ry": 1, "cx": 1}
    params = [x for inst in custom.data for x in inst.operation.params]
    assert [type(x).__name__ for x in params] == ["Parameter"]  # ry(theta) itself, not an expression of it


_IDENTITY = {"index", "name", "job"}


@pytest.mark.parametrize("device", ["fake_sherbrooke", "fake_fez"])
def test_identical_jobs_are_planned_once_yet_each_plan_is_its_own_and_equal_to_planning_it_alone(
    write_spec, transpiles, device
):
    """Jobs that differ only in name share one planning of their work; each still gets what planning it alone gives,
    its kind's planned fields made for it (every kind: estimator, sampler, minimize), and its own stats and
    optimizer settings. The containers they share cannot be written: tuples, read-only arrays, and mappings that
    JobPlan types read-only."""
    head = f"""
version: 1
name: twins
backend: {device}
max_time: 1h
options: {{seed: 3, batch: false}}  # each job's estimate its own, as planned alone: planning.batches shares none
circuits:
  ra: {{library: real_amplitudes, args: {{num_qubits: 2, reps: 1}}}}
  bell: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}}
observables:
  zz: ZZ
jobs:
"""
    kinds = {
        "e": "primitive: estimator, circuit: ra, observables: [zz], parameter_values: [[0.1, 0.2, 0.3, 0.4]]",
        "s": "primitive: sampler, circuit: bell, shots: 100",
        "m": "primitive: minimize, circuit: ra, observables: [zz], initial_point: random, optimizer: {maxiter: 3}",
        "f": "primitive: estimator, circuit: ra, observables: [zz], parameter_values: {from: m0}",
    }
    twins = "".join(f"  - {{name: {k}{i}, {job}}}\n" for k, job in kinds.items() for i in range(3))
    planned = plan.build(check(write_spec(head + twins)))
    assert len(transpiles) == 2  # one circuit each
    for k, job in kinds.items():
        source = f"  - {{name: m0, {kinds['m']}}}\n" if k == "f" else ""  # what a from: job binds
        alone = plan.build(check(write_spec(head + source + f"  - {{name: {k}2, {job}}}\n", "alone.yaml"))).jobs[-1]
        first, *others = [j for j in planned.jobs if j.name.startswith(k)]
        for other in others:
            for field in type(other).__slots__:
                mine, single = getattr(other, field), getattr(alone, field)
                if field == "index":
                    assert mine == planned.jobs.index(other)
                elif field == "circuit":
                    assert mine is first.circuit and mine == single
                elif field not in _IDENTITY:
                    assert repr(mine) == repr(single), (k, field)
            for field in ("stats", "optimizer"):
                assert getattr(other, field) is not getattr(first, field), (k, field)
            assert isinstance(other.observables, tuple) and other.observables is others[0].observables
            assert isinstance(other.parameter_names, tuple) and other.options is first.options
            if other.parameter_values is not None and k != "f":
                assert other.parameter_values is others[0].parameter_values
                with pytest.raises(ValueError, match="read-only"):
                    other.parameter_values[0, 0] = 9.0
            assert other.job.name == other.name
    four_hundred = twins.replace(
        "{name: s2, primitive: sampler, circuit: bell, shots: 100}",
        "{name: s2, " + kinds["s"].replace("100", "400") + "}",
    )
    changed = plan.build(check(write_spec(head + four_hundred, "changed.yaml")))
    s0, s2 = changed.jobs[3], changed.jobs[5]
    assert (s0.shots, s2.shots) == (100, 400) and s2.estimate > s0.estimate


@pytest.mark.parametrize("known", [{"b"}, {"a"}, {"a", "c"}, {"a", "b", "c"}])
def test_an_identical_job_with_an_earlier_run_of_its_own_keeps_its_learned_estimate(write_spec, known):
    """A twin's estimate is not copied when history knows that job by name: learned beats computed, job by job,
    whichever of the twins history knows (the first one planned included); `--estimates declared` ignores it."""
    spec = write_spec("""
version: 1
name: learned
backend: aer
circuits:
  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}
jobs:
  - {name: a, primitive: sampler, circuit: bell, shots: 100}
  - {name: b, primitive: sampler, circuit: bell, shots: 100}
  - {name: c, primitive: sampler, circuit: bell, shots: 100}
""")

    class History:
        def get(self, key):
            return {"per_unit": 7.0, "run": "earlier"} if key[0] in known else None

    (computed,) = plan.build(check(write_spec(spec.read_text().split("  - {name: b")[0], "one.yaml"))).jobs
    jobs = plan.build(check(spec), history=History()).jobs
    for job in jobs:
        if job.name in known:
            assert (job.estimate, job.estimate_source) == (7.0 * job.units, "learned (earlier)")
        else:
            assert (
                (job.estimate, job.estimate_source) == (computed.estimate, "computed") != (7.0 * job.units, "computed")
            )
    ignored = plan.build(check(spec), history=History(), source="declared").jobs
    assert [(j.estimate, j.estimate_source) for j in ignored] == [(computed.estimate, "computed")] * 3


def test_a_job_written_as_the_one_before_it_but_for_its_estimate_keeps_its_own_estimate(write_spec):
    """Jobs written alike but for their names are matched to the job before them without hashing each; a declared
    estimate is part of what must match (the content hash leaves it out), and a twin further back is still found."""
    spec = write_spec("""
version: 1
name: written-alike
backend: aer
circuits:
  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}
jobs:
  - {name: a, primitive: sampler, circuit: bell, shots: 100, estimate: 2s}
  - {name: b, primitive: sampler, circuit: bell, shots: 100, estimate: 2s}
  - {name: c, primitive: sampler, circuit: bell, shots: 100, estimate: 5s}
  - {name: d, primitive: sampler, circuit: bell, shots: 300, estimate: 2s}
  - {name: e, primitive: sampler, circuit: bell, shots: 100, estimate: 2s}
""")
    jobs = plan.build(check(spec), source="declared").jobs
    assert [(j.name, j.estimate, j.estimate_source, j.shots) for j in jobs] == [
        ("a", 2.0, "declared", 100),
        ("b", 2.0, "declared", 100),
        ("c", 5.0, "declared", 100),
        ("d", 2.0, "declared", 300),
        ("e", 2.0, "declared", 100),
    ]
    a, b, c, d, e = jobs
    assert a.content_hash == b.content_hash == c.content_hash == e.content_hash != d.content_hash
    assert b.circuit is a.circuit and e.stats == a.stats and e.stats is not a.stats
