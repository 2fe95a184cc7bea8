"""Derived values: arithmetic over a run's results, read without eval, with first-order error propagation."""

import json
import math

import pytest

from qrun.errors import DerivedError
from qrun.store.derived import evaluate, of_run, references
from qrun.store.expressions import NESTED

BODIES = {
    "e": {
        "job": "e",
        "status": "done",
        "primitive": "estimator",
        "observables": {
            "zz": {"values": [0.9, 0.5], "stderrs": [0.03, 0.02]},
            "xx": {"values": [0.8], "stderrs": [0.04]},
        },
    },
    "vqe": {
        "job": "vqe",
        "status": "done",
        "primitive": "minimize",
        "observable": "h",
        "optimum": {"value": -1.8, "stderr": 0.01},
    },
    "c": {
        "job": "c",
        "status": "done",
        "primitive": "sampler",
        "shots": 400,
        "counts": {"meas": [{"00": 300, "11": 100}]},
    },
}


def test_values_and_their_propagated_standard_errors():
    assert evaluate("e.zz + e.xx", BODIES) == pytest.approx((1.7, 0.05))  # √(0.03² + 0.04²)
    value, sigma = evaluate("e.zz * e.xx", BODIES)
    assert value == pytest.approx(0.72)
    assert sigma == pytest.approx(math.hypot(0.8 * 0.03, 0.9 * 0.04), rel=1e-6)
    assert evaluate("e.zz[1]", BODIES) == pytest.approx((0.5, 0.02))  # the second parameter set
    assert evaluate("2 * vqe - 1", BODIES) == pytest.approx((-4.6, 0.02))  # a minimize job's optimum
    p, sigma = evaluate("c.meas['00']", BODIES)  # an outcome's probability, with the binomial error
    assert (p, sigma) == pytest.approx((0.75, math.sqrt(0.75 * 0.25 / 400)))
    assert of_run({"derived": {"S": "e.zz + e.xx", "bad": "e.zz / (e.xx - 0.8)"}}, BODIES) == [
        ("S", "1.7 ± 0.05"),
        ("bad", "cannot be computed: 'e.zz / (e.xx - 0.8)': float division by zero"),
    ]


def test_a_hyphenated_job_without_a_result_is_named_whole():
    """A running or interrupted run: `z-basis.meas[...]` was read as `z - basis.meas[...]` once z-basis had no result,
    since only jobs with a body were known as names, and `qrun show` said "job 'z' has no result in this run". The
    stored spec's jobs are names whether they have results or not."""
    spec = {
        "jobs": [{"name": "e"}, {"name": "z-basis"}],
        "derived": {"all-equal": "z-basis.meas['00'] + z-basis.meas['11']", "sum": "e.zz + all-equal"},
    }
    assert of_run(spec, BODIES) == [
        ("all-equal", "cannot be computed: job 'z-basis' has no result in this run"),
        ("sum", "cannot be computed: job 'z-basis' has no result in this run"),  # all-equal written out in it
    ]


def test_outcomes_of_one_register_count_their_covariance():
    """Outcomes of one register in one parameter set come from the same 400 shots: multinomial, each pair's covariance
    -p_a p_b / N. Taken as independent, the sum of two outcomes that make up every shot had σ 0.031, not 0."""
    assert evaluate("c.meas['00'] + c.meas['11']", BODIES) == pytest.approx((1.0, 0.0))
    # var(p0 - p1) = (p0 + p1 - (p0 - p1)²) / N = (1 - 0.25) / 400
    assert evaluate("c.meas['00'] - c.meas['11']", BODIES) == pytest.approx((0.5, math.sqrt(0.75 / 400)))
    assert evaluate("c.meas['00'][0] + c.meas['11']", BODIES) == pytest.approx((1.0, 0.0))  # [0] is the first set
    # an outcome and an estimator value are separate runtime jobs: independent
    assert evaluate("c.meas['00'] + e.zz", BODIES)[1] == pytest.approx(math.hypot(math.sqrt(0.75 * 0.25 / 400), 0.03))


