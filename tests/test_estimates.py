import json

import pytest
from conftest import EXPERIMENTS

from qrun.planning import estimates
from qrun.planning.estimates import Timing, Work

BELL = """version: 1
name: timing
backend: fake_manila
max_time: 10m
options: {optimization_level: 1, seed: 1}
circuits:
  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}
observables:
  zz: ZZ
jobs:
  - {name: counts, primitive: sampler, circuit: bell, shots: 1000}
  - {name: zz, primitive: estimator, circuit: bell, observables: [zz], precision: 0.05, options: {resilience_level: 2}}
"""


def test_computed_estimates_equal_a_hand_calculation_from_fake_manilas_durations(write_spec):
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    from qrun.app.prepare import check
    from qrun.planning import plan

    p = plan.build(check(write_spec(BELL)), source="fresh")
    counts, zz = p.jobs
    target = FakeManilaV2().target
    # The ISA Bell circuit: rz sx rz on the control, cx, then both measurements.
    ops = [(i.operation.name, tuple(counts.circuit.find_bit(q).index for q in i.qubits)) for i in counts.circuit.data]
    (a,), (b, c) = ops[1][1], ops[3][1]
    assert [name for name, _ in ops] == ["rz", "sx", "rz", "cx", "measure", "measure"] and a == b
    sx = target["sx"][(a,)].duration  # 35.6 ns
    cx = target["cx"][(b, c)].duration  # a few hundred ns
    measure = max(target["measure"][(b,)].duration, target["measure"][(c,)].duration)  # ~5.35 us
    circuit = sx + cx + measure  # rz takes no time; the longest path runs through the control
    rep_delay = 250e-6  # fake_manila's default_rep_delay
    # sampler: overhead + shots x (circuit + rep delay)
    assert counts.estimate == pytest.approx(5.0 + 1000 * (circuit + rep_delay), rel=1e-12)
    # estimator at resilience 2, precision 0.05: 1/0.05^2 = 400 shots per configuration; ZZ needs one basis and
    # TREX adds one calibration configuration; twirling ("auto") rounds 400 up to 7 randomizations x 64 = 448 shots;
    # ZNE runs every configuration at noise factors 1, 3, 5 with the circuit folded to that length.
    est_circuit = zz.circuit.estimate_duration(target, unit="s")  # the same circuit without its measurements...
    assert est_circuit == pytest.approx(sx + cx, rel=1e-12)  # ...which the estimator measures itself
    per_factor = [2 * 448 * (lam * (sx + cx) + rep_delay) for lam in (1, 3, 5)]
    assert zz.estimate == pytest.approx(5.0 + sum(per_factor), rel=1e-12)
    assert (counts.estimate_source, zz.estimate_source) == ("computed", "computed")


@pytest.mark.parametrize(
    "shots, twirling, enabled, expected",
    [
        (400, {}, True, 448),
        (4096, {}, True, 4096),
        (100, {"num_randomizations": 3}, True, 102),
        (100, {"shots_per_randomization": 30}, True, 120),
        (100, {}, False, 100),
    ],
)
def test_twirled_shots_follow_the_runtime_rule(shots, twirling, enabled, expected):
    assert estimates.twirled_shots(shots, twirling, enabled) == expected


def test_aer_has_no_timing_so_the_documented_fallback_applies():
    timing = Timing(circuit_seconds=None, depth=10, rep_delay=None)
    assert timing.circuit == 10 * 1e-6 and timing.rep == 250e-6
    assert estimates.computed(timing, [Work(2, 100)], {}, estimator=False) == pytest.approx(
        5 + 2 * 100 * (10e-6 + 250e-6)
    )


@pytest.mark.parametrize(
    "setting, total, margin", [("10%", 200.0, 20.0), (0, 200.0, 0.0), ("30s", 200.0, 30.0), (90, 1.0, 90.0)]
)
def test_margin_settings(setting, total, margin):
    assert estimates.margin(setting, total) == margin


