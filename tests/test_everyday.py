"""The README's everyday tasks, driven through the CLI as a new user would type them, with their output checked."""

import json
import math
from pathlib import Path

from conftest import EXPERIMENTS


def _meta(run_dir: Path) -> dict:
    return json.loads((run_dir / "metadata.json").read_text())


def _only(folder: Path) -> Path:
    (found,) = [p for p in folder.iterdir() if p.is_dir()]
    return found


def test_change_the_backend(qrun, tmp_path):
    done = qrun(EXPERIMENTS / "bell.yaml", "backend=fake_sherbrooke", "--out", tmp_path, "-q")
    assert done.code == 0, done.err
    meta = _meta(Path(done.out.strip()))
    assert meta["session"]["backend"] == "fake_sherbrooke"
    assert meta["spec"]["overrides"] == {"backend": "fake_sherbrooke"}
    counts = json.loads(next((Path(done.out.strip()) / "jobs").glob("*.json")).read_text())["counts"]["c"][0]
    assert counts["00"] + counts["11"] > 0.9 * sum(counts.values())  # a Bell pair, with a real device's noise


def test_change_the_budget(qrun, tmp_path):
    short = qrun(EXPERIMENTS / "mixed.yaml", "max_time=1m", "--out", tmp_path)
    assert short.code == 2 and not (tmp_path / "mixed").exists()
    assert short.err.strip() == (
        f"{EXPERIMENTS / 'mixed.yaml'}: max_time: --set max_time=1m: 1m (60 s) is less than the sum of the job "
        "estimates (rehearsing fake_manila: the time the real device would take) plus the 12s margin, 2m 12s "
        "(132 s); short by 1m 12s. Largest: energies 1m, ghz-counts 30s, bell-counts 30s. Raise max_time to at "
        "least 2m 12s or lower the estimates"
    )
    enough = qrun("plan", EXPERIMENTS / "mixed.yaml", "max_time=2m 12s")
    assert enough.code == 0  # the advice is one qrun accepts


def test_override_add_and_remove(qrun, tmp_path):
    done = qrun(
        EXPERIMENTS / "mixed.yaml",
        "backend=aer",
        "~jobs.energies",
        "+jobs.ghz-counts.shots=64",
        "--out",
        tmp_path,
        "-q",
    )
    assert done.code == 0, done.err
    run_dir = Path(done.out.strip())
    assert [j["name"] for j in _meta(run_dir)["jobs"]] == ["ghz-counts", "bell-counts"]
    ghz = json.loads((run_dir / "jobs" / "00-ghz-counts.json").read_text())
    assert ghz["shots"] == 64 and sum(ghz["counts"]["c"][0].values()) == 64
    assert set(ghz["counts"]["c"][0]) == {"000", "111"}  # noiseless GHZ on aer


def test_sweep_a_parameter(qrun, tmp_path):
    done = qrun(EXPERIMENTS / "ising_sweep.yaml", "points=5", "+jobs.energy.exact=statevector", "--out", tmp_path, "-q")
    assert done.code == 0, done.err
    body = json.loads(next((Path(done.out.strip()) / "jobs").glob("*.json")).read_text())
    assert len(body["points"]) == 5
    for p in body["points"]:
        exact = -1.0 * 3 * math.cos(p["theta"]) ** 2 - 1.0 * 4 * math.sin(p["theta"])  # -J(n-1)cos² - h n sin
        assert abs(p["exact"] - exact) < 1e-9
        assert abs(p["value"] - exact) < 5 * p["stderr"]


def test_multirun_and_compare(qrun, tmp_path):
    done = qrun(EXPERIMENTS / "bell.yaml", "-m", "options.seed=1,2", "--out", tmp_path, "-q")
    assert done.code == 0, done.err
    group = Path(done.out.strip())
    listed = qrun("list", tmp_path).out.splitlines()
    assert [line.split()[0] for line in listed[2:]] == [
        f"bell/{group.name}/options.seed=1",
        f"bell/{group.name}/options.seed=2",
    ]
    shown = qrun("show", group).out
    assert f"multirun {group.name}: 2 points over options.seed" in shown
    diffed = qrun("diff", group / "options.seed=1", group / "options.seed=2").out.splitlines()
    assert diffed[:2] == ["spec: options.seed=1 -> options.seed=2", "  options.seed: 1 -> 2"]


def test_resume_after_an_interrupt_says_what_to_do(qrun, tmp_path):
    done = qrun(EXPERIMENTS / "bell.yaml", "--out", tmp_path, "-q")
    run_dir = Path(done.out.strip())
    again = qrun(EXPERIMENTS / "bell.yaml", "--out", tmp_path, "--resume")
    assert again.code == 0
    assert f"qrun: {run_dir} already completed; nothing to resume" in again.err