def test_an_angle_from_a_probability_has_the_error_amplitude_estimation_expects():
    # 2 asin(sqrt(p)) of p = 0.75 in 400 shots: the angle 2 pi / 3, and sigma 1/sqrt(400) whatever p is
    assert evaluate("2 * asin(sqrt(c.meas['00']))", BODIES) == pytest.approx((2 * math.pi / 3, 0.05))
    assert of_run({"derived": {"out": "asin(e.zz + 1)"}}, BODIES) == [
        ("out", "cannot be computed: 'asin(e.zz + 1)': math domain error")
    ]


def test_a_phase_from_two_expectation_values_on_a_run(qrun, write_spec):
    """atan2(<Y>, <X>) of RZ(1.2) H|0>: the phase 1.2, its sigma from both values' (precision 0.01 each: 0.01)."""
    spec = write_spec(
        "version: 1\nname: phase\nbackend: aer\noptions: {seed: 4}\n"
        'circuits:\n  r: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; h q[0]; rz(1.2) q[0];"}\n'
        "observables:\n  x: X\n  y: Y\njobs:\n"
        "  - {name: r, primitive: estimator, circuit: r, observables: [x, y], precision: 0.01, exact: statevector}\n"
        "derived:\n  phase: atan2(r.y, r.x)\n"
    )
    done = qrun(spec, "--out", spec.parent / "r", "-q")
    assert done.code == 0, done.err
    phase = json.loads((next((spec.parent / "r" / "phase").iterdir()) / "derived.json").read_text())["phase"]
    assert phase["exact"] == pytest.approx(1.2, abs=1e-12)
    assert phase["stderr"] == pytest.approx(0.01, rel=0.05)  # sigma of both, at unit radius
    assert phase["value"] == pytest.approx(1.2, abs=4 * 0.01)


def test_a_value_that_is_no_real_number_cannot_be_computed_and_the_run_still_ends(qrun, write_spec):
    """Python's (-1.1) ** 0.5 is complex: its σ failed with a TypeError, and a finished run exited 3 (internal)."""
    assert of_run(
        {"derived": {"root": "(e.zz - 2) ** 0.5", "huge": "10 ** 400", "steep": "exp(e.zz * 1000)"}}, BODIES
    ) == [
        (
            "root",
            "cannot be computed: '(e.zz - 2) ** 0.5': a negative number to a fractional power is not a real number",
        ),
        ("huge", "cannot be computed: '10 ** 400': too large a number"),
        ("steep", "cannot be computed: 'exp(e.zz * 1000)': too large a number"),
    ]
    spec = write_spec(
        "version: 1\nname: neg\nbackend: aer\noptions: {seed: 2}\n"
        'circuits:\n  one: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; x q[0];"}\n'
        "observables:\n  z: Z\njobs:\n  - {name: e, primitive: estimator, circuit: one, observables: [z]}\n"
        "derived:\n  root: e.z ** 0.5\n"
    )
    done = qrun(spec, "--out", spec.parent / "r")
    assert done.code == 0, done.err
    assert "derived: root cannot be computed: 'e.z ** 0.5': a negative number to a fractional power" in done.out


@pytest.mark.parametrize(
    "text, f",
    [
        ("sqrt(e.zz) * exp(e.xx) / (1 + e.zz ** 2)", lambda a, b: math.sqrt(a) * math.exp(b) / (1 + a**2)),
        (
            "log(abs(e.zz - e.xx)) - cos(e.zz) * sin(e.xx)",
            lambda a, b: math.log(abs(a - b)) - math.cos(a) * math.sin(b),
        ),
        ("e.zz ** e.xx", lambda a, b: a**b),
        (
            "asin(e.zz) + atan(e.xx) * tan(e.zz) - acos(e.xx)",
            lambda a, b: math.asin(a) + math.atan(b) * math.tan(a) - math.acos(b),
        ),
        ("atan2(e.zz, e.xx) * atan2(e.xx - 1, e.zz)", lambda a, b: math.atan2(a, b) * math.atan2(b - 1, a)),
    ],
)
def test_the_standard_error_is_the_first_order_one_a_numeric_derivative_gives(text, f):
    """σ² = Σ (∂f/∂x σ_x)², the slopes taken in one pass back over the tree: checked against central differences."""
    x, y, sx, sy, h = 0.9, 0.8, 0.03, 0.04, 1e-6  # e.zz and e.xx in BODIES
    slope_x, slope_y = (f(x + h, y) - f(x - h, y)) / (2 * h), (f(x, y + h) - f(x, y - h)) / (2 * h)
    assert evaluate(text, BODIES) == pytest.approx((f(x, y), math.hypot(slope_x * sx, slope_y * sy)), rel=1e-6)


