"""Small jobs that go out as one PUB-batched runtime job on a device carry that runtime job's overhead once in the
budget, as they are billed and take time: in validate's lower bounds, the plan's computed estimates and the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_runtime import Cloud, install

from qrun.planning.estimates import JOB_OVERHEAD

N = 150  # two of the service's batches: 100 and 50


def _spec(write_spec, backend: str, max_time: str = "2m"):
    jobs = "".join(
        f"  - {{name: e{k}, primitive: estimator, circuit: c, observables: [z], parameter_values: [[{k / N:.4f}]], "
        "precision: 0.05}\n"
        for k in range(N)
    )
    return write_spec(
        f"version: 1\nname: many\nbackend: {backend}\nmax_time: {max_time}\n"
        "options: {seed: 1, resilience_level: 0}\n"
        'circuits:\n  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[1] q; ry(a) q[0];"}\n'
        "observables:\n  z: Z\njobs:\n" + jobs
    )


@pytest.mark.parametrize("device", ["fake_sherbrooke", "fake_fez"])
def test_150_small_jobs_on_one_circuit_are_budgeted_as_the_two_runtime_jobs_they_make(qrun, write_spec, device):
    """Each job held 5 s of a runtime job's overhead, so 150 of them were budgeted at 12.5 minutes and refused
    under max_time 2m, by validate, plan and the run alike, for about 10 s of overhead and 15 s of QPU time."""
    spec = _spec(write_spec, device)
    assert qrun("validate", spec).code == 0
    assert qrun("validate", "--deep", spec).code == 0
    planned = qrun("plan", spec, "--json")
    assert planned.code == 0, planned.err
    summary = json.loads(planned.out)
    assert summary["batches"] == [[0, 99], [100, 149]]
    jobs = summary["jobs"]
    for job in jobs:
        overhead = JOB_OVERHEAD if job["index"] in (0, 100) else 0.0  # each runtime job's first job carries it
        assert job["estimate"] == pytest.approx(job["qpu_seconds"] + overhead, abs=2e-3)
    assert summary["total"] == pytest.approx(2 * JOB_OVERHEAD + sum(j["qpu_seconds"] for j in jobs), abs=0.2)
    table = qrun("plan", spec)
    assert (
        "PUB-batched: 150 jobs go out in 2 runtime jobs (jobs 0-99, 100-149), as the runtime advises for small "
        "jobs: each runtime job's 5 s of overhead is in its first job's estimate"
    ) in table.out


def test_jobs_that_cannot_share_a_runtime_job_each_keep_their_overhead(qrun, write_spec):
    """batch: false, or a job between them on another circuit: each its own runtime job, and its own overhead."""
    spec = _spec(write_spec, "fake_fez", "1h")
    off = json.loads(qrun("plan", spec, "--json", "options.batch=false").out)
    assert "batches" not in off
    assert all(j["estimate"] == pytest.approx(j["qpu_seconds"] + JOB_OVERHEAD, abs=2e-3) for j in off["jobs"])
    e1 = next(line for line in spec.read_text().splitlines() if "name: e1," in line)
    sampler = "  - {name: e1, primitive: sampler, circuit: c, parameter_values: [[0.5]], measure_all: true, shots: 10}"
    spec.write_text(spec.read_text().replace(e1, sampler))
    split = json.loads(qrun("plan", spec, "--json").out)
    assert split["batches"] == [[2, 101], [102, 149]]  # e0 alone, e1 a sampler alone, then 100 and 48


@pytest.mark.slow  # 14 s: the stand-in simulates each of the 150 PUBs on a 156-qubit device's noise
def test_the_service_takes_them_as_the_two_runtime_jobs_the_plan_counted(qrun, write_spec, monkeypatch, tmp_path):
    from qiskit_ibm_runtime.fake_provider import FakeFez

    cloud = Cloud({"ibm_fez": FakeFez()}, queue_seconds=2.0, job_seconds=1.0)
    install(monkeypatch, cloud)
    qrun.clock = cloud.clock
    spec = _spec(write_spec, "ibm_fez", "10m")
    planned = json.loads(qrun("plan", spec, "--json").out)
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    (run,) = (tmp_path / "r" / "many").iterdir()
    meta = json.loads((run / "metadata.json").read_text())
    runtime_jobs = list(dict.fromkeys(j["batched"]["id"] for j in meta["jobs"]))
    assert len(runtime_jobs) == len(planned["batches"]) == 2
    assert [sum(1 for j in meta["jobs"] if j["batched"]["id"] == r) for r in runtime_jobs] == [100, 50]


def _deep(write_spec, backend: str, jobs: int, kind: str, options: str, name: str = "deep.yaml"):
    """`jobs` jobs on a 2-qubit circuit of 300 two-qubit gates (kept at optimization_level 0)."""
    job = {
        "estimator": "primitive: estimator, circuit: c, observables: [z], precision: 0.1",
        "sampler": "primitive: sampler, circuit: c, measure_all: true, shots: 1000000",
    }[kind]
    return write_spec(
        f"version: 1\nname: deep\nbackend: {backend}\nmax_time: 8h\noptions: {{seed: 1, optimization_level: 0{options}}}\n"
        'circuits:\n  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; '
        'for int i in [1:300] { cx q[0], q[1]; rz(0.1) q[1]; }"}\n'
        "observables:\n  z: ZZ\njobs:\n" + "".join(f"  - {{name: j{k}, {job}}}\n" for k in range(jobs)),
        name,
    )


@pytest.mark.parametrize(
    ("kind", "options", "batches"),
    [
        ("estimator", ", resilience_level: 1", [[0, 32], [33, 39]]),  # 33 x 300 two-qubit gates: 9,900
        ("estimator", ", resilience_level: 2", [[0, 2], [3, 5], [6, 8], [9, 11]]),  # ZNE's 1 + 3 + 5 folds: 2,700 each
        ("sampler", "", [[0, 4], [5, 9], [10, 11]]),  # 5 x 10^6 shots: 5 million executions
    ],
)
def test_a_batch_on_the_device_stays_within_the_services_limits_per_runtime_job(
    qrun, write_spec, kind, options, batches
):
    """IBM's job validation counts per runtime job, not per PUB: under 10,000 two-qubit gates, and at most 5 million
    executions for a sampler. 100 jobs of 300 two-qubit gates each went out as one runtime job, 30,000 gates."""
    spec = _deep(write_spec, "fake_fez", 40 if options.endswith("1") else 12, kind, options)
    planned = qrun("plan", spec, "--json")
    assert planned.code == 0, planned.err
    assert json.loads(planned.out)["batches"] == batches


@pytest.mark.slow  # the stand-in simulates each PUB on a 156-qubit device's noise
def test_the_service_takes_distinct_circuits_together_and_splits_where_its_limits_say(
    qrun, write_spec, monkeypatch, tmp_path
):
    """A T1 series (a circuit per delay) went out as a runtime job per circuit on the service, each queued and paid
    for its overhead alone, where a hand script sends one job of its PUBs; and joining jobs now stops at the
    service's per-job limit of two-qubit gates, where the plan says."""
    from qiskit_ibm_runtime.fake_provider import FakeFez

    cloud = Cloud({"ibm_fez": FakeFez()}, queue_seconds=2.0, job_seconds=1.0)
    install(monkeypatch, cloud)
    qrun.clock = cloud.clock
    circuits = "".join(
        f'  d{d}: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; x q[0]; delay[{d}us] q[0]; '
        'c[0] = measure q[0];"}\n'
        for d in (0, 20, 50)
    )
    series = write_spec(
        "version: 1\nname: t1\nbackend: ibm_fez\nmax_time: 10m\noptions: {seed: 2}\ncircuits:\n"
        + circuits
        + "jobs:\n"
        + "".join(f"  - {{name: t{d}, primitive: sampler, circuit: d{d}, shots: 100}}\n" for d in (0, 20, 50)),
        "t1.yaml",
    )
    deep = _deep(write_spec, "ibm_fez", 36, "estimator", ", resilience_level: 1")
    for spec in (series, deep):
        planned = json.loads(qrun("plan", spec, "--json").out)
        done = qrun(spec, "--out", tmp_path / "r", "-q")
        assert done.code == 0, done.err
        run = Path(done.out.strip())
        meta = json.loads((run / "metadata.json").read_text())
        runtime_jobs = list(dict.fromkeys(j["batched"]["id"] for j in meta["jobs"]))
        sizes = [sum(1 for j in meta["jobs"] if j["batched"]["id"] == r) for r in runtime_jobs]
        assert sizes == [last - first + 1 for first, last in planned["batches"]]
        assert [j["batched"]["pub"] for j in meta["jobs"]] == [k for n in sizes for k in range(n)]
    assert sizes == [33, 3]


