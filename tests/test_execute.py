import json

import numpy as np
import pytest
from conftest import EXPERIMENTS, Ticking

from qrun.running import batching

SEED_EXACT = 0.23731599329078515  # <IY> of random_circuit(2, 2, seed=1).decompose(), checked below


def _run_dir(tmp_path, name):
    (run,) = (tmp_path / "results" / name).iterdir()
    return run


def test_the_exact_value_of_the_seed_example():
    from qiskit.circuit.random import random_circuit
    from qiskit.quantum_info import SparsePauliOp, Statevector

    qc = random_circuit(2, 2, seed=1).decompose(reps=1)
    assert Statevector(qc).expectation_value(SparsePauliOp("IY")).real == pytest.approx(SEED_EXACT, abs=1e-12)


def test_seed_example_on_fake_manila_at_resilience_2_is_within_0_05_and_repeats(qrun, tmp_path):
    values = []
    for attempt in ("a", "b"):
        result = qrun(EXPERIMENTS / "seed_example.yaml", "--out", tmp_path / attempt, "--quiet")
        assert result.code == 0, result.err
        body = json.loads((tmp_path / attempt / "seed-example").glob("*/jobs/00-energy.json").__next__().read_text())
        values.append(body["observables"]["iy"]["values"][0])
    assert abs(values[0] - SEED_EXACT) < 0.05
    assert values[0] == values[1]  # seeded: transpiler, twirling and shot noise all repeat


def test_seed_example_on_aer_is_within_4_standard_errors(qrun, tmp_path):
    spec = tmp_path / "seed_aer.yaml"
    spec.write_text((EXPERIMENTS / "seed_example.yaml").read_text().replace("backend: fake_manila", "backend: aer"))
    result = qrun(spec, "--out", tmp_path / "results")
    assert result.code == 0, result.err
    body = json.loads((_run_dir(tmp_path, "seed-example") / "jobs" / "00-energy.json").read_text())
    value, stderr = body["observables"]["iy"]["values"][0], body["observables"]["iy"]["stderrs"][0]
    assert 0 < stderr <= 0.016
    assert abs(value - SEED_EXACT) < 4 * stderr


def test_bell_on_aer_gives_only_00_and_11_about_half_each(qrun, tmp_path):
    result = qrun(EXPERIMENTS / "bell.yaml", "--out", tmp_path / "results")
    assert result.code == 0, result.err
    body = json.loads((_run_dir(tmp_path, "bell") / "jobs" / "00-counts.json").read_text())
    (counts,) = body["counts"]["c"]
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == 2000
    assert abs(counts["00"] / 2000 - 0.5) < 0.05


def test_mixed_example_matches_exact_values_on_a_noisy_device(qrun, tmp_path):
    from qiskit.circuit.library import real_amplitudes
    from qiskit.quantum_info import SparsePauliOp, Statevector

    result = qrun(EXPERIMENTS / "mixed.yaml", "--out", tmp_path / "results")
    assert result.code == 0, result.err
    run = _run_dir(tmp_path, "mixed")
    body = json.loads((run / "jobs" / "00-energies.json").read_text())
    qc = real_amplitudes(2, reps=1)
    for row, params in enumerate(body["parameter_values"]):
        state = Statevector(qc.assign_parameters(params))
        for name, label in (("zz", "ZZ"), ("field", [("XI", 0.5), ("IX", 0.5), ("ZZ", -1.0)])):
            op = SparsePauliOp(label) if isinstance(label, str) else SparsePauliOp.from_list(label)
            exact = state.expectation_value(op).real
            # fake_manila's noise, mitigated by TREX only: a loose but meaningful band
            assert abs(body["observables"][name]["values"][row] - exact) < 0.1
    ghz = json.loads((run / "jobs" / "01-ghz-counts.json").read_text())["counts"]["c"][0]
    assert (ghz.get("000", 0) + ghz.get("111", 0)) / 1000 > 0.8