def test_a_sum_of_a_hundred_and_ninety_results_is_one_text_and_longer_ones_are_named_in_parts():
    """A mean over many jobs (quantum volume's 100 circuits) is one expression; a sum past 200 levels is refused
    with how to write it, and written as named parts it computes the same."""
    bodies = {"e": BODIES["e"]}
    long = " + ".join(["e.zz"] * 190)
    assert evaluate(long, bodies) == (pytest.approx(190 * 0.9), pytest.approx(190 * 0.03))
    parts = {"a": " + ".join(["e.zz"] * 150), "b": " + ".join(["e.zz"] * 150), "total": "a + b"}
    assert evaluate("total", bodies, block=parts, name="total") == (pytest.approx(300 * 0.9), pytest.approx(9.0))


def test_a_derived_value_names_another_and_its_error_counts_the_results_they_share():
    block = {"a": "e.zz", "b": "a + a - e.zz", "d": "b * e.xx", "vqe": "3"}
    # b is e.zz itself: taken as independent of e.zz, a's σ would give √(2² + 1²) x 0.03, not 0.03
    assert evaluate(block["b"], BODIES, block=block, name="b") == pytest.approx((0.9, 0.03))
    value, sigma = evaluate(block["d"], BODIES, block=block, name="d")
    assert value == pytest.approx(0.72)
    assert sigma == pytest.approx(math.hypot(0.8 * 0.03, 0.9 * 0.04), rel=1e-6)
    assert evaluate("vqe + 1", BODIES, block=block) == pytest.approx((-0.8, 0.01))  # a job's name means the job
    assert of_run({"derived": block}, BODIES)[1:3] == [("b", "0.9 ± 0.03"), ("d", "0.72 ± 0.043")]
    assert references("d", block, BODIES) == [("e", "zz"), ("e", "xx")]  # each result once
    assert references("c.meas['00'] + d", block, BODIES)[0] == ("c", "meas", "00")  # the sampler job c


def test_a_long_circle_is_shown_by_its_first_names_and_its_size():
    block = {"x": "c0 + 1"} | {f"c{i}": f"c{(i + 1) % 8}" for i in range(8)}
    with pytest.raises(DerivedError) as caught:
        references("c3", block, BODIES, "c3")
    assert str(caught.value) == "'c3' is defined by itself: c3 -> c4 -> c5 -> c6 -> ... (8 values) -> c2 -> c3"
    with pytest.raises(DerivedError) as caught:
        references("c0 + 1", block, BODIES, "x")
    assert str(caught.value) == (
        "it names a derived value defined by itself: c0 -> c1 -> c2 -> c3 -> ... (8 values) -> c7 -> c0"
    )


