"""A sampler job with `exact: statevector` says how close its counts are to the ideal distribution, as qiskit's
hellinger_fidelity computes it, where it showed only its likeliest outcomes."""

import csv
import json

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


def test_a_samplers_line_says_how_many_outcomes_it_leaves_out():
    """The line shows the four likeliest outcomes; their shots need not add up to the total, and it says why."""
    noisy = {"000": 214, "111": 231, "001": 16, "101": 13, "010": 9, "011": 8, "110": 8, "100": 1}
    body = {"job": "s", "primitive": "sampler", "shots": 500, "counts": {"meas": [noisy], "flag": [{"0": 500}]}}
    assert kind_of("sampler").text(body) == (
        "meas {111: 231, 000: 214, 001: 16, 101: 13, +4 more} of 500 shots; flag {0: 500} of 500 shots"
    )


ROT = 'OPENQASM 3.0; include "stdgates.inc"; input float a; qubit[2] q; bit[2] c; h q[0]; rx(a) q[1]; c = measure q;'
SWEPT = f"""version: 1
name: swept
backend: fake_fez
max_time: 10m
options: {{seed: 1}}
circuits:
  rot: {{qasm: '{ROT}'}}
jobs:
  - {{name: s, primitive: sampler, circuit: rot, shots: 400, exact: statevector,
     sweep: {{values: {{a: [0, 1.5707963267948966, 3.141592653589793]}}}}}}
"""


def test_a_sampler_sweep_keeps_each_points_ideal_distribution_and_says_its_lowest_fidelity(qrun, tmp_path):
    """`exact:` on a sampler sweep was accepted and recorded nothing: each point now has its ideal distribution
    beside its counts (job file and CSV), and the run's line names the point furthest from it."""
    from qiskit import qasm3

    from qrun.sources import exact

    spec = tmp_path / "swept.yaml"
    spec.write_text(SWEPT)
    result = qrun(spec, "--out", tmp_path / "results")
    assert result.code == 0, result.err
    run_dir = next((tmp_path / "results" / "swept").iterdir())
    points = json.loads((run_dir / "jobs" / "00-s.json").read_text())["points"]
    circuit = qasm3.loads(ROT)
    for point in points:
        assert point["ideal"] == {"c": pytest.approx(exact.ideal_counts(circuit, ["a"], [point["a"]])["c"])}
    assert [len(p["ideal"]["c"]) for p in points] == [2, 4, 2]  # |0>, then an even split, then |1> on qubit 1
    fidelities = [hellinger_fidelity(p["counts"]["c"], p["ideal"]["c"]) for p in points]
    lowest = min(range(3), key=fidelities.__getitem__)
    line = f"s: 3 sweep points in 1 runtime job; Hellinger fidelity to the ideal {fidelities[lowest]:.3f} at its lowest"
    assert f"{line} (a={points[lowest]['a']:.6g})" in result.out + result.err
    header, first, *_ = (run_dir / "jobs" / "00-s.csv").read_text().splitlines()
    assert header == "a,counts_c,ideal_c"
    assert json.loads(next(csv.reader([first]))[2]) == points[0]["ideal"]["c"]