def test_budget_names_the_sum_the_shortfall_and_the_largest_jobs():
    b = estimates.budget(600, [("j", 480.0), ("k", 180.0)], 0)
    assert not b.fits
    assert b.explain() == (
        "10m (600 s) is less than the sum of the job estimates, 11m (660 s); short by 1m. "
        "Largest: j 8m, k 3m. Raise max_time to at least 11m or lower the estimates"
    )
    assert (
        estimates.budget(600, [("j", 500.0)]).verdict()
        == "fits: 8m 20s estimated + 50s margin = 9m 10s of max_time 10m (92%)"
    )


def _plan(qrun, spec, *args):
    result = qrun("plan", spec, "--json", *args)
    return result.code, json.loads(result.out)


def test_fits_when_declared_but_not_when_computed_and_the_reverse(qrun, write_spec):
    tight = write_spec(
        BELL.replace("max_time: 10m", "max_time: 8s")
        # trust_estimate: these figures undercut qrun's own on purpose, to show the two sources disagreeing
        .replace("shots: 1000}", "shots: 1000, estimate: 1s, trust_estimate: true}")
        .replace("resilience_level: 2}}", "resilience_level: 2}, estimate: 1s, trust_estimate: true}"),
        "tight.yaml",
    )
    code, declared = _plan(qrun, tight, "--estimates", "declared")
    assert (code, declared["fits"], declared["needed"]) == (0, True, 2.2)
    code, fresh = _plan(qrun, tight, "--estimates", "fresh")
    assert (code, fresh["fits"]) == (2, False) and fresh["total"] > 10
    generous = write_spec(
        BELL.replace("max_time: 10m", "max_time: 1m").replace("shots: 1000}", "shots: 1000, estimate: 1h}"),
        "generous.yaml",
    )
    assert _plan(qrun, generous, "--estimates", "declared")[0] == 2
    code, fresh = _plan(qrun, generous, "--estimates", "fresh")
    assert (code, fresh["fits"]) == (0, True)
    assert [j["source"] for j in fresh["jobs"]] == ["computed", "computed"]


def test_a_learned_estimate_replaces_the_computed_one_after_one_run(qrun, tmp_path):
    out, aer = tmp_path / "results", ("--set", "backend=aer")  # a local simulator: its own time is what it learns
    before = _plan(qrun, EXPERIMENTS / "mixed.yaml", *aer, "--out", out, "--estimates", "learned")[1]
    assert [j["source"] for j in before["jobs"]] == ["declared"] * 3
    assert qrun(EXPERIMENTS / "mixed.yaml", *aer, "--out", out, "--quiet").code == 0
    (run_dir,) = (out / "mixed").iterdir()
    meta = json.loads((run_dir / "metadata.json").read_text())
    after = _plan(qrun, EXPERIMENTS / "mixed.yaml", *aer, "--out", out)[1]
    assert [j["source"] for j in after["jobs"]] == [f"learned ({run_dir.name})"] * 3
    assert [j["estimate"] for j in after["jobs"]] == [pytest.approx(m["actual"], abs=1e-3) for m in meta["jobs"]]
    # a changed job no longer matches what was learned
    changed = tmp_path / "mixed.yaml"
    changed.write_text((EXPERIMENTS / "mixed.yaml").read_text().replace("shots: 500", "shots: 600"))
    (changed.parent / "circuits").mkdir()
    (changed.parent / "circuits" / "ghz.qasm").write_text((EXPERIMENTS / "circuits" / "ghz.qasm").read_text())
    sources = [j["source"] for j in _plan(qrun, changed, *aer, "--out", out)[1]["jobs"]]
    assert sources == [f"learned ({run_dir.name})"] * 2 + ["declared"]