def test_the_plan_counts_the_devices_runtime_jobs_not_its_simulators(qrun, write_spec, tmp_path):
    """A fake device simulates circuits on different qubits in runtime jobs of their own, where the device it
    rehearses takes them together: the budget is the device's (one overhead), the run the simulator's (two)."""
    spec = write_spec(
        "version: 1\nname: widths\nbackend: fake_fez\nmax_time: 10m\noptions: {seed: 1}\n"
        'circuits:\n  one: {qasm: "OPENQASM 3.0; qubit[1] q; bit[1] c; c[0] = measure q[0];"}\n'
        '  two: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; '
        'c = measure q;"}\n'
        "jobs:\n  - {name: a, primitive: sampler, circuit: one, shots: 100}\n"
        "  - {name: b, primitive: sampler, circuit: two, shots: 100}\n"
    )
    planned = json.loads(qrun("plan", spec, "--json").out)
    assert planned["batches"] == [[0, 1]]
    assert planned["jobs"][1]["estimate"] == pytest.approx(planned["jobs"][1]["qpu_seconds"], abs=2e-3)
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    meta = json.loads((Path(done.out.strip()) / "metadata.json").read_text())
    assert [j["batched"] for j in meta["jobs"]] == [None, None]  # on the simulator: a runtime job each


