"""Job kinds are plug-ins: every view reads a stored job through its kind in the registry (qrun/jobs/registry.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from qrun.jobs import registry
from qrun.jobs.estimator import Estimator

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
        "qrun: unknown job kind 'teleport': this qrun knows estimator, sampler, minimize\n",
    )