def test_a_fake_devices_run_teaches_no_estimate_its_rehearsal_is_of_the_real_devices_time(qrun, tmp_path):
    """A run on fake_manila took the simulator's seconds on this machine; learned, they replaced the real device's
    time that a rehearsal's budget check is about ("rehearsing fake_manila, the time the real device would take")."""
    out = tmp_path / "results"
    fresh = _plan(qrun, EXPERIMENTS / "mixed.yaml", "--out", out, "--estimates", "fresh")[1]
    before = _plan(qrun, EXPERIMENTS / "mixed.yaml", "--out", out)[1]
    assert qrun(EXPERIMENTS / "mixed.yaml", "--out", out, "--quiet").code == 0
    after = _plan(qrun, EXPERIMENTS / "mixed.yaml", "--out", out)[1]
    assert after == before and [j["source"] for j in after["jobs"]] == ["declared"] * 3
    computed = _plan(qrun, EXPERIMENTS / "mixed.yaml", "--out", out, "--estimates", "fresh")[1]
    assert computed == fresh and {j["source"] for j in computed["jobs"]} == {"computed"}


def test_jobs_of_one_batched_runtime_job_each_learn_their_share_of_its_time(qrun, four_batched):
    # each of the four records the runtime job's whole time as its own: a re-run taught that time for each would be
    # estimated at four times what it took
    spec, out, run_dir, meta = four_batched
    after = _plan(qrun, spec, "--out", out)[1]
    assert [j["source"] for j in after["jobs"]] == [f"learned ({run_dir.name})"] * 4
    assert [j["estimate"] for j in after["jobs"]] == [pytest.approx(m["actual"] / 4, abs=1e-3) for m in meta["jobs"]]


def test_plan_table_shows_every_job_and_the_verdict(qrun):
    result = qrun("plan", EXPERIMENTS / "seed_example.yaml", "--out", "/nonexistent-results")
    assert result.code == 0
    assert "energy" in result.out and "declared" in result.out
    verdict, charged = result.out.rstrip().splitlines()[-2:]
    assert verdict == (
        "rehearsing fake_manila, the time the real device would take: fits: 1m estimated + 6s margin = 1m 6s of "
        "max_time 25m (4%)"
    )
    assert charged.startswith("QPU time charged: about ")


def test_a_learned_time_far_above_the_declared_one_is_a_located_warning(qrun, tmp_path, write_spec, monkeypatch):

    out = tmp_path / "results"
    spec = write_spec((EXPERIMENTS / "bell.yaml").read_text())
    assert qrun(spec, "--out", out, "--quiet").code == 0
    (run_dir,) = (out / "bell").iterdir()
    meta_file = run_dir / "metadata.json"
    meta = json.loads(meta_file.read_text())
    meta["jobs"][0]["actual"] = 95.0  # as if the device had been slow: more than twice the declared 30s
    meta_file.write_text(json.dumps(meta))
    monkeypatch.chdir(tmp_path)
    result = qrun("validate", "spec.yaml", "--out", out)
    assert result.code == 0
    assert result.err == (
        "spec.yaml:16:15: jobs[0].estimate: warning: a matching earlier run took 1m 35s, more than "
        "twice the declared 30s; qrun plans with the learned time\n"
    )