@pytest.mark.parametrize(
    "block, message",
    [
        ({"x": "y + 1", "y": "2 * x"}, "'x' is defined by itself: x -> y -> x"),
        ({"x": "abs(x)"}, "'x' is defined by itself: x -> x"),
        (
            {"x": "d12 * 2"} | {f"d{i}": f"d{i - 1} + d{i - 1}" for i in range(1, 13)} | {"d0": "e.zz + e.zz"},
            "it names 'd12', which cannot be computed: with the derived values it names written out, it has more "
            "than 2,000 terms",
        ),
        (
            {"x": "n30 + 1"} | {f"n{i}": "-" * 25 + f"n{i - 1}" for i in range(1, 31)} | {"n0": "e.zz"},
            "it names 'n30', which cannot be computed: with the derived values it names written out, it nests "
            "deeper than 600",
        ),
        (  # a long chain's reason is said once, not once per value of it
            {"x": "c999"} | {f"c{i}": f"c{i - 1}" for i in range(1, 1000)} | {"c0": "1 / (e.zz + )"},
            "it names 'c999', which cannot be computed: not an expression qrun reads (invalid syntax)",
        ),
        (
            {"x": "d1 + 1"} | {f"d{i}": f"d{i + 1}" for i in range(1, 5)} | {"d5": "d3"},
            "it names a derived value defined by itself: d3 -> d4 -> d5 -> d3",
        ),
    ],
)
def test_a_derived_value_that_names_itself_or_grows_past_the_limits_is_refused(block, message):
    with pytest.raises(DerivedError) as caught:
        references(block["x"], block, BODIES, "x")
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '__import__("os").system("x")',
            "'__import__('os').system('x')' is not a number, an operation, a function "
            "(abs, sqrt, exp, log, cos, sin, tan, asin, acos, atan, atan2) or a result",
        ),
        (
            "e.zz.__class__",
            "'e.zz.__class__': a name of three parts is a ladder's value, LADDER.RUNG.OBSERVABLE, and 'zz' is no rung "
            "(raw, dd, trex, twirling, zne)",
        ),
        (
            "climb.pec.zz",
            "'climb.pec.zz': a name of three parts is a ladder's value, LADDER.RUNG.OBSERVABLE, and 'pec' is no rung "
            "(raw, dd, trex, twirling, zne)",
        ),
        (
            "e.zz.real.imag",
            "'e.zz.real.imag' is not a number, an operation, a function (abs, sqrt, exp, log, cos, sin, tan, asin, acos, atan, atan2) or a result",
        ),
        (
            "(lambda: 1)()",
            "'(lambda: 1)()' is not a number, an operation, a function (abs, sqrt, exp, log, cos, sin, tan, asin, acos, atan, atan2) or a result",
        ),
        ("e.zz +", "not an expression qrun reads (invalid syntax)"),
        ("1" * 4001, "longer than 4000 characters"),
        ("-" * 3990 + "e.zz", NESTED),  # Python's own parser ran out of stack: an internal error
        (" + ".join(["e.zz"] * 500), NESTED),  # as did qrun's walks of the tree
        ("e.zz" + "[0]" * 1300, NESTED),
        ("atan2(e.zz)", "atan2() takes 2 arguments"),
        ("cos(e.zz, 1)", "cos() takes one argument"),
        ("atan2(*e.zz)", "atan2() takes 2 arguments"),
    ],
)
def test_anything_but_arithmetic_over_results_is_refused(text, message):
    with pytest.raises(DerivedError) as caught:
        references(text)
    assert str(caught.value) == message


