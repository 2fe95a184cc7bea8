import json
from pathlib import Path

import pytest
from conftest import EXPERIMENTS

from qrun import load
from qrun.report import list_text, runs, show, summary


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished mixed run and a failed run under one results root."""
    from qrun.cli import main

    out = tmp_path_factory.mktemp("results")
    assert main([str(EXPERIMENTS / "mixed.yaml"), "--out", str(out), "--quiet"]) == 0
    (run_dir,) = (out / "mixed").iterdir()
    return out, run_dir


def test_show_tabulates_states_results_and_estimate_against_actual(finished):
    out, run_dir = finished
    run = load(run_dir)
    text = show(run)
    assert text.splitlines()[0].strip() == f"mixed: completed ({run_dir.name})"
    for entry in run.metadata["jobs"]:
        assert entry["name"] in text and f"{entry['actual']:.2f}s" in text
    assert "energies" in text and "<zz> = " in text and "ghz-counts" in text
    # GHZ on a noisy device: 000 and 111 lead, in either order
    assert "c {000: " in text or "c {111: " in text
    assert "session: session on fake_manila (backend-primitives+runtime-client-primitives), max_time 10m" in text
    assert "attempts: 1; spec " in text


def test_qrun_show_and_list_commands(qrun, finished):
    out, run_dir = finished
    shown = qrun("show", run_dir)
    assert shown.code == 0 and "bell-counts" in shown.out
    listed = qrun("list", out)
    assert listed.code == 0
    header, row = listed.out.splitlines()
    assert header.split() == ["run", "status", "jobs", "backend", "started"]
    assert row.split()[:4] == [str(run_dir), "completed", "3/3", "fake_manila"]


def test_list_of_an_empty_root(tmp_path):
    assert list_text(tmp_path) == f"no runs under {tmp_path}"
    assert runs(tmp_path) == []


def test_summary_has_one_line_per_job(finished):
    _, run_dir = finished
    lines = summary(load(run_dir)).splitlines()
    assert [line.split(":")[0] for line in lines] == ["energies", "ghz-counts", "bell-counts"]
    assert lines[2].endswith("of 500 shots")


def test_load_round_trips_equal_values(finished):
    import numpy as np

    _, run_dir = finished
    run = load(run_dir)
    body = json.loads((run_dir / "jobs" / "00-energies.json").read_text())
    evs = run.result("energies")[0].data.evs
    assert np.array_equal(evs, np.array([body["observables"]["zz"]["values"], body["observables"]["field"]["values"]]))
    counts = run.result("bell-counts")[0].data.c.get_counts()
    assert counts == body_counts(run_dir / "jobs" / "02-bell-counts.json")


def body_counts(path: Path) -> dict:
    return json.loads(path.read_text())["counts"]["c"][0]
