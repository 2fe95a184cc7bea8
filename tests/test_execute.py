import json

import numpy as np
import pytest

from conftest import EXPERIMENTS

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
    text = bell.replace("jobs:\n", "jobs:\n" + "".join(
        f"  - {{name: j{i}, primitive: sampler, circuit: bell, shots: 10, estimate: 5s}}\n" for i in (1, 2)))
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
