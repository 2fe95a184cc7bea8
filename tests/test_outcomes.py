"""Job states and outcome types shared by the runner and results."""

import pytest

from qrun.model.outcomes import FINISHED, SESSION_EXPIRED, STOPPED_DEADLINE, is_final


@pytest.mark.parametrize(
    "status, final",
    [
        ("DONE", True),
        ("ERROR", True),
        ("CANCELLED", True),
        ("CANCELLED - RAN TOO LONG", True),
        ("QUEUED", False),
        ("RUNNING", False),
        ("INITIALIZING", False),
        ("done", True),
    ],
)
def test_is_final_covers_the_whole_cancelled_family(status, final):
    assert is_final(status) is final


def test_a_deadline_stop_keeps_its_results_on_resume_and_an_expired_job_does_not():
    assert STOPPED_DEADLINE in FINISHED and SESSION_EXPIRED not in FINISHED
