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


@pytest.mark.parametrize("num_bits", [1, 2, 7, 8, 9, 15, 16, 127, 156])
@pytest.mark.parametrize("shape", [(), (3,)])
def test_sorted_counts_are_qiskits_get_counts_sorted(num_bits, shape):
    """Every register width (the first byte's spare bits set, so masking them is tested) and both shapes qrun
    counts: the same bitstrings and counts as BitArray.get_counts, in sorted order."""
    import numpy as np
    from qiskit.primitives import BitArray

    from qrun.model.outcomes import sorted_counts

    rng = np.random.default_rng(num_bits)
    nbytes = (num_bits + 7) // 8
    # few distinct shots (repeats to count) over every byte value, spare bits included
    pool = rng.integers(0, 256, size=(5, nbytes), dtype=np.uint8)
    shots = pool[rng.integers(0, 5, size=(*shape, 200))]
    bits = BitArray(shots, num_bits)
    for loc in [None] if not shape else [None, 0, 1, 2]:
        mine = sorted_counts(bits, loc)
        assert list(mine.items()) == sorted(bits.get_counts(loc=loc).items())
        assert sum(mine.values()) == 200 * (3 if shape and loc is None else 1)


@pytest.mark.parametrize("num_bits", [1, 2, 7, 8, 9, 16, 47, 48, 49, 127, 156])
@pytest.mark.parametrize("sets", [None, 1, 3, 1_000])
def test_set_counts_are_each_sets_get_counts_sorted(num_bits, sets):
    """Every parameter set's counts, counted in one pass up to 48 bits (per set past that): each set's bitstrings and
    counts as BitArray.get_counts gives them, in sorted order, the first byte's spare bits masked."""
    import numpy as np
    from qiskit.primitives import BitArray

    from qrun.model.outcomes import set_counts

    rng = np.random.default_rng(num_bits)
    nbytes = (num_bits + 7) // 8
    pool = rng.integers(0, 256, size=(6, nbytes), dtype=np.uint8)
    shape = () if sets is None else (sets,)
    bits = BitArray(pool[rng.integers(0, 6, size=(*shape, 50))], num_bits)
    mine = set_counts(bits)
    expected = [bits.get_counts()] if sets is None else [bits.get_counts(loc=i) for i in range(sets)]
    assert [list(c.items()) for c in mine] == [sorted(c.items()) for c in expected]
    assert all(sum(c.values()) == 50 for c in mine)