def test_the_content_hash_is_the_sha256_of_the_sorted_json_of_what_the_job_does():
    """Put together from shared parts, the hash is still that of json.dumps(content, sort_keys=True), so learned
    estimates of earlier runs still match."""
    import hashlib
    import json

    from qrun.planning.estimates import content_hash
    from qrun.spec.build import experiment

    data = {
        "backend": "aer",
        "options": {"seed": 1, "twirling": {"enable_gates": True}},
        "circuits": {"c": {"library": "efficient_su2", "args": {"num_qubits": 2}}},
        "observables": {"z": "ZI", "x": {"pauli": "XI", "unit": "eV"}},
    }
    jobs = [  # each with the observables it measures
        ({"name": "a", "primitive": "estimator", "circuit": "c", "observables": ["z", "x"], "estimate": "1s"}, "xz"),
        ({"name": "b", "primitive": "sampler", "circuit": "c", "options": {"twirling": {"num_randomizations": 4}}}, ""),
        ({"name": "c", "primitive": "estimator", "circuit": "c", "sweep": {"values": {"observable": ["x"]}}}, "x"),
        # the same work as a under other names and estimates, read back from the memo; then values that differ only
        # in type (1, 1.0, True), each hashed as its own JSON
        ({"name": "a2", "primitive": "estimator", "circuit": "c", "observables": ["z", "x"], "estimate": "9s"}, "xz"),
        ({"name": "a3", "primitive": "estimator", "circuit": "c", "observables": ["z", "x"]}, "xz"),
        *(
            ({"name": f"p{i}", "primitive": "estimator", "circuit": "c", "parameter_values": [[v] * 4]}, "")
            for i, v in enumerate((1, 1.0, True))
        ),
    ]
    plain = {"seed": 1, "twirling": {"enable_gates": True}}
    merged = [plain, {"seed": 1, "twirling": {"enable_gates": True, "num_randomizations": 4}}, *[plain] * 6]
    typed = experiment({**data, "name": "h", "jobs": [job for job, _ in jobs]})
    memo: dict = {}
    for (job, measured), options, model in zip(jobs, merged, typed.jobs):
        content = {
            "job": {k: v for k, v in job.items() if k not in ("name", "estimate")},
            "circuit": data["circuits"]["c"],
            "observables": {n: data["observables"][n] for n in measured},
            "backend": "aer",
            "options": options,
        }
        expected = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:16]
        assert content_hash(typed, model, memo) == content_hash(typed, model) == expected
    hashes = [content_hash(typed, model, memo) for model in typed.jobs]
    assert hashes[0] == hashes[3] == hashes[4] and len(set(hashes[5:])) == 3


def test_learned_estimates_read_older_runs_only_when_the_newer_ones_lack_a_job(tmp_path):
    from qrun.store.reader import History

    def run(folder: str, jobs: list[tuple[str, float]]) -> None:
        entries = [
            {"name": name, "content_hash": "h", "status": "done", "units": 2, "actual": actual} for name, actual in jobs
        ]
        (tmp_path / "spec" / folder).mkdir(parents=True)
        (tmp_path / "spec" / folder / "metadata.json").write_text(json.dumps({"jobs": entries}))

    run("20261101T000000Z-aaaaaa", [("a", 8.0), ("b", 6.0)])
    run("20261102T000000Z-bbbbbb", [("a", 4.0)])
    assert History(tmp_path, "spec").get(("a", "h")) == {"per_unit": 2.0, "run": "20261102T000000Z-bbbbbb"}
    assert History(tmp_path, "spec").get(("b", "h")) == {"per_unit": 3.0, "run": "20261101T000000Z-aaaaaa"}
    # the newest run answered for "a": the older one was never read (so its removal afterwards goes unnoticed)
    learned = History(tmp_path, "spec")
    assert learned.get(("a", "h"))["per_unit"] == 2.0
    (tmp_path / "spec" / "20261101T000000Z-aaaaaa" / "metadata.json").unlink()
    assert learned.get(("b", "h")) is None
    assert History(tmp_path, "absent").get(("a", "h")) is None


def test_an_ended_runs_rates_are_read_back_from_the_cache_until_its_metadata_changes(tmp_path):
    """store/learned.py: the rates of a run that has ended come from a small cache entry the second time; a rewritten
    metadata.json (a resume) is read again, a run still running is never kept, and a damaged entry is a miss."""
    import orjson

    from qrun.store import learned
    from qrun.store.reader import History

    run = tmp_path / "spec" / "20261204T000000Z-aaaaaa"
    run.mkdir(parents=True)

    def write(status: str, actual: float) -> None:
        jobs = [
            {"name": "a", "content_hash": "h", "status": "done", "units": 2, "actual": actual},
            {"name": "b", "content_hash": "g", "status": "failed", "units": 1, "actual": 1.0},
        ]
        (run / "metadata.tmp").write_text(json.dumps({"status": status, "jobs": jobs}))
        (run / "metadata.tmp").replace(run / "metadata.json")  # as the writer does: atomic, a new file

    write("running", 3.0)
    assert learned.rates_of(run) == {("a", "h"): 1.5}
    assert not learned.folder().exists()  # still running: its metadata will change
    write("done", 3.0)
    assert learned.rates_of(run) == {("a", "h"): 1.5}
    (entry,) = learned.folder().glob("*.json")
    entry.write_bytes(orjson.dumps([["a", "h", 9.0]]))  # what the second read returns is the entry's
    assert learned.rates_of(run) == {("a", "h"): 9.0}
    assert History(tmp_path, "spec").get(("a", "h")) == {"per_unit": 9.0, "run": run.name}
    write("done", 4.0)  # resumed and ended again: another entry
    assert learned.rates_of(run) == {("a", "h"): 2.0}
    assert len(list(learned.folder().glob("*.json"))) == 2
    for damaged in ("{not json", '[["a", "h", "fast"]]', '[["a", 1, 2.0]]', '{"a": 1}'):
        for kept in learned.folder().glob("*.json"):
            kept.write_text(damaged)
        assert learned.rates_of(run) == {("a", "h"): 2.0}, damaged


