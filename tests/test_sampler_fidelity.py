"""A sampler job with `exact: statevector` says how close its counts are to the ideal distribution, as qiskit's
hellinger_fidelity computes it, where it showed only its likeliest outcomes."""

import numpy as np
import pytest
from qiskit.quantum_info import hellinger_fidelity as qiskits

from qrun.jobs.registry import kind_of
from qrun.jobs.sampler import hellinger_fidelity


def test_the_fidelity_is_qiskits_over_random_counts_and_distributions():
    rng = np.random.default_rng(7)
    for _ in range(50):
        outcomes = [format(i, "03b") for i in range(8)]
        counts = {k: int(n) for k, n in zip(outcomes, rng.integers(0, 50, 8)) if n}
        ideal = dict(zip(outcomes, rng.dirichlet(np.ones(8)).tolist()))
        assert hellinger_fidelity(counts, ideal) == pytest.approx(qiskits(counts, ideal), rel=1e-12)


def test_the_fidelity_is_unknown_without_shots_or_with_a_null_ideal_probability():
    assert hellinger_fidelity({}, {"0": 1.0}) is None
    assert hellinger_fidelity({"0": 5}, {"0": None, "1": 0.5}) is None


def test_a_samplers_line_gives_the_fidelity_to_the_ideal_where_it_has_one():
    body = {
        "job": "s",
        "primitive": "sampler",
        "shots": 1000,
        "counts": {"meas": [{"00": 460, "11": 500, "01": 40}], "flag": [{"0": 1000}]},
        "ideal": {"meas": [{"00": 0.5, "11": 0.5}]},
    }
    # (sqrt(0.46 * 0.5) + sqrt(0.5 * 0.5))^2 = 0.95990...
    assert kind_of("sampler").text(body) == (
        "meas {11: 500, 00: 460, 01: 40} of 1000 shots, Hellinger fidelity 0.960 to the ideal; "
        "flag {0: 1000} of 1000 shots"
    )
