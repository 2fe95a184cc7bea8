"""Shared helpers: run the CLI in-process and capture what a user would see."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from qrun.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"
# the smallest spec the schema passes (a test that changes it copies it first)
SMALL_SPEC = {
    "version": 1,
    "name": "x",
    "backend": "aer",
    "max_time": "1m",
    "circuits": {"c": {"qasm": "x"}},
    "jobs": [{"name": "j", "primitive": "sampler", "circuit": "c"}],
}


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def fresh_transpile_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own empty transpile cache (subprocesses inherit it), and none writes to ~/.cache."""
    monkeypatch.setenv("QRUN_CACHE_DIR", str(tmp_path_factory.mktemp("transpile-cache")))


@pytest.fixture(autouse=True)
def closed_figures():
    """A figure a test draws (views.plots.figure_for) stays open in pyplot until closed, as qrun's own writers close
    theirs: past 20 in one worker, matplotlib warned in whichever test opened the next."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


class Qrun:
    """Calls `qrun ARGS...` in-process; returns exit code, stdout and stderr. A test whose runs must follow a
    stand-in service's clock sets `clock`, and one that watches a run's events adds to `sinks` (main()'s seams)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]):
        self.capsys = capsys
        self.clock: Any = None
        self.sinks: list[Any] = []  # see the events of each run, after its run folder has them

    def __call__(self, *args: Any) -> Outcome:
        code = main([str(a) for a in args], clock=self.clock, sinks=self.sinks)
        captured = self.capsys.readouterr()
        return Outcome(code, captured.out, captured.err)


@pytest.fixture
def qrun(capsys):
    """Call `qrun ARGS...` in-process (see Qrun)."""
    return Qrun(capsys)


@pytest.fixture
def write_spec(tmp_path):
    """Write spec text to tmp_path/NAME and return its path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def four_batched(qrun, tmp_path, write_spec):
    """A finished run of four small estimator jobs that went out as one PUB-batched runtime job, each of which
    records that runtime job's whole time as its actual: (spec, results root, run folder, its metadata)."""
    jobs = "".join(
        f"  - {{name: e{k}, primitive: estimator, circuit: c, observables: [z], parameter_values: [[0.{k}]]}}\n"
        for k in range(4)
    )
    spec = write_spec(
        "version: 1\nname: four\nbackend: aer\nmax_time: 10m\noptions: {seed: 2, default_precision: 0.01}\n"
        'circuits:\n  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[1] q; ry(a) q[0];"}\n'
        "observables:\n  z: Z\njobs:\n" + jobs
    )
    out = tmp_path / "results"
    assert qrun(spec, "--out", out, "--quiet").code == 0
    (run_dir,) = (out / "four").iterdir()
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert len({m["batched"]["id"] for m in meta["jobs"]}) == 1  # one runtime job for the four
    return spec, out, run_dir, meta


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


FIELD_SPEC = """\
vars:
  theta: 0.5
version: 1
name: field
backend: aer
max_time: 10m
options:
  seed: 7
circuits:
  rot: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; ry({{ theta }}) q;"}
  free: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float phi; qubit[2] q; ry(phi) q;"}
observables:
  energy: {terms: [[ZZ, -1.0], [XI, -0.5]], unit: Ha}
jobs:
  - {name: e, primitive: estimator, circuit: rot, observables: [energy], precision: 0.01, exact: statevector}
  - {name: counts, primitive: sampler, circuit: rot, measure_all: true, shots: 500, exact: statevector}
  - name: curve
    primitive: estimator
    circuit: free
    observables: [energy]
    precision: 0.02
    exact: statevector
    sweep: {values: {phi: {linspace: [0, 3.0, 7]}}}
  - {name: ground, primitive: minimize, circuit: free, observables: [energy], precision: 0.02,
     optimizer: {method: COBYLA, maxiter: 12}}
derived:
  gap: "e.energy - ground"
"""


def field_energy(theta: float) -> float:
    """<energy> = <-ZZ - 0.5 X(qubit 1)> in ry(theta) on both qubits of |00>: -cos(theta)^2 - 0.5 sin(theta)."""
    import math

    return -(math.cos(theta) ** 2) - 0.5 * math.sin(theta)


@pytest.fixture(scope="session")
def field_runs(tmp_path_factory):
    """Under one results root: a multirun of FIELD_SPEC over theta = 0, 1, 1.5 (a group of three points), then
    a plain run at theta = 0.5. Every job kind, with units and exact values; made once for the report tests."""
    root = tmp_path_factory.mktemp("field-results")
    spec = root.parent / f"{root.name}-field.yaml"
    spec.write_text(FIELD_SPEC, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QRUN_CACHE_DIR", str(tmp_path_factory.mktemp("field-cache")))
        assert main([str(spec), "--out", str(root), "-q", "-m", "theta=0,1,1.5"]) == 0
        assert main([str(spec), "--out", str(root), "-q"]) == 0
    (group,) = (root / "field").glob("multirun-*")
    (single,) = (p for p in (root / "field").iterdir() if not p.name.startswith("multirun-"))
    return root, group, single


class Ticking:
    """A clock that moves `step` seconds each time it is read, and never waits (a Clock for main() and the runner)."""

    def __init__(self, step: float = 1.0, start: float = 1000.0):
        self.now, self.step = start, step

    def monotonic(self) -> float:
        self.now += self.step
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the hostile corpus's selected parts now, in the background: they run on the second core while the
    rest of the suite runs on the first (test_hostile.py collects their outcomes). Under pytest-xdist every worker
    collects every test, so there the part starts in whichever worker runs it, when it runs."""
    if hasattr(session.config, "workerinput"):
        return
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "outcomes" in callspec.params and hasattr(item.module, "start"):
            item.module.start(callspec.params["outcomes"])
