"""mode: auto's blocks: a session only around the jobs that need an earlier result while they run, batches elsewhere."""

from types import SimpleNamespace

import pytest

from qrun.model.experiment import Job, Options
from qrun.model.plan import Block
from qrun.planning.modes import BATCH_WHY, blocks


def _job(name, primitive="estimator", source=None, dependent=False):
    declared = Job(0, name, primitive, "c", Options(), dependent=dependent)
    return SimpleNamespace(name=name, primitive=primitive, parameter_source=source, job=declared)


@pytest.mark.parametrize(
    "jobs, expected",
    [
        (
            [_job("a"), _job("b"), _job("vqe", "minimize"), _job("bound", source="vqe"), _job("c")],
            [
                Block("batch", BATCH_WHY, 0, 2),
                Block("session", "job 'vqe' is a minimize loop: each evaluation waits for the one before", 2, 4),
                Block("batch", BATCH_WHY, 4, 5),
            ],
        ),
        (
            [_job("a"), _job("b", dependent=True), _job("c")],
            [Block("session", "job 'b' is marked dependent on job 'a'", 0, 2), Block("batch", BATCH_WHY, 2, 3)],
        ),
        (
            [_job("a"), _job("b"), _job("c", dependent=True)],
            [Block("batch", BATCH_WHY, 0, 1), Block("session", "job 'c' is marked dependent on job 'b'", 1, 3)],
        ),
        (
            [_job("vqe", "minimize"), _job("later", source="vqe", dependent=True)],
            [Block("session", "job 'vqe' is a minimize loop: each evaluation waits for the one before", 0, 2)],
        ),
        ([_job("a"), _job("b")], [Block("batch", BATCH_WHY, 0, 2)]),
    ],
)
def test_auto_opens_a_session_only_around_jobs_that_need_one(jobs, expected):
    assert blocks("auto", jobs) == expected


def test_a_mode_the_spec_names_is_one_block():
    jobs = [_job("a"), _job("vqe", "minimize"), _job("b")]
    assert blocks("batch", jobs) == [Block("batch", "as the spec says (mode: batch)", 0, 3)]


def test_dependent_needs_a_job_before_it_and_a_session(qrun, write_spec):
    spec = write_spec(
        "version: 1\nname: d\nbackend: aer\n{mode}"
        'circuits:\n  b: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; x q[0]; c = measure q;"}\n'
        "jobs:\n  - {name: a, primitive: sampler, circuit: b, dependent: true}\n"
        "  - {name: b, primitive: sampler, circuit: b, dependent: true}\n".replace("{mode}", "mode: batch\n")
    )
    result = qrun("validate", spec)
    assert result.err.splitlines()[:2] == [
        f"{spec}:8:58: jobs[0].dependent: the first job has no job before it to depend on",
        f"{spec}:9:58: jobs[1].dependent: mode: batch opens no session; use mode: auto or session",
    ]
