"""A register's outcomes summed by its ideal distribution, as derived values: quantum volume's heavy output probability
(Cross et al. 2019), `qv.meas["heavy"]`, against the outcomes whose ideal probability, computed here from qiskit's own
statevector, is above the median of all 2^n; and the linear cross-entropy fidelity (Arute et al. 2019),
`rc.meas["xeb"]`, against the same sum worked out here."""

import json

import numpy as np
import pytest

WIDTH, CIRCUITS, SHOTS = 3, 4, 2000


def _spec(backend: str, derived: str = "") -> str:
    circuits = "\n".join(
        f"  qv{k}: {{library: quantum_volume, args: {{num_qubits: {WIDTH}, seed: {k}}}}}" for k in range(CIRCUITS)
    )
    jobs = "\n".join(
        f"  - {{name: qv{k}, primitive: sampler, circuit: qv{k}, measure_all: true, shots: {SHOTS}, exact: statevector}}"
        for k in range(CIRCUITS)
    )
    mean = " + ".join(f"qv{k}.meas['heavy']" for k in range(CIRCUITS))
    return f"""
version: 1
name: qv
backend: {backend}
max_time: 30m
options: {{seed: 11, optimization_level: 3}}
circuits:
{circuits}
jobs:
{jobs}
derived:
  hop: "({mean}) / {CIRCUITS}"
{derived}"""


def _heavy(k: int) -> set[str]:
    """The heavy outputs of circuit k, as qiskit-experiments finds them: p > the median of all 2^n probabilities."""
    from qiskit.circuit.library import quantum_volume
    from qiskit.quantum_info import Statevector

    probabilities = Statevector(quantum_volume(WIDTH, seed=k)).probabilities()
    median = np.median(probabilities)
    return {format(i, f"0{WIDTH}b") for i, p in enumerate(probabilities) if p > median}


def _run(qrun, write_spec, tmp_path, text):
    done = qrun(write_spec(text), "--out", tmp_path / "r")
    assert done.code == 0, done.err
    (run,) = (tmp_path / "r" / "qv").iterdir()
    counts = [
        json.loads((run / "jobs" / f"{k:02d}-qv{k}.json").read_text())["counts"]["meas"][0] for k in range(CIRCUITS)
    ]
    return done, json.loads((run / "derived.json").read_text()), counts


@pytest.mark.parametrize("backend", ["aer", "fake_sherbrooke", "fake_fez"])
def test_the_heavy_output_probability_is_the_heavy_outcomes_share_of_the_shots_with_its_binomial_error(
    qrun, write_spec, tmp_path, backend
):
    """hop is the mean over circuits of the shots that fell on a heavy outcome, its σ the binomial one of each
    circuit's share, its exact value the mean ideal heavy probability (about 0.85 for a large width; higher at 3
    qubits). On aer it lands within 5σ of that; a noisy device's lies below it and, at 3 qubits, above 2/3."""
    from qiskit.circuit.library import quantum_volume
    from qiskit.quantum_info import Statevector

    done, derived, counts = _run(qrun, write_spec, tmp_path, _spec(backend))
    heavy = [_heavy(k) for k in range(CIRCUITS)]
    shares = [sum(n for outcome, n in c.items() if outcome in h) / SHOTS for c, h in zip(counts, heavy)]
    ideal = [
        sum(
            p
            for i, p in enumerate(Statevector(quantum_volume(WIDTH, seed=k)).probabilities())
            if format(i, f"0{WIDTH}b") in h
        )
        for k, h in enumerate(heavy)
    ]
    hop = derived["hop"]
    assert hop["value"] == pytest.approx(np.mean(shares), abs=1e-12)
    assert hop["stderr"] == pytest.approx(np.sqrt(sum(s * (1 - s) / SHOTS for s in shares)) / CIRCUITS, rel=1e-9)
    assert hop["exact"] == pytest.approx(np.mean(ideal), abs=1e-9)
    if backend == "aer":
        assert abs(hop["value"] - hop["exact"]) < 5 * hop["stderr"]
    else:
        assert 2 / 3 < hop["value"] < hop["exact"]
    assert f"derived: hop = {hop['value']:.6g} ± {hop['stderr']:.2g}" in done.out