def test_a_completed_run_leaves_its_rates_for_its_rerun_to_read(tmp_path):
    """The run that has just ended keeps its rates (pipeline -> learned.remember), so its re-run reads those and not
    its whole metadata.json: the entry read back is the one the run wrote."""
    import orjson
    from conftest import EXPERIMENTS

    from qrun.app import pipeline
    from qrun.store import learned

    run = pipeline.run(EXPERIMENTS / "bell.yaml", out=tmp_path, progress="none")
    meta = json.loads((run / "metadata.json").read_text())
    expected = {(j["name"], j["content_hash"]): j["actual"] / j["units"] for j in meta["jobs"]}
    assert expected and all(rate > 0 for rate in expected.values())
    (entry,) = learned.folder().glob("*.json")
    assert {(n, h): r for n, h, r in orjson.loads(entry.read_bytes())} == expected
    entry.write_bytes(orjson.dumps([[n, h, 123.0] for n, h in expected]))
    assert learned.rates_of(run) == dict.fromkeys(expected, 123.0)


def test_a_long_plan_shows_its_first_and_last_jobs_and_all_on_request(qrun, tmp_path):
    from conftest import many_jobs_spec

    spec = many_jobs_spec(tmp_path, 100, "primitive: sampler, circuit: b, shots: 10")
    short = qrun("plan", spec)
    assert short.code == 0, short.err
    shown = [k for k in range(100) if f" j{k} " in short.out]
    assert shown == [*range(15), *range(90, 100)]
    assert "│  … │ 75 more (--all) " in short.out
    every = qrun("plan", spec, "--all")
    assert [k for k in range(100) if f" j{k} " in every.out] == list(range(100))


def test_on_aer_max_time_is_optional_and_estimates_are_local_seconds(qrun, write_spec, tmp_path):
    """aer bills nothing: a spec without max_time runs there, and the demo's fresh estimate is seconds, not days."""
    from conftest import EXPERIMENTS

    spec = write_spec(
        "version: 1\nname: nomax\nbackend: aer\n"
        'circuits:\n  b: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; c = measure q;"}\n'
        "jobs:\n  - {name: j, primitive: sampler, circuit: b, shots: 10}\n"
    )
    assert qrun("validate", spec).out == f"{spec}: ok\n"
    assert qrun(spec, "--out", tmp_path / "r", "-q").code == 0
    refused = qrun("validate", spec, "backend=fake_manila")
    assert refused.err.splitlines()[0] == (
        f"{spec}:1:1: missing required key 'max_time': a session on a device needs a budget (on aer it is optional)"
    )
    planned = json.loads(qrun("plan", EXPERIMENTS / "vqe.yaml", "--estimates", "fresh", "--json").out)
    assert planned["total"] < 60  # 151 evaluations of a 2-qubit circuit: about 2 s here, not 135 days
    assert planned["verdict"].startswith("local: about ")


