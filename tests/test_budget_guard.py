"""The budget guard nobody can bypass by accident: a shot ceiling at validate time, and estimates checked
against qrun's own computed figure before any job is submitted."""

from __future__ import annotations

import re

from conftest import EXPERIMENTS


def _vqe_on(device: str, tmp_path, extra: str = "") -> str:
    text = (EXPERIMENTS / "vqe.yaml").read_text().replace("backend: {{ backend }}", f"backend: {device}")
    text = text.replace("max_time: 30m", f"max_time: 30m{extra}")
    path = tmp_path / "vqe.yaml"
    path.write_text(text)
    return str(path)


def test_vqe_at_precision_1e_4_on_a_127_qubit_device_is_refused_by_validate_and_run_alike(qrun, tmp_path):
    spec = _vqe_on("fake_sherbrooke", tmp_path)
    expected = (
        f"{spec}:31:16: jobs[0].precision: precision 0.0001 means 100,000,000 shots per evaluation, more than "
        "the limit of 1,000,000 (limits.shots); raise the precision value, or raise limits.shots to allow it"
    )
    checked = qrun("validate", spec)
    assert checked.code == 2
    assert checked.err.splitlines()[0] == expected
    ran = qrun(spec, "--out", tmp_path / "results")
    assert ran.code == 2
    assert ran.err.strip() == expected
    assert not (tmp_path / "results").exists()


def test_raising_the_shot_limit_still_meets_the_estimate_floor(qrun, tmp_path):
    spec = _vqe_on("fake_sherbrooke", tmp_path, "\nlimits: {shots: 100000000}")
    ran = qrun(spec, "--out", tmp_path / "results")
    assert ran.code == 2
    line = ran.err.strip()
    # the computed figure depends on the device's calibration; everything else is verbatim
    figure = re.search(r"computes for this job, (.+?) \(", line).group(1)
    assert figure.startswith("131d")
    assert line == (
        f"{spec}:36:15: jobs[0].estimate: the declared estimate 10s per evaluation (25m 10s in all) is less than a "
        f"third of what qrun computes for this job, {figure} (100,000,000 shots per configuration on this backend's "
        "timing); raise the estimate or remove it (qrun then uses its own), lower the work, or set trust_estimate: "
        "true on the job to accept the risk"
    )
    assert not (tmp_path / "results").exists()


def test_plan_shows_the_qpu_time_charged_and_its_cost_at_a_rate(qrun, tmp_path, monkeypatch):
    spec = EXPERIMENTS / "seed_example.yaml"
    plain = qrun("plan", spec, "--json")
    assert plain.code == 0, plain.err
    import json

    summary = json.loads(plain.out)
    assert summary["qpu_seconds"] > 0 and summary["cost"] is None
    monkeypatch.setenv("QRUN_RATE", "1.6")
    priced = json.loads(qrun("plan", spec, "--json").out)
    assert priced["cost"] == round(priced["qpu_seconds"] * 1.6, 2)
    table = qrun("plan", spec, "--rate", "2")
    assert f"cost at 2/s: {summary['qpu_seconds'] * 2:,.2f}" in table.out


def test_aer_has_no_shot_ceiling_because_its_shot_noise_is_emulated(qrun):
    assert qrun("validate", EXPERIMENTS / "vqe.yaml").code == 0
