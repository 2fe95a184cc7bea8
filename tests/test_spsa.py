"""SPSA, qrun's own optimizer for noisy minimize loops: the method itself, its budget, its checks, a run."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from qrun import load
from qrun.running.spsa import spsa

SPEC = """version: 1
name: spsa
backend: {backend}
max_time: 30m
options: {{seed: 5, default_precision: 0.01, resilience_level: 0}}
circuits:
  r:
    qasm: |
      OPENQASM 3.0;
      include "stdgates.inc";
      input float[64] a;
      input float[64] b;
      qubit[2] q;
      ry(a) q[0];
      ry(b) q[1];
      cx q[0], q[1];
observables:
  h: "ZZ + 0.5 * XI + 0.5 * IX"
jobs:
  - name: vqe
    primitive: minimize
    circuit: r
    observables: [h]
    initial_point: [0.3, 0.3]
    optimizer: {optimizer}
    exact: statevector
"""


def _counted(f):
    calls = []

    def fun(x):
        calls.append(np.array(x))
        return f(x)

    return fun, calls


def test_spsa_finds_a_quadratics_minimum_in_two_evaluations_a_step_after_calibrating():
    fun, calls = _counted(lambda x: float(np.sum((x - 1.0) ** 2)))
    result = spsa(fun, np.zeros(3), maxiter=200, seed=7)
    assert result.x == pytest.approx(np.ones(3), abs=0.05)
    assert len(calls) == 2 * (200 + 25)  # 25 calibration samples, then two a step
    again = spsa(_counted(lambda x: float(np.sum((x - 1.0) ** 2)))[0], np.zeros(3), maxiter=200, seed=7)
    assert np.array_equal(again.x, result.x)  # the same perturbations from the same seed
    given, calls = _counted(lambda x: float(np.sum((x - 1.0) ** 2)))
    spsa(given, np.zeros(3), maxiter=10, seed=7, a=0.1)
    assert len(calls) == 20  # `a` given: no calibration
    # each step's two evaluations straddle the point by c_k along a ±1 vector: c_0 = c = 0.2
    first = calls[0] - calls[1]
    assert np.allclose(np.abs(first), 0.4)


def test_a_minimize_job_with_spsa_reaches_the_ground_energy_and_repeats_exactly(qrun, write_spec):
    spec = write_spec(SPEC.format(backend="aer", optimizer="{method: SPSA, maxiter: 60}"))
    plan = json.loads(qrun("plan", spec, "--json").out)
    assert plan["jobs"][0]["runtime_jobs"] == 2 * (60 + 25) + 1  # and the final estimate at the optimum
    runs = [Path(qrun(spec, "--out", spec.parent / "r", "-q").out.strip()) for _ in range(2)]
    vqe = [load(spec.parent / run).jobs["vqe"] for run in runs]
    optimum, exact = vqe[0]["optimum"], vqe[0]["exact"]
    assert exact == pytest.approx(-math.sqrt(2))  # the ground energy of ZZ + (XI + IX) / 2
    assert abs(optimum["value"] - exact) < 5 * optimum["stderr"] + 0.01
    assert vqe[0]["nfev"] == 171 and len(vqe[0]["trace"]) == 170
    assert vqe[1]["optimum"] == optimum  # seeded: the same perturbations, the same noise


@pytest.mark.parametrize("backend", ["fake_sherbrooke", pytest.param("fake_fez", marks=pytest.mark.slow)])
def test_spsa_runs_on_a_real_size_device(qrun, write_spec, backend):
    optimizer = "{method: SPSA, maxiter: 4, options: {calibration: 2}}"
    spec = write_spec(SPEC.format(backend=backend, optimizer=optimizer))
    done = qrun(spec, "--out", spec.parent / "r", "-q")
    assert done.code == 0, done.err
    vqe = load(spec.parent / done.out.strip()).jobs["vqe"]
    assert vqe["nfev"] == 2 * (4 + 2) + 1 and vqe["optimizer"]["method"] == "SPSA"
    assert (
        -1.5 < vqe["optimum"]["value"] < 1.5
    )  # |<h>| <= 2; four steps of a noisy device prove the path, not the optimum


@pytest.mark.parametrize(
    "optimizer, where, message",
    [
        (
            "{method: SPSA, jac: 2-point}",
            "36",
            "jobs[0].optimizer.jac: SPSA estimates its own gradient from two evaluations a step; remove jac",
        ),
        (
            "{method: SPSA, options: {cc: 0.1}}",
            "41",
            "jobs[0].optimizer.options.cc: unknown SPSA option 'cc'; did you mean 'c'? (SPSA takes a, c, alpha, "
            "gamma, stability, calibration)",
        ),
        (
            "{method: SPSA, options: {calibration: 2.5}}",
            "54",
            "jobs[0].optimizer.options.calibration: 2.5 is not a whole number of samples from 0 to 1000",
        ),
        ("{method: SPSA, options: {a: -1}}", "44", "jobs[0].optimizer.options.a: -1: SPSA's a must be more than 0"),
        ("{method: SPSA, options: {c: fast}}", "44", "jobs[0].optimizer.options.c: 'fast' is not a number"),
    ],
)
def test_spsas_settings_are_checked_before_anything_runs(qrun, write_spec, optimizer, where, message):
    spec = write_spec(SPEC.format(backend="aer", optimizer=optimizer))
    for command in (("validate",), ()):
        result = qrun(*command, spec)
        assert result.code == 2
        assert result.err.splitlines()[0] == f"{spec}:25:{where}: {message}"
