"""The qrun-validate pre-commit hook, run by the real pre-commit in a temporary git repository."""

import os
import shutil
import subprocess

import pytest
from conftest import EXPERIMENTS, ROOT

pytestmark = [
    pytest.mark.skipif(
        shutil.which("pre-commit") is None and not (ROOT / ".venv/bin/pre-commit").exists(),
        reason="pre-commit is not installed",
    ),
]


def _pre_commit():
    local = ROOT / ".venv" / "bin" / "pre-commit"
    return str(local) if local.exists() else "pre-commit"


@pytest.fixture(scope="module")
def user_repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("user-repo")
    (repo / "experiments").mkdir()
    (repo / "experiments" / "good.yaml").write_text((EXPERIMENTS / "bell.yaml").read_text())
    (repo / "experiments" / "bad.yaml").write_text((ROOT / "tests" / "bad_specs" / "negative_shots.yaml").read_text())
    (repo / "ci.yaml").write_text("not: [a, qrun, spec]\n")  # YAML outside experiments/ is left alone
    # a template named as the examples are: Jinja to pre-commit's file types, and passed over unchecked before
    bad_template = (EXPERIMENTS / "bell.yaml").read_text().replace("shots: 2000", "shots: {{ -5 }}")
    assert bad_template != (EXPERIMENTS / "bell.yaml").read_text()
    (repo / "experiments" / "bad.yaml.j2").write_text(bad_template)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    return repo


def _try_repo(repo, *files, home):
    return subprocess.run(
        [_pre_commit(), "try-repo", str(ROOT), "qrun-validate", "--files", *files],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PRE_COMMIT_HOME": str(home)},
    )


@pytest.mark.slow  # pre-commit builds the hook's own environment (qrun and qiskit), about a minute on 2 cores
def test_the_hook_passes_a_good_spec_and_blocks_a_bad_one(user_repo, tmp_path_factory):
    home = tmp_path_factory.mktemp("pre-commit-home")
    good = _try_repo(user_repo, "experiments/good.yaml", "ci.yaml", home=home)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "qrun validate" in good.stdout and "Passed" in good.stdout
    bad = _try_repo(user_repo, "experiments/good.yaml", "experiments/bad.yaml", home=home)
    assert bad.returncode == 1
    assert "experiments/bad.yaml:14:12: jobs[0].shots: -5 is less than the minimum of 1" in bad.stdout
    assert "Failed" in bad.stdout
    template = _try_repo(user_repo, "experiments/good.yaml", "experiments/bad.yaml.j2", home=home)
    assert template.returncode == 1, template.stdout
    assert "experiments/bad.yaml.j2:" in template.stdout and "-5 is less than the minimum of 1" in template.stdout


def test_pip_install_qrun_brings_what_a_run_needs():
    """`pip install qrun` runs specs: Aer and the runtime are core dependencies (the pre-commit hook's environment
    gets them too; the README states its size). `qrun[run]` stays, empty, for older instructions."""
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {re.split(r"[<>=\[ ]", d)[0] for d in project["dependencies"]}
    assert {"qiskit", "qiskit-aer", "qiskit-ibm-runtime", "numpy", "scipy", "orjson"} <= core
    assert project["optional-dependencies"]["run"] == []