def test_on_aer_each_parameter_set_costs_an_experiment_of_aers(qrun, write_spec):
    """A job of 10,000 rows on aer is estimated at what Aer takes for 10,000 experiments, not at 10 ms."""
    rows = ", ".join(["[0.1, 0.2, 0.3, 0.4]"] * 10_000)
    spec = write_spec(
        "version: 1\nname: rows\nbackend: aer\noptions: {default_precision: 0.1}\n"
        "circuits:\n  c: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}\nobservables:\n  z: ZI\n"
        f"jobs:\n  - {{name: j, primitive: estimator, circuit: c, observables: [z], parameter_values: [{rows}]}}\n"
    )
    (job,) = json.loads(qrun("plan", spec, "--estimates", "fresh", "--json").out)["jobs"]
    depth = job["depth"]  # 10 ms a call; per row 80 us and 4 amplitudes x depth layers x 2 ns
    assert job["estimate"] == pytest.approx(0.01 + 10_000 * (8e-5 + 4 * depth * 2e-9), abs=0.005)  # shown to 10 ms


def test_on_aer_an_estimators_terms_each_cost_a_pass_over_the_state(qrun):
    """The Ising sweep at 22 qubits (43 terms: 21 ZZ and 22 X) and 10 points: the statevector's depth is 1, and the
    terms are most of Aer's time (11 s for the whole run here; 7.4 s estimated). It was estimated at 0.2 s; at 30
    qubits, at minutes for a job that took over an hour, so nothing warned and nothing held it back."""
    from conftest import EXPERIMENTS

    planned = qrun("plan", EXPERIMENTS / "ising_sweep.yaml", "n=22", "points=10", "~jobs.energy.estimate", "--json")
    (job,) = json.loads(planned.out)["jobs"]
    # 20 configurations (10 rows in the Z and the X basis), each a pass through the circuit and its basis's terms
    assert (job["depth"], estimates.TERM_LAYERS) == (1, 2.0)
    assert job["estimate"] == pytest.approx(0.01 + 20 * (8e-5 + 2.0**22 * (1 + 2.0 * 43 / 2) * 2e-9), rel=1e-3)


def test_advice_past_the_longest_session_is_to_lower_the_work():
    over = estimates.budget(8 * 3600, [("scan", 10 * 3600.0)], "0")
    assert over.explain() == (
        "8h (28800 s) is less than the sum of the job estimates, 10h (36000 s); short by 2h. Largest: scan 10h. "
        "No session may last that long (max_time_limit 8h): lower the work (precision, shots, maxiter, sweep "
        "points) or split the jobs over several runs"
    )
    within = estimates.budget(3600, [("scan", 7200.0)], "0")
    assert within.explain().endswith("Raise max_time to at least 2h or lower the estimates")


def test_a_refusal_gives_the_sum_the_plan_gives_and_rounds_only_its_advice_up():
    """22.2 s of estimates and a 10% margin need 24.42 s: the plan said "= 24s" and the refusal below it "25s (25 s)"."""
    short = estimates.budget(14, [("a", 13.0), ("b", 9.2)], "10%")
    assert short.verdict() == "does NOT fit: 22s estimated + 2s margin = 24s of max_time 14s (174%)"
    assert short.explain() == (
        "14s (14 s) is less than the sum of the job estimates plus the 2s margin, 24s (24.4 s); short by 11s. "
        "Largest: a 13s, b 9s. Raise max_time to at least 25s or lower the estimates"
    )


def test_a_spec_never_run_here_has_no_history_to_look_up(tmp_path):
    from qrun.store.reader import History

    assert not History(tmp_path, "spec")
    (tmp_path / "spec" / "20261101T000000Z-aaaaaa").mkdir(parents=True)
    assert History(tmp_path, "spec")


def _planned_ghz(qrun, write_spec, head: str, qubits: int, rest: str):
    """`qrun plan --json` of a spec: `head`, then circuits with `ghz`, a GHZ state of `qubits` (a chain of cx), then
    `rest`. Returns the spec, the outcome and its first job's row."""
    chain = "".join(f" cx q[{i}], q[{i + 1}];" for i in range(qubits - 1))
    ghz = f'  ghz: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[{qubits}] q; h q[0];{chain}"}}\n'
    spec = write_spec(f"{head}circuits:\n{ghz}{rest}")
    done = qrun("plan", spec, "--json")
    assert done.code == 0, done.err
    return spec, done, json.loads(done.out)["jobs"][0]