def test_a_run_shows_its_derived_values(qrun, write_spec, tmp_path):
    spec = write_spec(
        "version: 1\nname: pair\nbackend: aer\noptions: {seed: 2}\n"
        'circuits:\n  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; cx q[0], q[1];"}\n'
        "observables:\n  zz: ZZ\n  xx: XX\n"
        "jobs:\n  - {name: e, primitive: estimator, circuit: bell, observables: [zz, xx], precision: 0.01, "
        "exact: statevector}\n"
        'derived:\n  both: "e.zz + e.xx"\n  half: both / 2\n'
    )
    done = qrun(spec, "--out", tmp_path, "-q")
    assert done.code == 0, done.err
    line, half = [x for x in qrun("show", done.out.strip()).out.splitlines() if x.startswith("derived: ")]
    shown, reference = line.removeprefix("derived: both = ").split(" (exact ")
    value, sigma = (float(t) for t in shown.split(" ± "))
    assert abs(value - 2.0) < 5 * sigma and sigma == pytest.approx(0.01 * math.sqrt(2), rel=0.05)  # a Bell pair: 1 + 1
    assert reference.startswith("2, ")  # the expression over the statevector's values: 1 + 1
    recorded = json.loads((tmp_path / done.out.strip() / "derived.json").read_text())
    both = recorded["both"]
    assert recorded.pop("half") == {  # a derived value named in another: both's value, σ and exact value, halved
        "expression": "both / 2",
        "value": pytest.approx(both["value"] / 2, rel=1e-12),
        "stderr": pytest.approx(both["stderr"] / 2, rel=1e-6),
        "exact": pytest.approx(1.0),
    }
    assert half.startswith(f"derived: half = {both['value'] / 2:.6g} ± {both['stderr'] / 2:.2g} (exact 1, ")
    (listed,) = json.loads(qrun("list", tmp_path, "--json").out)  # derived values are `qrun list` columns too
    assert listed["results"]["derived.both"] == {k: both[k] for k in ("value", "stderr", "exact")}
    assert list(listed["results"]) == ["e.zz", "e.xx", "derived.both", "derived.half"]
    assert recorded == {
        "both": {
            "expression": "e.zz + e.xx",
            "value": pytest.approx(value, rel=1e-5),
            "stderr": pytest.approx(sigma, rel=0.05),
            "exact": pytest.approx(2.0),
        }
    }
    # from Python, as derived.json holds them; a run that wrote none (it has not completed) computes them alike
    import qrun as api

    run_dir = tmp_path / done.out.strip()
    assert api.load(run_dir).derived == json.loads((run_dir / "derived.json").read_text())
    (run_dir / "derived.json").unlink()
    computed = api.load(run_dir).derived
    assert computed["both"] == {
        "expression": "e.zz + e.xx",
        **{k: pytest.approx(both[k]) for k in ("value", "stderr")},
        "exact": pytest.approx(2.0),
    }
    (run_dir / "jobs" / "00-e.json").unlink()  # a job it reads that left no result
    assert api.load(run_dir).derived["both"] == {
        "expression": "e.zz + e.xx",
        "error": "job 'e' has no result in this run",
    }
    for override, error in [
        ("+derived.typo=e.yy", "job 'e' measures no observable 'yy'"),
        ("+derived.typo=bth*2", "unknown job or derived value 'bth'; did you mean 'both'?"),
        ("+derived.typo=typo+1", "'typo' is defined by itself: typo -> typo"),
        ("derived.both=half*2", "'both' is defined by itself: both -> half -> both"),
    ]:
        refused = qrun("validate", spec, override)
        name = override.lstrip("+").split("=")[0]
        assert refused.err.splitlines()[0] == f"{spec}: {name}: --set {override}: {error}"
    # a bad reference is blamed where it is written, not again on `half`, which names `both`
    one = qrun("validate", spec, "derived.both=e.zz[1]")
    assert one.err == (
        f"{spec}: derived.both: --set derived.both=e.zz[1]: job 'e' has 1 parameter set, [0] to [0]: the last is "
        "e.zz[0]\nqrun: 1 of 1 spec invalid\n"
    )


def test_validate_refuses_a_ladders_value_read_without_its_rung_or_at_a_rung_it_does_not_run(qrun, write_spec):
    """A ladder has a value per rung: `climb.zz` passed validate, then its run said the value could not be computed."""
    spec = write_spec(
        "version: 1\nname: lad\nbackend: fake_manila\nmax_time: 1h\n"
        'circuits:\n  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; cx q[0], q[1];"}\n'
        "observables:\n  zz: ZZ\n"
        "jobs:\n  - {name: climb, primitive: ladder, circuit: bell, observables: [zz], rungs: [raw, trex]}\n"
        "derived:\n  gain: climb.trex.zz - climb.raw.zz\n"
    )
    assert qrun("validate", spec).code == 0
    for expression, error in [
        ("climb", "job 'climb' is a ladder: name its rung, as in climb.trex.OBSERVABLE"),
        ("climb.trex.zz[1]", "job 'climb' has 1 parameter set, [0] to [0]: the last is climb.trex.zz[0]"),
        ("climb.zz", "job 'climb' is a ladder: name its rung, as in climb.trex.zz"),
        ("climb.zz[1]", "job 'climb' is a ladder: name its rung, as in climb.trex.zz"),
        ('climb.zz["zne"]', "job 'climb' is a ladder: name its rung, as in climb.trex.zz"),
        ("climb.zne.zz", "job 'climb' runs no rung 'zne' (its rungs: raw, trex)"),
        ("climb.raw.xx", "job 'climb' measures no observable 'xx'"),
    ]:
        refused = qrun("validate", spec, f"+derived.bad={expression}")
        assert refused.code == 2
        assert refused.err.splitlines()[0] == f"{spec}: derived.bad: --set +derived.bad={expression}: {error}"