@pytest.mark.slow  # a whole experiment: `make test` stays well under its 3 minutes
def test_a_multiruns_points_share_the_runtime_jobs_they_go_out_in(qrun, write_spec):
    """A T1 curve as a multirun over the delay (a circuit per point): its points go out as one runtime job, and were
    budgeted as one each, each point's job holding an overhead of its own (with 100 points, 8 minutes for 12 s)."""
    spec = write_spec(
        "vars: {d: 0}\nversion: 1\nname: t1m\nbackend: fake_fez\nmax_time: 20s\noptions: {seed: 3}\n"
        'circuits:\n  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; x q[0]; '
        'delay[{{ d }}us] q[0]; c[0] = measure q[0];"}\n'
        "jobs:\n  - {name: t, primitive: sampler, circuit: c, shots: 100}\n",
        "t1m.yaml.j2",
    )
    grid = ("-m", "d=range(0,60,10)")  # 6 points: 30 s budgeted apart
    assert qrun("validate", spec, *grid).code == 0
    assert qrun("validate", "--deep", spec, *grid).code == 0
    planned = qrun("plan", spec, *grid, "--json")
    assert planned.code == 0, planned.err
    summary = json.loads(planned.out)
    assert summary["batches"] == [[0, 5]]
    assert summary["total"] == pytest.approx(JOB_OVERHEAD + sum(j["qpu_seconds"] for j in summary["jobs"]), abs=0.1)
    tight = qrun("validate", "--deep", spec, *grid, "--set", "max_time=5s")  # still refused where it does not fit
    assert tight.code == 2 and "max_time: --set max_time=5s: 5s (5 s) is less than the sum" in tight.err
