"""Job kinds are plug-ins: every view reads a stored job through its kind in the registry (qrun/jobs/registry.py)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from qrun.jobs import registry
from qrun.jobs.estimator import Estimator
from qrun.jobs.kind import JobContext
from qrun.model.experiment import Job
from qrun.model.findings import Finding
from qrun.planning import plan
from qrun.sources.facts import CircuitFacts
from qrun.spec import load
from qrun.spec.validate import semantic_findings, validate

SPEC = """version: 1
name: kinds
backend: aer
max_time: 10m
options: {seed: 1, default_precision: 0.01}
circuits:
  bell: {qasm: 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; h q[0]; cx q[0], q[1];'}
observables:
  zz: ZZ
jobs:
  - {name: energy, primitive: estimator, circuit: bell, observables: [zz], exact: statevector}
"""


class Doubled(Estimator):
    """A kind a newcomer might add: an estimator whose views report twice its values (nothing else changes)."""

    name = "doubled"

    def text(self, body: dict[str, Any]) -> str:
        return "doubled: " + super().text(body)

    def headline(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return {k: {**v, "value": 2 * v["value"]} for k, v in super().headline(name, body).items()}


class Repeated(Estimator):
    """A kind that loops, as minimize does: it submits its estimator work three times, each waiting for the last."""

    name = "repeated"

    def session_reason(self, job: Job) -> str | None:
        return f"job '{job.name}' repeats itself"

    def evaluations(self, job: Job, num_parameters: int) -> int:
        return 3


class Strict(Estimator):
    """A kind with a rule of its own: its circuit must be wider than two qubits."""

    name = "strict"

    def findings(self, job: Any, at: JobContext) -> list[Finding]:
        out = super().findings(job, at)
        if at.circuit is not None and at.circuit.num_qubits <= 2:
            out.append((at.here + ("circuit",), f"a strict job on {at.backend} needs 3 qubits or more", False))
        return out


@pytest.fixture
def run(qrun, tmp_path) -> Path:
    spec = tmp_path / "kinds.yaml"
    spec.write_text(SPEC)
    result = qrun(spec, "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    return tmp_path / result.out.strip()


def _relabel(run: Path, kind: str) -> None:
    """Say the stored job is of `kind`, in its file and in the run's metadata (as a run of that kind would)."""
    path = run / "jobs" / "00-energy.json"
    body = json.loads(path.read_text())
    path.write_text(json.dumps({**body, "primitive": kind}))
    meta = json.loads((run / "metadata.json").read_text())
    meta["jobs"][0]["primitive"] = kind
    (run / "metadata.json").write_text(json.dumps(meta))


def test_a_registered_kind_is_what_show_and_list_read_a_stored_job_through(run, qrun, monkeypatch):
    monkeypatch.setitem(registry.KINDS, "doubled", Doubled())
    before = json.loads(qrun("list", run.parent.parent, "--json").out)[0]["results"]["energy.zz"]["value"]
    _relabel(run, "doubled")
    shown = qrun("show", run).out
    found = re.search(r"doubled: <zz> = (\S+) ± 0.01 \(exact 1, ", shown)
    assert found and abs(float(found.group(1)) - 1.0) < 0.05, shown  # 5σ at precision 0.01
    after = json.loads(qrun("list", run.parent.parent, "--json").out)[0]["results"]["energy.zz"]["value"]
    assert after == 2 * before and abs(before - 1.0) < 0.05  # <ZZ> = 1 exactly on a Bell state


def test_a_stored_job_of_a_kind_this_qrun_lacks_is_one_line_and_exit_2(run, qrun):
    _relabel(run, "teleport")
    result = qrun("show", run)
    assert (result.code, result.err) == (
        2,
        "qrun: unknown job kind 'teleport': this qrun knows estimator, sampler, minimize, ladder\n",
    )


LADDER = """version: 1
name: ladder
backend: BACKEND
max_time: 30m
options: {seed: 11, default_precision: 0.02, optimization_level: 1}
circuits:
  mirror:
    qasm: |
      OPENQASM 3.0; include "stdgates.inc"; qubit[3] q;
      h q[0]; cx q[0], q[1]; cx q[1], q[2]; barrier q; cx q[1], q[2]; barrier q; cx q[0], q[1]; h q[0];
observables:
  z0: ZII
  z2: IIZ
  zzz: ZZZ
jobs:
  - {name: ladder, primitive: ladder, circuit: mirror, observables: [z0, z2, zzz], exact: statevector, target_error: 0.05}
"""


def test_a_ladder_plans_one_runtime_job_per_rung_each_dearer_than_the_last(qrun, tmp_path):
    spec = tmp_path / "ladder.yaml"
    spec.write_text(LADDER.replace("BACKEND", "fake_fez"))
    result = qrun("plan", spec, "--json")
    assert result.code == 0, result.err
    (job,) = json.loads(result.out)["jobs"]
    assert job["primitive"] == "ladder" and job["runtime_jobs"] == 5
    from qrun.app.prepare import prepare

    (planned,) = prepare(spec, out=tmp_path / "r").plan.jobs
    assert [r.name for r in planned.rungs] == ["raw", "dd", "trex", "twirling", "zne"]
    assert [r.options["resilience_level"] for r in planned.rungs] == [0, 0, 1, 1, 2]
    assert planned.rungs[0].engine == "backend-primitives"  # nothing to mitigate: the plain simulator
    seconds = [r.qpu_seconds for r in planned.rungs]
    assert seconds[0] < seconds[2] < seconds[4] and planned.qpu_seconds == pytest.approx(sum(seconds))


@pytest.mark.parametrize(
    "change, message",
    [
        (("fake_fez", "aer"), "jobs[0].primitive: a ladder compares error mitigation, which needs a noisy backend"),
        ((", exact: statevector", ""), "jobs[0].target_error: target_error needs an exact value"),
        (
            ("primitive: ladder", "primitive: estimator"),
            "jobs[0].target_error: 'target_error' does not apply to an estimator job",
        ),
    ],
)
def test_a_ladder_is_checked_before_it_runs(qrun, tmp_path, change, message):
    spec = tmp_path / "ladder.yaml"
    spec.write_text(LADDER.replace("BACKEND", "fake_fez").replace(*change))
    result = qrun("validate", spec)
    assert result.code == 2 and message in result.err, result.err


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["fake_sherbrooke", "fake_fez"])
def test_the_ladder_orders_its_rungs_as_a_physicist_expects(qrun, tmp_path, backend):
    spec = tmp_path / "ladder.yaml"
    # at precision 0.005 a readout error of about 1% (a bias near 0.02 in <Z>) stands well clear of the noise
    spec.write_text(LADDER.replace("BACKEND", backend).replace("default_precision: 0.02", "default_precision: 0.005"))
    result = qrun(spec, "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    run = tmp_path / result.out.strip()
    body = json.loads((run / "jobs" / "00-ladder.json").read_text())
    rungs = {r["rung"]: r for r in body["rungs"]}
    assert list(rungs) == ["raw", "dd", "trex", "twirling", "zne"]
    for obs in ("z0", "z2", "zzz"):  # readout-dominated: one CX pair each way, then a measurement
        raw, trex = rungs["raw"]["observables"][obs], rungs["trex"]["observables"][obs]
        assert raw["exact"] == trex["exact"] == [pytest.approx(1.0)]
        assert abs(raw["values"][0] - 1) > abs(trex["values"][0] - 1)
    for obs in ("z0", "z2", "zzz"):  # extrapolation amplifies noise: ZNE is the least precise rung
        assert rungs["zne"]["observables"][obs]["stderrs"][0] > rungs["trex"]["observables"][obs]["stderrs"][0]
    assert rungs["raw"]["estimated_qpu_seconds"] < rungs["zne"]["estimated_qpu_seconds"]
    best = body["cheapest"]
    assert best is None or rungs[best]["error"] <= 0.05
    shown = qrun("show", run).out
    assert ("cheapest within 0.05: " + best if best else "no rung within 0.05") in shown
    plotted = qrun("plot", run)
    assert plotted.code == 0 and plotted.out.strip().endswith("plots/00-ladder.png")


def test_planning_asks_a_kind_for_its_session_and_how_often_its_work_goes_out(monkeypatch, tmp_path):
    """No kind's name appears in planning: a new kind that loops gets a session, and three times the work."""
    spec = tmp_path / "kinds.yaml"
    spec.write_text(SPEC)
    checked = validate(load(spec))
    once = plan.build(checked, use_cache=False).jobs[0]
    monkeypatch.setitem(registry.KINDS, "repeated", Repeated())
    experiment = checked.experiment
    looped = dataclasses.replace(experiment.jobs[0], primitive="repeated")
    the_plan = plan.build(dataclasses.replace(checked, experiment=dataclasses.replace(experiment, jobs=(looped,))))
    job = the_plan.jobs[0]
    assert (the_plan.mode, the_plan.mode_reason) == ("session", "job 'energy' repeats itself")
    assert (job.max_evaluations, job.stats["runtime_jobs"], once.max_evaluations, once.stats["runtime_jobs"]) == (
        3,
        3,
        1,
        1,
    )
    assert job.estimate == pytest.approx(3 * once.estimate)  # aer's model: the same local call, three times over
    assert [(b.mode, b.start, b.stop) for b in the_plan.blocks] == [("session", 0, 1)]


def test_the_checks_ask_a_kind_for_its_own_rules_and_place_what_it_finds(monkeypatch):
    """A kind's rules live in its file; the checks give it the job's place, its circuit's facts and the backend."""
    import yaml

    monkeypatch.setitem(registry.KINDS, "strict", Strict())
    data = yaml.safe_load(SPEC)
    data["jobs"][0]["primitive"] = "strict"
    del data["jobs"][0]["observables"]  # the estimator's own rule, which Strict keeps, reports this too
    facts = {"bell": CircuitFacts(num_qubits=2, num_parameters=0, num_clbits=0, has_measurements=False)}
    assert semantic_findings(data, facts, {"zz": 2}, None) == [
        (("jobs", 0), "missing required key 'observables' (or a sweep over observable)", False),
        (("jobs", 0, "circuit"), "a strict job on aer needs 3 qubits or more", False),
    ]


def test_a_stored_ladder_with_null_values_is_shown_and_drawn(run, qrun):
    """A rung's value stored as null (a NaN, as qrun writes one) reads as nan in show and leaves a gap in the plot."""
    rung = {"rung": "raw", "engine": "aer-primitives", "estimated_qpu_seconds": 0.1, "error": None}
    body = {
        "job": "energy",
        "primitive": "ladder",
        "status": "done",
        "precision": 0.01,
        "rungs": [
            {**rung, "observables": {"zz": {"values": [None], "stderrs": [None], "exact": [1.0]}}},
            {
                **rung,
                "rung": "trex",
                "estimated_qpu_seconds": 0.2,
                "error": 0.02,
                "observables": {"zz": {"values": [0.98], "stderrs": [0.01], "exact": [1.0]}},
            },
        ],
        "target_error": None,
        "cheapest": None,
    }
    _relabel(run, "ladder")
    (run / "jobs" / "00-energy.json").write_text(json.dumps(body))
    shown = qrun("show", run)
    assert shown.code == 0, shown.err
    assert "raw: <zz> nan ± nan (exact 1); ~0.1 QPU s" in shown.out
    assert "trex: <zz> 0.98 ± 0.01 (exact 1, -2.0σ); error 0.02, ~0.2 QPU s" in shown.out
    assert "no rung within nan" in shown.out
    plotted = qrun("plot", run)
    assert plotted.code == 0 and plotted.out.strip().endswith("plots/00-energy.png"), plotted.err