GROUP = """\
vars:
  theta: 0.5
version: 1
name: rot
backend: aer
max_time: 10m
options: {seed: 3}
circuits:
  rot: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; ry({{ theta }}) q[0];"}
observables:
  z: Z
  x: X
jobs:
  - {name: e, primitive: estimator, circuit: rot, observables: [z, x], precision: 0.01}
derived:
  norm: e.z ** 2 + e.x ** 2
"""


def test_a_multiruns_derived_values_are_plotted_against_its_swept_keys(qrun, tmp_path):
    """<Z>² + <X>² = cos² + sin² = 1 at every angle: drawn against theta as any value is."""
    from qrun.store.catalog import discover
    from qrun.store.derived import readings_of
    from qrun.store.reader import load
    from qrun.store.specfile import read_spec

    spec = tmp_path / "rot.yaml"
    spec.write_text(GROUP, encoding="utf-8")
    result = qrun(spec, "--out", tmp_path / "r", "-q", "-m", "theta=0,0.8,1.6")
    assert result.code == 0, result.err
    group = tmp_path / result.out.strip()
    for found in discover(group):
        (reading,) = readings_of(read_spec(found.path), load(found.path).jobs, found.path)
        assert (reading.job, reading.key) == ("derived", "norm")
        assert abs(reading.value - 1.0) < 5 * reading.stderr and 0.01 < reading.stderr < 0.05  # 2σ·|<O>| ≈ 0.02
    plotted = qrun("plot", group)
    assert plotted.code == 0, plotted.err
    assert str(group / "plots" / "derived-norm-vs-theta.png") in plotted.out.split()


def test_an_outcome_of_another_width_than_its_register_cannot_be_computed():
    """Its probability is not zero: the register has no such outcome at all (it read 0 ± 0)."""
    with pytest.raises(DerivedError) as caught:
        evaluate("c.meas['000']", BODIES)
    assert str(caught.value) == "'000' has 3 bits; register 'meas' of job 'c' has 2"
    with pytest.raises(DerivedError) as caught:
        evaluate("c.meas['1x']", BODIES)  # a run of a spec from before validate refused it
    assert str(caught.value) == "'1x' is not an outcome: a register's bits as 0s and 1s"


def test_validate_refuses_an_outcome_that_is_not_bits(qrun, write_spec):
    spec = write_spec(
        "version: 1\nname: s\nbackend: aer\n"
        'circuits:\n  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; cx q[0], q[1];"}\n'
        "jobs:\n  - {name: c, primitive: sampler, circuit: bell, measure_all: true}\n"
        "derived:\n  p: c.meas['1x']\n"
    )
    refused = qrun("validate", spec)
    assert (refused.code, refused.err.splitlines()[0]) == (
        2,
        f"{spec}:9:6: derived.p: '1x' is not an outcome: a register's bits as 0s and 1s, as in c.meas[\"0101\"] "
        '(or "heavy", its heavy outputs; "xeb", its cross-entropy fidelity)',
    )


def test_a_register_with_no_shots_or_a_null_ideal_probability_is_said_plainly():
    """A job file is untrusted: a register that counted nothing, or an ideal probability stored as null (a NaN)."""
    empty = {"c": {**BODIES["c"], "counts": {"meas": [{}]}}}
    with pytest.raises(DerivedError) as caught:
        evaluate("c.meas['00']", empty)
    assert str(caught.value) == "job 'c' counted no shots in register 'meas'"
    nulled = {"c": {**BODIES["c"], "ideal": {"meas": [{"00": None}]}}}
    assert of_run({"derived": {"p": "c.meas['00']"}}, nulled) == [("p", "0.75 ± 0.022")]


SWEPT = """\
version: 1
name: swept
backend: aer
options: {seed: 5}
circuits:
  rot: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[1] q; bit[1] c; ry(a) q[0]; c = measure q;"}
observables:
  z: Z
jobs:
  - {name: scan, primitive: estimator, circuit: rot, observables: [z], precision: 0.01, exact: statevector,
     sweep: {values: {a: [0, 1.0471975511965976, 3.141592653589793]}}}
  - {name: rows, primitive: sampler, circuit: rot, shots: 400, parameter_values: [[0], [3.141592653589793]]}
  - {name: points, primitive: sampler, circuit: rot, shots: 400, sweep: {values: {a: [0, 1.5707963267948966]}}}
derived:
  half: scan.z[1]
  flipped: rows.c["1"][1]
  even: points.c["0"][1]
"""


