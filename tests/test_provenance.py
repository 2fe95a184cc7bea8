"""Where a run came from: versions, hashes, git state."""

import subprocess

from qrun.store import provenance


def test_versions_name_qrun_python_and_the_runtime_stack():
    v = provenance.versions()
    assert set(v) == {"qrun", "python", "qiskit", "qiskit-ibm-runtime", "qiskit-aer"}
    assert v["qiskit"].startswith("2.") and v["qiskit-ibm-runtime"].startswith("0.51")


def test_sha256_is_of_the_utf8_text():
    assert provenance.sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_git_state_tracks_commit_dirty_and_path(tmp_path):
    repo = tmp_path / "repo"
    (repo / "exp").mkdir(parents=True)
    spec = repo / "exp" / "a.yaml"
    spec.write_text("x: 1\n")
    assert provenance.git_state(spec) is None  # not a repository yet
    run = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    run("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "0")
    untracked = provenance.git_state(spec)
    assert untracked["dirty"] is True and untracked["path"] is None
    run("add", "-A")
    run("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", "1")
    clean = provenance.git_state(spec)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    assert clean == {"commit": head, "dirty": False, "path": "exp/a.yaml"}
    spec.write_text("x: 2\n")
    assert provenance.git_state(spec)["dirty"] is True


def test_git_state_runs_no_command_the_repository_configures(tmp_path):
    # core.fsmonitor names a program git runs when it refreshes the index (git status does); a clean filter is run
    # to compare a file's content. A cloned repository sets either in .git/config: qrun must run neither.
    repo = tmp_path / "repo"
    repo.mkdir()
    spec = repo / "a.yaml"
    spec.write_text("x: 1\n")
    run = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    run("add", "-A")
    run("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", "1")
    marker = tmp_path / "pwned"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\ncat\n")
    hook.chmod(0o755)
    run("config", "core.fsmonitor", str(hook))
    run("config", "filter.evil.clean", str(hook))
    (repo / ".gitattributes").write_text("*.yaml filter=evil\n")
    assert provenance.git_state(spec)["dirty"] is False
    spec.write_text("x: 2\n")
    assert provenance.git_state(spec)["dirty"] is True
    assert not marker.exists()