def test_the_heavy_outputs_and_the_light_ones_share_their_shots_so_their_sum_is_one_with_no_error(
    qrun, write_spec, tmp_path
):
    """heavy stands for its outcomes: added to every light outcome of its register it is 1, σ 0 (their multinomial
    covariance counted), where taken as independent it would have a σ of about 0.01."""
    light = sorted({format(i, f"0{WIDTH}b") for i in range(2**WIDTH)} - _heavy(0))
    whole = " + ".join(["qv0.meas['heavy']", *(f"qv0.meas['{o}']" for o in light)])
    _, derived, _ = _run(qrun, write_spec, tmp_path, _spec("aer", f'  whole: "{whole}"\n'))
    assert (derived["whole"]["value"], derived["whole"]["exact"]) == (
        pytest.approx(1, abs=1e-12),
        pytest.approx(1, abs=1e-9),
    )
    assert derived["whole"]["stderr"] == pytest.approx(0, abs=1e-9)


def test_heavy_outputs_need_the_jobs_ideal_distribution(qrun, write_spec):
    refused = qrun("validate", write_spec(_spec("aer").replace(", exact: statevector}", "}")))
    assert refused.code == 2
    assert refused.err.splitlines()[0].split(": ", 1)[1] == (
        'derived.hop: qv0.meas["heavy"] needs the job\'s ideal distribution: give it exact: statevector'
    )


def test_a_sampler_sweeps_outcomes_and_heavy_outputs_have_each_points_ideal_value(qrun, write_spec, tmp_path):
    """A sweep keeps each point's ideal distribution: s.c['1'][1] is sin^2(1/2) exactly, and s.c['heavy'][2] the
    likelier of RX(2)|0>'s two outcomes (a sweep's outcomes had no exact value before)."""
    spec = write_spec(
        """
version: 1
name: ss
backend: aer
max_time: 10m
options: {seed: 3}
circuits:
  r: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float th; qubit q; bit[1] c; rx(th) q; c[0] = measure q;"}
jobs:
  - {name: s, primitive: sampler, circuit: r, shots: 4000, exact: statevector, sweep: {values: {th: [0, 1, 2]}}}
derived:
  p1: s.c['1'][1]
  h: s.c['heavy'][2]
"""
    )
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    derived = json.loads((tmp_path / done.out.strip() / "derived.json").read_text())
    assert derived["p1"]["exact"] == pytest.approx(np.sin(0.5) ** 2, abs=1e-12)
    assert derived["h"]["exact"] == pytest.approx(np.sin(1) ** 2, abs=1e-12)
    for name in ("p1", "h"):
        assert abs(derived[name]["value"] - derived[name]["exact"]) < 5 * derived[name]["stderr"]


def test_heavy_outputs_of_a_stored_ideal_distribution_that_is_not_outcomes_are_said_plainly():
    """A job file is untrusted: an ideal distribution keyed by what are not a register's outcomes, or wider than
    qrun reads, is a reason, not an internal error; a register that counted nothing is said as an outcome's is."""
    from qrun.errors import DerivedError
    from qrun.store.derived import evaluate

    body = {
        "job": "c",
        "status": "done",
        "primitive": "sampler",
        "shots": 400,
        "counts": {"meas": [{"00": 300, "11": 100}]},
    }
    for ideal, message in [
        ({"00": 0.5, "1": 0.5}, "job 'c' has an ideal distribution of register 'meas' that is not outcomes"),
        ({"0x": 1.0}, "job 'c' has an ideal distribution of register 'meas' that is not outcomes"),
        ({"0" * 30: 1.0}, """'c.meas["heavy"]': a register of 30 bits; it is read up to 24"""),
        ({}, """'c.meas["heavy"]' needs the job's ideal distribution: give it exact: statevector"""),
    ]:
        with pytest.raises(DerivedError) as caught:
            evaluate("c.meas['heavy']", {"c": {**body, "ideal": {"meas": [ideal]}}})
        assert str(caught.value) == message
    assert evaluate(
        "c.meas['heavy']", {"c": {**body, "ideal": {"meas": [{"00": 0.4, "01": 0.3, "10": 0.2, "11": 0.1}]}}}
    ) == (
        pytest.approx(0.75),
        pytest.approx((0.75 * 0.25 / 400) ** 0.5),
    )
    with pytest.raises(DerivedError, match="^job 'c' counted no shots in register 'meas'$"):
        evaluate("c.meas['heavy']", {"c": {**body, "counts": {"meas": [{}]}, "ideal": {"meas": [{"00": 1.0}]}}})