def test_a_derived_value_reads_a_sweeps_points_and_a_samplers_parameter_sets_by_index(qrun, tmp_path):
    """`scan.z` of a sweep named no value (the run said so, validate did not); a sampler's second parameter set
    could not be read at all."""
    spec = tmp_path / "swept.yaml"
    spec.write_text(SWEPT, encoding="utf-8")
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    got = json.loads((tmp_path / done.out.strip() / "derived.json").read_text())
    half, flipped, even = (got[n] for n in ("half", "flipped", "even"))
    assert half["exact"] == pytest.approx(0.5) and abs(half["value"] - 0.5) < 5 * half["stderr"]  # cos(π/3)
    assert (flipped["value"], flipped["stderr"]) == (1.0, 0.0)  # ry(π)|0> is |1>, every shot
    assert abs(even["value"] - 0.5) < 5 * even["stderr"] and even["stderr"] == pytest.approx(0.025, rel=0.05)
    for override, error in [
        ("derived.half=scan.z[3]", "job 'scan' has 3 sweep points, [0] to [2]: the last is scan.z[2]"),
        ("derived.flipped=rows.c['1'][2]", "job 'rows' has 2 parameter sets, [0] to [1]: the last is rows.c[\"1\"][1]"),
        ("derived.even=points.c[1]", "a sampler's result is an outcome's probability: points.REGISTER[\"0101\"]"),
    ]:
        refused = qrun("validate", spec, override)
        assert refused.code == 2
        assert refused.err.splitlines()[0] == f"{spec}: {override.split('=')[0]}: --set {override}: {error}"


def test_a_sweep_over_observables_measures_each_and_a_derived_value_reads_it(qrun, write_spec, tmp_path):
    """`observable` swept (so listed nowhere else) was "measures no observable" to validate: in a zip over th and
    [z, y, z, y], e.y[1] is <Y> at th = 3, -sin(3)."""
    spec = write_spec(
        """
version: 1
name: zipped
backend: aer
max_time: 10m
options: {seed: 5, default_precision: 0.01}
circuits:
  r: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float th; qubit q; rx(th) q;"}
observables: {z: Z, y: Y}
jobs:
  - {name: e, primitive: estimator, circuit: r, exact: statevector,
     sweep: {mode: zip, values: {th: [0, 1, 2, 3], observable: [z, y, z, y]}}}
derived:
  y1: e.y[1]
"""
    )
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    y1 = json.loads((tmp_path / done.out.strip() / "derived.json").read_text())["y1"]
    assert y1["exact"] == pytest.approx(-math.sin(3), abs=1e-12)
    assert abs(y1["value"] - y1["exact"]) < 5 * y1["stderr"]
    refused = qrun("validate", spec, "derived.y1=e.y[2]")
    assert refused.err.splitlines()[0].endswith("job 'e' has 2 sweep points, [0] to [1]: the last is e.y[1]")


HYPHENATED = {
    "final-counts": {**BODIES["c"], "job": "final-counts"},
    "e": {**BODIES["e"], "observables": {"x-field": BODIES["e"]["observables"]["zz"]}},
    "e-2": {**BODIES["e"], "job": "e-2"},
    "vqe": BODIES["vqe"],
    "opt": BODIES["vqe"],
    "vqe-opt": {**BODIES["vqe"], "job": "vqe-opt", "optimum": {"value": -1.5, "stderr": 0.02}},
}


@pytest.mark.parametrize(
    "text, value",
    [
        ("final-counts.meas['00']", 0.75),  # the house style of a job's name, as qrun's own examples write it
        ('1-final-counts.meas["11"]', 0.75),
        ("e.x-field", 0.9),  # an observable's name runs on after the '.'
        ("e.x-field[1]-e-2.xx", 0.5 - 0.8),
        ("e.x-field-1", -0.1),  # a digit after '-' is a number
        ("e.x-field-vqe", 0.9 + 1.8),  # and a job's name a job: what could be subtracted is
        ("vqe-opt", -1.5),  # a job's whole name before its parts'
        ("vqe - opt", 0.0),  # spaces: a difference
        ("vqe-opt-vqe", 0.3),  # the longest name that fits, then the rest
        ("2.5e-1 + e-2.zz", 1.15),  # a number's exponent is no name
    ],
)
def test_names_with_a_hyphen_are_read_whole_where_they_name_a_result(text, value):
    """Python reads `final-counts` as final minus counts: the README's own job names could not be named at all."""
    assert evaluate(text, HYPHENATED)[0] == pytest.approx(value)