def test_a_failing_second_job_stops_the_run_and_keeps_the_first(qrun, tmp_path, write_spec, monkeypatch):
    from qiskit_aer.primitives import SamplerV2

    calls = []
    real_run = SamplerV2.run

    def flaky(self, pubs, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("backend went away")
        return real_run(self, pubs, **kw)

    monkeypatch.setattr(SamplerV2, "run", flaky)
    bell = (EXPERIMENTS / "bell.yaml").read_text()
    text = bell.replace(
        "jobs:\n",
        "jobs:\n"
        + "".join(f"  - {{name: j{i}, primitive: sampler, circuit: bell, shots: 10, estimate: 5s}}\n" for i in (1, 2)),
    )
    # one job at a time (consecutive jobs on one circuit would otherwise go out as one PUB-batched job)
    text = text.replace("options:\n  seed: 7\n", "options:\n  seed: 7\n  batch: false\n")
    assert "batch: false" in text
    result = qrun(write_spec(text), "--out", tmp_path / "results")
    assert result.code == 1
    assert len(calls) == 2  # the third job was never submitted
    assert "qrun: job 'j2' failed: RuntimeError: backend went away" in result.err
    run = _run_dir(tmp_path, "bell")
    meta = json.loads((run / "metadata.json").read_text())
    assert meta["status"] == "failed"
    assert meta["error"] == "job 'j2' failed: RuntimeError: backend went away"
    assert [j["status"] for j in meta["jobs"]] == ["done", "failed", "not run"]
    assert meta["session"]["closed"] is not None
    assert sorted(p.name for p in (run / "jobs").iterdir()) == ["00-j1.json"]


# ---------------------------------------------------------------- minimize (VQE) and from:

H2_EXACT = -1.857275  # ground energy of the spec's 2-qubit H2 Hamiltonian, checked below
CHEMICAL_ACCURACY = 1.6e-3


def test_the_exact_h2_ground_energy():
    from qiskit.quantum_info import SparsePauliOp

    h2 = SparsePauliOp.from_list(
        [
            ("II", -1.052373245772859),
            ("IZ", 0.39793742484318045),
            ("ZI", -0.39793742484318045),
            ("ZZ", -0.01128010425623538),
            ("XX", 0.18093119978423156),
        ]
    )
    assert np.linalg.eigvalsh(h2.to_matrix()).min() == pytest.approx(H2_EXACT, abs=1e-6)


def _vqe(qrun, tmp_path, *sets, spec=EXPERIMENTS / "vqe.yaml"):
    args = [a for s in sets for a in ("--set", s)]
    result = qrun(spec, "--out", tmp_path / "results", *args)
    run = next((tmp_path / "results" / "vqe-h2").iterdir())
    return result, run, json.loads((run / "metadata.json").read_text())


def test_vqe_on_aer_reaches_chemical_accuracy_then_samples_the_optimum(qrun, tmp_path):
    result, run, meta = _vqe(qrun, tmp_path)
    assert result.code == 0, result.err
    vqe = json.loads((run / "jobs" / "00-vqe.json").read_text())
    assert abs(vqe["optimum"]["value"] - H2_EXACT) < CHEMICAL_ACCURACY
    assert vqe["optimum"]["final_evaluation"] is True
    assert vqe["nfev"] == len(vqe["trace"]) + 1 <= vqe["max_evaluations"]
    assert [t["evaluation"] for t in vqe["trace"]] == list(range(1, len(vqe["trace"]) + 1))
    # every evaluation was its own job in the session, and the record lists them all
    assert len(meta["jobs"][0]["job_ids"]) == vqe["nfev"] == len(set(meta["jobs"][0]["job_ids"]))
    counts = json.loads((run / "jobs" / "01-final-counts.json").read_text())
    assert counts["parameter_values"] == [vqe["optimum"]["parameters"]]
    assert counts["parameter_values_from"] == "vqe"
    # H2's ground state here is (almost) |01>: the sampler at the optimum must say so
    (dist,) = counts["counts"]["meas"]
    assert dist.get("01", 0) / 2000 > 0.95


NEAR_OPTIMUM = [0.037731413859833765, -0.3962222239735638, 2.899926645027054, 0.374335053627172]
NEAR_OPTIMUM_EXACT = -1.8308774657069582  # Statevector at NEAR_OPTIMUM, the H2 Hamiltonian of vqe.yaml


def test_resilience_2_lands_closer_to_the_exact_energy_than_level_0_on_a_noisy_device(qrun, tmp_path):
    """Mitigation's promise, at a fixed point so the optimizer's path cannot blur it: readout error and gate noise
    bias level 0 by about +25 mHa; TREX + ZNE + twirling remove most of it (measured: about 2 mHa)."""
    errors = {}
    for level in (0, 2):
        text = (EXPERIMENTS / "vqe.yaml").read_text().split("jobs:")[0]
        text += f"""jobs:
  - name: e
    primitive: estimator
    circuit: ansatz
    observables: [h2]
    parameter_values: [{NEAR_OPTIMUM}]
    precision: 0.01
"""
        spec = tmp_path / f"level{level}.yaml"
        spec.write_text(text)
        result = qrun(
            spec, "--out", tmp_path / "r", "--set", "backend=fake_manila", "--set", f"resilience_level={level}", "-q"
        )
        assert result.code == 0, result.err
        body = json.loads((tmp_path / result.out.strip() / "jobs" / "00-e.json").read_text())
        errors[level] = abs(body["observables"]["h2"]["values"][0] - NEAR_OPTIMUM_EXACT)
    assert errors[0] > 0.015
    assert errors[2] < errors[0] - 0.01


@pytest.mark.slow
def test_vqe_on_a_noisy_device_at_resilience_2_ends_near_the_ground_energy(qrun, tmp_path):
    result, run, _ = _vqe(qrun, tmp_path, "backend=fake_manila", "precision=0.03", "maxiter=40", "resilience_level=2")
    assert result.code == 0, result.err
    vqe = json.loads((run / "jobs" / "00-vqe.json").read_text())
    # COBYLA on noisy ZNE values: the optimum is a noisy estimate of a noisy search, so the bound is loose
    assert abs(vqe["optimum"]["value"] - H2_EXACT) < 0.3


def _short_vqe(write_spec, final_job: bool):
    text = (EXPERIMENTS / "vqe.yaml").read_text().replace("max_time: 30m", "max_time: 40s")
    text = text.replace("estimate: 10s", "estimate: 1s").replace("estimate: 30s", "estimate: 1s")
    if not final_job:
        text = text.split("  - name: final-counts")[0]
    return write_spec(text)


def _fake_clock(qrun, step=1.0):
    qrun.clock = Ticking(step)


def test_a_deadline_stops_minimize_with_the_best_point_and_exit_0(qrun, tmp_path, write_spec, monkeypatch):
    _fake_clock(qrun)  # every clock read is one second later: ~3 s per evaluation against max_time 40s
    result, run, meta = _vqe(qrun, tmp_path, "maxiter=30", spec=_short_vqe(write_spec, final_job=False))
    assert result.code == 0, result.err
    vqe = json.loads((run / "jobs" / "00-vqe.json").read_text())
    assert meta["jobs"][0]["status"] == vqe["status"] == vqe["stopped"] == "stopped: deadline"
    assert meta["status"] == "completed"
    assert 5 < len(vqe["trace"]) < 30
    best = min(vqe["trace"], key=lambda t: t["value"])
    assert vqe["optimum"] == {
        "parameters": best["parameters"],
        "value": best["value"],
        "stderr": best["stderr"],
        "final_evaluation": False,
    }
    assert vqe["message"].startswith(
        f"stopped before evaluation {len(vqe['trace']) + 1}: it would pass the deadline (max_time)"  # a batch's too
    )


def test_jobs_after_the_deadline_are_not_run_and_the_run_exits_1(qrun, tmp_path, write_spec, monkeypatch):
    _fake_clock(qrun)
    result, run, meta = _vqe(qrun, tmp_path, "maxiter=30", spec=_short_vqe(write_spec, final_job=True))
    assert result.code == 1
    assert [j["status"] for j in meta["jobs"]] == ["stopped: deadline", "not run: session expired"]
    assert "qrun: the session reached max_time (40s) before job 'final-counts'; 1 job not run" in result.err
    assert meta["session"]["closed"] is not None


def test_the_trace_is_on_disk_while_minimize_runs(qrun, tmp_path, monkeypatch):
    from qrun.running.events import NullSink

    class CrashOnSixth(NullSink):
        """Fails the sixth evaluation as it goes out, after the run folder recorded its submission."""

        submitted = 0

        def jobs_submitted(self, jobs, job_id, pubs):
            self.submitted += 1
            if self.submitted == 6:
                raise RuntimeError("laptop lid closed")

    qrun.sinks.append(CrashOnSixth())
    result, run, meta = _vqe(qrun, tmp_path)
    assert result.code == 1
    partial = json.loads((run / "jobs" / "00-vqe.json").read_text())
    assert partial["status"] == "running"
    assert [t["evaluation"] for t in partial["trace"]] == [1, 2, 3, 4, 5]
    assert meta["jobs"][0]["status"] == "failed"


def test_library_warnings_are_recorded_per_job_and_shown_once(qrun, tmp_path, monkeypatch):
    import warnings

    from qiskit_aer.primitives import SamplerV2

    real_run = SamplerV2.run

    def noisy(self, pubs, **kw):
        warnings.warn("fit fell back to unweighted", UserWarning, stacklevel=1)
        warnings.warn("fit fell back to unweighted", UserWarning, stacklevel=1)
        return real_run(self, pubs, **kw)

    monkeypatch.setattr(SamplerV2, "run", noisy)
    result = qrun(EXPERIMENTS / "bell.yaml", "--out", tmp_path / "results")
    assert result.code == 0
    meta = json.loads((_run_dir(tmp_path, "bell") / "metadata.json").read_text())
    assert meta["jobs"][0]["warnings"] == ["UserWarning: fit fell back to unweighted (x2)"]
    assert result.err.count("fit fell back to unweighted") == 1


def test_runs_with_adjacent_seeds_are_not_shifted_copies_of_each_other(qrun, tmp_path, write_spec):
    """With seed + k, job k at seed s had exactly the noise of job k-1 at seed s+1; SeedSequence ends that."""
    spec = write_spec(
        """vars: {seed: 5}
version: 1
name: replicas
backend: aer
max_time: 10m
options: {seed: {{ seed }}, default_precision: 0.1}
circuits:
  c: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}
observables:
  zz: ZZ
jobs:
"""
        + "".join(
            f"  - {{name: j{i}, primitive: estimator, circuit: c, observables: [zz], "
            "parameter_values: [[0.3, 0.1, 0.2, 0.4]]}\n"
            for i in range(4)
        )
    )
    values = {}
    for seed in (5, 6):
        result = qrun(spec, "--out", tmp_path / f"r{seed}", "--set", f"seed={seed}", "-q")
        assert result.code == 0, result.err
        run = tmp_path / result.out.strip()
        values[seed] = [
            json.loads((run / "jobs" / f"{i:02d}-j{i}.json").read_text())["observables"]["zz"]["values"][0]
            for i in range(4)
        ]
    assert values[5][1:] != values[6][:-1]
    assert len(set(values[5])) == 4 and len(set(values[6])) == 4  # every job draws its own noise


def test_consecutive_small_jobs_go_out_as_one_pub_batched_job_with_the_values_of_separate_ones(
    qrun, tmp_path, write_spec, monkeypatch
):
    head = (
        """version: 1
name: many
backend: aer
max_time: 10m
options: {seed: 3, default_precision: 0.1, default_shots: 100BATCH}
circuits:
  c: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}
  b: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}
observables:
  z: ZI
  x: XX
jobs:
"""
        # e0-e2 and e3 differ in observables: on aer, their exact values go out as two PUBs of stacked rows
        + "".join(
            f"  - {{name: e{i}, primitive: estimator, circuit: c, observables: [{'x' if i == 3 else 'z'}], "
            f"parameter_values: [[0.{i}, 0.2, 0.3, 0.4]{', [1, 2, 3, 4]' if i == 1 else ''}]}}\n"
            for i in range(4)
        )
        + "".join(f"  - {{name: s{i}, primitive: sampler, circuit: b}}\n" for i in range(3))
    )
    runs = {}
    for batch in ("", ", batch: false"):
        spec = write_spec(head.replace("BATCH", batch), f"many{len(batch)}.yaml")
        result = qrun(spec, "--out", tmp_path / f"r{len(batch)}", "-q")
        assert result.code == 0, result.err
        runs[batch] = tmp_path / result.out.strip()
    batched, separate = runs[""], runs[", batch: false"]
    # a batch holds at most LOCAL_BATCH jobs: at 2, the seven jobs go out as four runtime jobs, values unchanged
    monkeypatch.setattr(batching, "LOCAL_BATCH", 2)
    result = qrun(write_spec(head.replace("BATCH", ""), "capped.yaml"), "--out", tmp_path / "capped", "-q")
    capped = tmp_path / result.out.strip()
    entries = json.loads((capped / "metadata.json").read_text())["jobs"]
    assert [j["job_ids"][0] for j in entries] == [e["job_ids"][0] for e in entries[::2] for _ in (0, 1)][:7]
    assert len({j["job_ids"][0] for j in entries}) == 4
    # e0 and e1 share their observables (one merged PUB); e2 and e3 do not; s2 runs alone, unbatched
    assert [j["batched"] and j["batched"]["pub"] for j in entries] == [0, 0, 0, 1, 0, 1, None]
    for name in [f"0{i}-e{i}.json" for i in range(4)]:
        a, b = (json.loads((d / "jobs" / name).read_text())["observables"] for d in (capped, separate))
        assert a == b
    entries = json.loads((batched / "metadata.json").read_text())["jobs"]
    ids = [j["job_ids"] for j in entries]
    assert len({i[0] for i in ids[:4]}) == 1 and len({i[0] for i in ids[4:]}) == 1  # two runtime jobs in all
    assert [j["batched"]["pub"] for j in entries] == [0, 0, 0, 1, 0, 1, 2]
    assert len({j["job_ids"][0] for j in json.loads((separate / "metadata.json").read_text())["jobs"]}) == 7
    for name in [f"0{i}-e{i}.json" for i in range(4)]:
        a, b = (json.loads((d / "jobs" / name).read_text())["observables"] for d in (batched, separate))
        assert a == b  # each job's noise is its own seed's, batched or not
    values = [
        json.loads((batched / "jobs" / f"0{i}-e{i}.json").read_text())["observables"]["z"]["values"] for i in range(3)
    ]
    assert [len(v) for v in values] == [1, 2, 1] and len({v[0] for v in values}) == 3


def test_on_aer_small_jobs_on_different_circuits_share_a_runtime_job_and_keep_their_own_values(
    qrun, tmp_path, write_spec
):
    """On aer, consecutive small jobs of one kind go out together whatever their circuits: estimators as one PUB per
    run of a circuit (rows merged only within one), samplers one PUB each. Each job's values are those it gets
    alone: the estimators' equal an unbatched run's, and each sampler counts its own circuit's one outcome."""
    head = """version: 1
name: mixed
backend: aer
options: {seed: 4, default_precision: 0.05, default_shots: 50BATCH}
circuits:
  c: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}
  d: {library: real_amplitudes, args: {num_qubits: 2, reps: 2}}
  x0: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; x q[0]; c = measure q;"}
  x1: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; x q[1]; c = measure q;"}
observables:
  z: ZI
jobs:
  - {name: e0, primitive: estimator, circuit: c, observables: [z], parameter_values: [[0.1, 0.2, 0.3, 0.4]]}
  - {name: e1, primitive: estimator, circuit: d, observables: [z], parameter_values: [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]]}
  - {name: e2, primitive: estimator, circuit: c, observables: [z], parameter_values: [[0.5, 0.2, 0.3, 0.4]]}
  - {name: s0, primitive: sampler, circuit: x0}
  - {name: s1, primitive: sampler, circuit: x1}
"""
    runs = {}
    for batch in ("", ", batch: false"):
        result = qrun(write_spec(head.replace("BATCH", batch), f"mixed{len(batch)}.yaml"), "--out", tmp_path, "-q")
        assert result.code == 0, result.err
        runs[batch] = tmp_path / result.out.strip()
    batched, separate = runs[""], runs[", batch: false"]
    entries = json.loads((batched / "metadata.json").read_text())["jobs"]
    assert len({e["job_ids"][0] for e in entries[:3]}) == 1 and len({e["job_ids"][0] for e in entries[3:]}) == 1
    assert [e["batched"]["pub"] for e in entries] == [0, 1, 2, 0, 1]
    assert len({e["job_ids"][0] for e in json.loads((separate / "metadata.json").read_text())["jobs"]}) == 5
    for name in ("00-e0.json", "01-e1.json", "02-e2.json"):
        a, b = (json.loads((d / "jobs" / name).read_text())["observables"] for d in (batched, separate))
        assert a == b
    for name, outcome in (("03-s0.json", "01"), ("04-s1.json", "10")):
        assert json.loads((batched / "jobs" / name).read_text())["counts"] == {"c": [{outcome: 50}]}