def test_a_fake_devices_long_noisy_simulation_is_warned_about_before_it_runs(qrun, write_spec):
    """A 20-qubit GHZ state on fake_fez: the device takes seconds, but Aer simulates each of the 2,500 shots as a
    noisy 20-qubit statevector (about 8 minutes here, benchmarks/RESULTS.md). The plan said 11 s and nothing else;
    it now gives the local model's figure, and that max_time counts the device's time (a run prints the same warnings)."""
    from qrun.model import durations

    spec, done, job = _planned_ghz(
        qrun,
        write_spec,
        "version: 1\nname: ghz20\nbackend: fake_fez\nmax_time: 5m\noptions: {seed: 2, resilience_level: 0}\n",
        20,
        '  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; cx q[0], q[1];"}\n'
        "observables:\n  zz: ZZ\n  zz20: ZZIIIIIIIIIIIIIIIIII\n"
        "jobs:\n  - {name: e, primitive: estimator, circuit: ghz, observables: [zz20], precision: 0.02}\n"
        "  - {name: small, primitive: estimator, circuit: bell, observables: [zz], precision: 0.02}\n",
    )
    seconds = 2500 * 2.0**20 * job["depth"] * estimates.LOCAL_AMPLITUDE_LAYER * estimates.NOISY_LAYER
    assert 180 < seconds < 1800  # the model's figure for this job, a few minutes: the case worth warning about
    assert job["simulation_seconds"] == pytest.approx(seconds, abs=1e-3)  # `qrun plan --json` carries it too
    assert done.err == (
        f"warning: jobs[0] (e): fake_fez is simulated here with its noise, a statevector of 20 qubits for every shot: "
        f"about {durations.format(seconds)} on this machine (the device: {durations.format(job['estimate'])}, what max_time "
        "counts); fewer shots or qubits, or backend: aer (noiseless), take far less\n"
    )
    assert qrun("plan", spec, "--json", "max_time=1h").err == done.err  # the run is not stopped by this machine's time
    assert qrun("plan", spec, "--json", "backend=aer").err == ""  # aer's own estimates are local time already


def test_a_ladders_mitigated_rungs_count_their_deeper_simulation(qrun, write_spec):
    """A 12-qubit GHZ ladder on fake_sherbrooke took this machine 214 s (benchmarks/RESULTS.md, "A fake device's
    simulation time"), its ZNE rung 160 s: dynamical decoupling and twirled gates deepen what Aer simulates. The model
    counted the bare circuit's layers (42 s in all, no warning); it now counts theirs, and the advice is fewer rungs,
    not aer, where a ladder cannot run."""
    from qrun.model import durations

    _, done, job = _planned_ghz(
        qrun,
        write_spec,
        "version: 1\nname: lad12\nbackend: fake_sherbrooke\nmax_time: 30m\noptions: {seed: 5}\n",
        12,
        "observables:\n  zz: ZZIIIIIIIIII\n"
        "jobs:\n  - {name: climb, primitive: ladder, circuit: ghz, observables: [zz], exact: statevector, precision: 0.02}\n",
    )
    assert 214 / 1.5 < job["simulation_seconds"] < 214 * 1.5
    assert done.err == (
        f"warning: jobs[0] (climb): fake_sherbrooke is simulated here with its noise, a statevector of 12 qubits for every "
        f"shot: about {durations.format(job['simulation_seconds'])} on this machine (the device: "
        f"{durations.format(job['estimate'])}, what max_time counts); fewer shots or qubits, or fewer rungs, take far "
        "less\n"
    )