XEB_CIRCUITS = [
    "rx(0.7) q[0]; ry(1.1) q[1]; rx(2.3) q[2]; cz q[0], q[1]; ry(0.4) q[0]; rx(1.9) q[1]; cz q[1], q[2]; "
    "rx(0.3) q[2]; ry(2.6) q[1];",
    "ry(1.3) q[0]; rx(0.2) q[1]; ry(0.9) q[2]; cz q[1], q[2]; rx(2.2) q[1]; cz q[0], q[1]; ry(1.7) q[0]; rx(0.5) q[2];",
]


def _xeb_spec(backend: str) -> str:
    circuits = "\n".join(
        f'  r{k}: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[3] q; {body}", layout: [20, 21, 22]}}'
        for k, body in enumerate(XEB_CIRCUITS)
    )
    jobs = "\n".join(
        f"  - {{name: r{k}, primitive: sampler, circuit: r{k}, measure_all: true, shots: {SHOTS}, exact: statevector}}"
        for k in range(len(XEB_CIRCUITS))
    )
    return f"""
version: 1
name: xeb
backend: {backend}
max_time: 30m
options: {{seed: 7}}
circuits:
{circuits}
jobs:
{jobs}
derived:
  f: "(r0.meas['xeb'] + r1.meas['xeb']) / 2"
"""


@pytest.mark.parametrize("backend", ["aer", "fake_sherbrooke", "fake_fez"])
def test_the_cross_entropy_fidelity_is_the_ideal_weighted_share_of_the_shots_with_its_multinomial_error(
    qrun, write_spec, tmp_path, backend
):
    """(2^n sum p(x) q(x) - 1) / (2^n sum p^2 - 1) of each circuit's measured q, p from qiskit's statevector here,
    averaged: to 1e-12, its σ the multinomial one of a weighted sum, exact 1. Noiseless it is 1 within 5σ; a noisy
    device's is below 1 (its gates' and readout's errors)."""
    from qiskit import qasm3
    from qiskit.quantum_info import Statevector

    done = qrun(write_spec(_xeb_spec(backend)), "--out", tmp_path / "r")
    assert done.code == 0, done.err
    (run,) = (tmp_path / "r" / "xeb").iterdir()
    values, variances = [], []
    for k, body in enumerate(XEB_CIRCUITS):
        ideal = Statevector(qasm3.loads(f'OPENQASM 3.0; include "stdgates.inc"; qubit[3] q; {body}')).probabilities()
        counts = json.loads((run / "jobs" / f"{k:02d}-r{k}.json").read_text())["counts"]["meas"][0]
        q = np.zeros(8)
        for outcome, n in counts.items():
            q[int(outcome, 2)] = n / SHOTS
        spread = 8 * np.sum(ideal**2) - 1
        c = 8 * ideal / spread
        values.append(float(c @ q) - 1 / spread)
        variances.append((float(c**2 @ q) - float(c @ q) ** 2) / SHOTS)
    f = json.loads((run / "derived.json").read_text())["f"]
    assert f["value"] == pytest.approx(np.mean(values), abs=1e-12)
    assert f["stderr"] == pytest.approx(np.sqrt(sum(variances)) / 2, rel=1e-9)
    assert f["exact"] == pytest.approx(1, abs=1e-12)
    if backend == "aer":
        assert abs(f["value"] - 1) < 5 * f["stderr"]
    else:
        assert f["value"] < 1


def test_a_uniform_ideal_distribution_has_no_cross_entropy_fidelity(qrun, write_spec, tmp_path):
    """H on every qubit: the ideal distribution is uniform, and uniform noise gives the same counts."""
    spec = write_spec(
        """
version: 1
name: flat
backend: aer
max_time: 10m
circuits:
  h: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; h q[1];"}
jobs:
  - {name: h, primitive: sampler, circuit: h, measure_all: true, shots: 1000, exact: statevector}
derived:
  f: h.meas['xeb']
"""
    )
    done = qrun(spec, "--out", tmp_path / "r")
    assert done.code == 0, done.err
    assert (
        """derived: f cannot be computed: 'h.meas["xeb"]': the ideal distribution is uniform, so cross-entropy cannot """
        "tell the device from noise"
    ) in done.out
