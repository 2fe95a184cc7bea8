"""Shared helpers: run the CLI in-process and capture what a user would see."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from qrun.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def fresh_transpile_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own empty transpile cache (subprocesses inherit it), and none writes to ~/.cache."""
    monkeypatch.setenv("QRUN_CACHE_DIR", str(tmp_path_factory.mktemp("transpile-cache")))


@pytest.fixture
def qrun(capsys):
    """Call `qrun ARGS...` in-process; returns exit code, stdout and stderr."""

    def call(*args: str) -> Outcome:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return call


@pytest.fixture
def write_spec(tmp_path):
    """Write spec text to tmp_path/NAME and return its path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def many_jobs_spec(folder: Path, count: int, job: str, head: str = "") -> Path:
    """folder/many.yaml: `count` jobs on aer, each `job` (a flow mapping's inside, after its name) on a one-qubit
    circuit b that flips its qubit and measures it, with observable z; `head` adds top-level lines."""
    jobs = "".join(f"  - {{name: j{k}, {job}}}\n" for k in range(count))
    path = folder / "many.yaml"
    path.write_text(
        f"version: 1\nname: many\nbackend: aer\nmax_time: 1h\n{head}"
        'circuits:\n  b: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; x q[0]; c = measure q;"}\n'
        "observables:\n  z: Z\njobs:\n" + jobs
    )
    return path