def test_exact_values_that_take_minutes_are_warned_about_on_any_backend(qrun, write_spec):
    """qiskit's Statevector evolves a 20-qubit state gate by gate, about 22 ns an amplitude a gate here
    (benchmarks/RESULTS.md), each run of gates on one or two qubits merged first: three brickwork layers of cz and rz
    are 57 such blocks, and 100 sweep points of them take qrun minutes after Aer's seconds. The plan said nothing; it
    now says how long and what takes less. Ten points, 13 s, are not worth a word."""
    spec = write_spec(
        "version: 1\nname: wide-exact\nbackend: aer\noptions: {seed: 3}\ncircuits:\n"
        f'  wide: {{qasm: "{BRICKWORK}"}}\n'
        "observables:\n  z0: {terms: [[ZIIIIIIIIIIIIIIIIIII, 1.0]]}\n"
        "jobs:\n  - {name: curve, primitive: estimator, circuit: wide, observables: [z0], precision: 0.05, "
        "exact: statevector, sweep: {values: {phi: {linspace: [0, 3.0, 100]}}}}\n"
    )
    seconds = 100 * 2**20 * 57 * 2.2e-8
    assert round(seconds) == 131
    planned = qrun("plan", spec)
    assert (planned.code, planned.err) == (
        0,
        "warning: jobs[0] (curve): its exact values take qrun about 2m 11s on this machine (statevector for each of "
        "100 sweep points, 57 gates on 20 qubits); fewer sweep points, exact: stabilizer for a Clifford circuit, or the "
        "value as a number, take less\n",
    )
    assert qrun("plan", spec, "jobs.curve.sweep.values.phi.linspace=[0, 3.0, 10]").err == ""


# ry(phi) on 20 qubits, then three layers of cz on even pairs, cz on odd pairs and rz on every qubit: 137 gates, which
# qiskit's ConsolidateBlocks merges into 57 blocks of one or two qubits
_LAYER = (
    " ".join(f"cz q[{i}], q[{i + 1}];" for i in range(0, 19, 2))
    + " "
    + " ".join(f"cz q[{i}], q[{i + 1}];" for i in range(1, 19, 2))
    + " rz(0.1) q;"
)
BRICKWORK = 'OPENQASM 3.0; include \\"stdgates.inc\\"; input float phi; qubit[20] q; ry(phi) q; ' + " ".join(
    [_LAYER] * 3
)


def test_on_aer_a_later_job_estimated_past_max_time_is_warned_of_before_the_run_stops_at_it(qrun, write_spec, tmp_path):
    """aer bills nothing and its plan is never refused, but a run's clock starts with its first job and a later job
    estimated past what is left of max_time is not sent: a 100-qubit GHZ sampler, estimated at days by a state
    vector's model, stopped so with no word before. The plan and the run now say which job, before it starts."""
    spec = write_spec(
        "version: 1\nname: over\nbackend: aer\nmax_time: 10m\ncircuits:\n"
        '  b: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; h q[0]; c = measure q;"}\n'
        "observables:\n  z: Z\njobs:\n"
        "  - {name: e, primitive: estimator, circuit: b, observables: [z], precision: 0.1, estimate: 8m}\n"
        "  - {name: s, primitive: sampler, circuit: b, shots: 10, estimate: 11m}\n"
    )
    warning = (
        "warning: jobs[1] (s): estimated at 11m of wall time on this machine, more than max_time (10m): aer bills "
        "nothing, but a run starts no job whose estimate is longer than what is left of max_time; raise max_time to "
        "run it"
    )
    assert qrun("plan", spec).err == warning + "\n"
    done = qrun(spec, "--out", tmp_path / "r")
    assert done.code == 1
    assert done.err.splitlines()[0] == warning
    assert "[2/2] s: not run: session expired" in done.err
    assert qrun("plan", spec, "max_time=11m").err == ""
    # the first job too: a job computing past max_time is stopped (the supervisor's watchdog), so it is said before
    assert qrun("plan", spec, "jobs.e.estimate=12m", "max_time=11m").err == (
        "warning: jobs[0] (e): estimated at 12m of wall time on this machine, more than max_time (11m): aer bills "
        "nothing, but a job still computing when max_time has passed is stopped; raise max_time to run it\n"
    )