def test_a_run_of_hyphenated_names_computes_and_validate_names_them_in_its_messages(qrun, write_spec, tmp_path):
    spec = write_spec(
        "version: 1\nname: hy\nbackend: aer\noptions: {seed: 2}\n"
        'circuits:\n  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; cx q[0], q[1];"}\n'
        "observables:\n  z-z: ZZ\njobs:\n"
        "  - {name: bell-e, primitive: estimator, circuit: bell, observables: [z-z], precision: 0.01, "
        "exact: statevector}\n"
        "  - {name: bell-counts, primitive: sampler, circuit: bell, measure_all: true, shots: 1000, "
        "exact: statevector}\n"
        "derived:\n  one-half: bell-counts.meas['11']\n  sum: bell-e.z-z + one-half\n"
    )
    done = qrun(spec, "--out", tmp_path, "-q")
    assert done.code == 0, done.err
    recorded = json.loads((tmp_path / done.out.strip() / "derived.json").read_text())
    assert recorded["sum"]["exact"] == pytest.approx(1.5, abs=1e-12)
    assert recorded["sum"]["value"] == pytest.approx(1.5, abs=5 * recorded["sum"]["stderr"])
    refused = qrun("validate", spec, "derived.sum=bell-e.z-y")
    assert refused.err.splitlines()[0] == (
        f"{spec}: derived.sum: --set derived.sum=bell-e.z-y: job 'bell-e' measures no observable 'z-y'"
    )


REGISTERS = """\
version: 1
name: q2
backend: aer
options: {seed: 2}
circuits:
  bell: {qasm: "OPENQASM 2.0; include \\"qelib1.inc\\"; qreg q[2]; creg c[2]; creg m[1]; h q[0]; cx q[0], q[1]; measure q -> c; measure q[0] -> m[0];"}
  b3: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; bit d; h q[0]; cx q[0], q[1]; c = measure q; d = measure q[0];"}
  ra: {library: real_amplitudes, args: {num_qubits: 3, reps: 1}}
jobs:
  - {name: s, primitive: sampler, circuit: bell, shots: 100}
  - {name: t, primitive: sampler, circuit: b3, shots: 100, measure_all: true}
  - {name: u, primitive: sampler, circuit: ra, shots: 100, measure_all: true, parameter_values: [[0, 0, 0, 0, 0, 0]]}
derived:
  fine: s.c["11"] + s.m["1"] + t.c["00"] + t.meas["01"] + u.meas["000"]
"""


@pytest.mark.parametrize("deep", [False, True])
def test_validate_knows_each_samplers_registers_and_their_widths(qrun, tmp_path, deep):
    """A register the job does not have, or an outcome of another width, read 0 ± 0 or failed at the run's end: the
    circuit's own registers (OpenQASM 2 and 3, a loose `bit d;` in none) and measure_all's `meas` are known before."""
    spec = tmp_path / "q2.yaml"
    spec.write_text(REGISTERS, encoding="utf-8")
    deeply = ["--deep"] if deep else []
    assert qrun("validate", spec, *deeply).code == 0
    bad = ['+derived.b1=s.meas["11"]', '+derived.b2=t.d["1"]', '+derived.b3=t.meas["011"]', '+derived.b4=u.c["000"]']
    refused = qrun("validate", spec, *deeply, *bad)
    assert refused.code == 2
    assert [line.split(": ", 3)[-1] for line in refused.err.splitlines()[:-1]] == [
        "job 's' has no register 'meas' (its registers: c, m)",
        "job 't' has no register 'd' (its registers: c, meas)",
        "'011' has 3 bits; register 'meas' of job 't' has 2",
        "job 'u' has no register 'c' (its registers: meas)",
    ]
    ran = qrun(spec, "--out", tmp_path / "r", "-q")
    assert ran.code == 0 and "cannot" not in ran.err, ran.err
