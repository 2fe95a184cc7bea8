"""Where a run came from: versions, hashes, git state."""

import os
import subprocess
import sys

from qrun.store import provenance


def test_versions_name_qrun_python_and_the_runtime_stack():
    v = provenance.versions()
    assert set(v) == {"qrun", "python", "qiskit", "qiskit-ibm-runtime", "qiskit-aer"}
    assert v["qiskit"].startswith("2.") and v["qiskit-ibm-runtime"].startswith("0.51")


def test_package_versions_are_what_importlib_metadata_reads_for_every_installed_distribution():
    from importlib import metadata

    names = {d.metadata["Name"] for d in metadata.distributions()}
    assert len(names) > 50 and {"qiskit", "PyYAML", "qiskit-aer"} <= names
    for name in names:
        assert provenance.package_version(name) == metadata.version(name), name
    # spelled as pip would accept it
    assert provenance.package_version("pyyaml") == provenance.package_version("PyYAML") == metadata.version("PyYAML")
    assert provenance.package_version("qiskit_ibm_runtime") == metadata.version("qiskit-ibm-runtime")
    assert provenance.package_version("no-such-distribution-here") is None


def test_a_run_reads_the_versions_without_importlib_metadata():
    # importlib.metadata parses each METADATA file with the email package: what every run paid to record three
    # versions (RESULTS.md). A fresh interpreter, so that nothing else has imported it.
    code = (
        "import sys\n"
        "from qrun.store import provenance\n"
        "found = provenance.versions()\n"
        "print(sorted(k for k, v in found.items() if v is None), 'importlib.metadata' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, "[] False\n", "")


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


def test_outside_a_repository_git_is_not_run_unless_the_environment_names_one(tmp_path, monkeypatch):
    # git is found on PATH: a stand-in records each call, then runs the real one
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True).stdout.strip()
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec {real} "$@"\n')
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    spec = tmp_path / "scratch" / "a.yaml"
    spec.parent.mkdir()
    spec.write_text("x: 1\n")
    assert provenance.git_state(spec) is None
    assert not calls.exists()

    repo = tmp_path / "elsewhere"
    repo.mkdir()
    subprocess.run([real, "init", "-q"], cwd=repo, check=True)
    subprocess.run(
        [real, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "0"],
        cwd=repo,
        check=True,
    )
    head = subprocess.run([real, "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    assert provenance.git_state(spec) == {"commit": head, "dirty": True, "path": None}
    assert len(calls.read_text().splitlines()) == 2
