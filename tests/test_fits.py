"""Fitted derived values: a model fitted by least squares to results, weighted by their covariance, against the
closed form of generalized least squares and the exact statevector; and what validate says of a fit it cannot read."""

import json
import math

import numpy as np
import pytest

THETAS = [0, 0.5, 1, 1.5, 2, 2.5, 3]


def _rabi(backend: str, derived: str, primitive: str = "estimator") -> str:
    sets = ", ".join(f"[{t}]" for t in THETAS)
    measured = "bit[1] c; c[0] = measure q;" if primitive == "sampler" else ""
    what = "shots: 4000" if primitive == "sampler" else "observables: [z], precision: 0.01, exact: statevector"
    return f"""
version: 1
name: rabi
backend: {backend}
max_time: 10m
options: {{seed: 5}}
circuits:
  r: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float th; qubit q; rx(th) q; {measured}"}}
observables: {{z: Z}}
jobs:
  - {{name: e, primitive: {primitive}, circuit: r, parameter_values: [{sets}], {what}}}
derived:
{derived}"""


COSINE = """  w:
    fit: a * cos(w * x)
    x: [0, 0.5, 1, 1.5, 2, 2.5, 3]
    y: ["e.z[0]", "e.z[1]", "e.z[2]", "e.z[3]", "e.z[4]", "e.z[5]", "e.z[6]"]
    start: {w: 0.9, a: 1}
"""


def _run(qrun, write_spec, tmp_path, text):
    done = qrun(write_spec(text), "--out", tmp_path / "r")
    assert done.code == 0, done.err
    (run,) = (tmp_path / "r" / "rabi").iterdir()
    body = json.loads(next((run / "jobs").glob("*-e.json")).read_text())
    return done, run, json.loads((run / "derived.json").read_text()), body.get("observables", {}).get("z")


def _gls(design: np.ndarray, y: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Generalized least squares in closed form: the parameters and their covariance."""
    inverse = np.linalg.inv(cov)
    fisher = design.T @ inverse @ design
    return np.linalg.solve(fisher, design.T @ inverse @ y), np.linalg.inv(fisher)


@pytest.mark.parametrize("backend", ["aer", "fake_fez"])
def test_a_rabi_frequency_fitted_to_a_cosine_is_one_within_its_error_and_the_exact_fit_is_one(
    qrun, write_spec, tmp_path, backend
):
    """<Z> of RX(theta)|0> is cos(theta): w is 1. Its standard error is the weighted fit's, (J^T C^-1 J)^-1 at the
    optimum with C the job's own variances; the exact values fit w = 1 with no residual."""
    done, run, derived, z = _run(qrun, write_spec, tmp_path, _rabi(backend, COSINE))
    fit = derived["w"]
    assert fit["expression"] == "w of a * cos(w * x), fitted at 7 points (x 0 to 3)"
    assert (fit["parameter"], fit["weighted"]) == ("w", True)
    w, a = fit["value"], fit["parameters"]["a"]["value"]
    assert fit["parameters"]["w"] == {"value": w, "stderr": fit["stderr"]}
    assert w == pytest.approx(1, abs=5 * fit["stderr"])
    assert fit["exact"] == pytest.approx(1, abs=1e-9)
    x, y, sigma = np.array(THETAS, dtype=float), np.array(z["values"]), np.array(z["stderrs"])
    jac = np.column_stack([-a * x * np.sin(w * x), np.cos(w * x)])
    _, cov = _gls(jac, y, np.diag(sigma**2))
    assert fit["stderr"] == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-5)
    assert fit["parameters"]["a"]["stderr"] == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-5)
    residual = y - a * np.cos(w * x)
    assert fit["chi2_reduced"] == pytest.approx(float(np.sum((residual / sigma) ** 2)) / 5, rel=1e-6)
    deviation = (w - 1) / fit["stderr"]
    line = (
        f"derived: w = {w:.6g} ± {fit['stderr']:.2g} (exact 1, {deviation:+.1f}σ) (fit: a = {a:.6g} ± "
        f"{fit['parameters']['a']['stderr']:.2g}; χ²/dof {fit['chi2_reduced']:.3g})"
    )
    assert line in done.out.splitlines()
    assert line in qrun("show", run).out.splitlines()  # read back from derived.json, as the run printed it


def test_y_values_that_share_a_result_are_weighted_by_their_covariance(qrun, write_spec, tmp_path):
    """y_i = <Z>_i - <Z>_0 all read <Z>_0: their covariance is diag(sigma_i^2) + sigma_0^2. The slope of m * x
    through them is generalized least squares with that matrix; taken as independent, its error is another."""
    ys = ", ".join(f'"e.z[{i}] - e.z[0]"' for i in range(1, 7))
    xs = [math.cos(t) - 1 for t in THETAS[1:]]
    fit_text = f"  m:\n    fit: m * x\n    x: {xs}\n    y: [{ys}]\n    start: {{m: 0.5}}\n"
    _, _, derived, z = _run(qrun, write_spec, tmp_path, _rabi("aer", fit_text))
    values, sigma = np.array(z["values"]), np.array(z["stderrs"])
    y = values[1:] - values[0]
    cov = np.diag(sigma[1:] ** 2) + sigma[0] ** 2
    design = np.array(xs)[:, None]
    slope, slope_cov = _gls(design, y, cov)
    assert derived["m"]["value"] == pytest.approx(slope[0], rel=1e-6)
    assert derived["m"]["stderr"] == pytest.approx(math.sqrt(slope_cov[0, 0]), rel=1e-5)
    _, apart = _gls(design, y, np.diag(np.diag(cov)))
    assert abs(math.sqrt(apart[0, 0]) / derived["m"]["stderr"] - 1) > 0.1  # the covariance matters here
    assert derived["m"]["value"] == pytest.approx(1, abs=5 * derived["m"]["stderr"])


def test_a_y_counted_in_every_shot_has_no_spread_and_the_fit_goes_unweighted(qrun, write_spec, tmp_path):
    """P(0) of RX(0)|0> is 1 in every shot, its binomial error 0: no covariance can weigh the points, so the fit is
    unweighted and its error scaled by the residuals, and the line says so."""
    ys = ", ".join(f"\"e.c['0'][{i}]\"" for i in range(len(THETAS)))
    fit_text = f"  w:\n    fit: cos(w * x / 2) ** 2\n    x: {THETAS}\n    y: [{ys}]\n    start: {{w: 0.8}}\n"
    done, _, derived, _ = _run(qrun, write_spec, tmp_path, _rabi("aer", fit_text, "sampler"))
    fit = derived["w"]
    assert fit["weighted"] is False and fit["chi2_reduced"] is None
    assert fit["value"] == pytest.approx(1, abs=0.02)
    assert 0 < fit["stderr"] < 0.02
    assert f"derived: w = {fit['value']:.6g} ± {fit['stderr']:.2g} (fit, unweighted)" in done.out.splitlines()


BAD = {
    "model_reads_a_result": (
        '    fit: a * cos(w * x) + e.z\n    x: [0, 1]\n    y: ["e.z[0]", "e.z[1]"]\n    start: {w: 1, a: 1}\n',
        "derived.t: the model reads 'e.z', which is neither x nor a parameter of start (w, a)",
    ),
    "unpaired": (
        '    fit: a * x\n    x: [0, 1, 2]\n    y: ["e.z[0]", "e.z[1]"]\n    start: {a: 1}\n',
        "derived.t: a fit's x has 3 values and its y 2; they pair one to one",
    ),
    "value_not_a_parameter": (
        '    fit: a * x\n    x: [0, 1]\n    y: ["e.z[0]", "e.z[1]"]\n    start: {a: 1}\n    value: b\n',
        "derived.t: value: 'b' is not a parameter of start (a)",
    ),
    "x_as_a_parameter": (
        '    fit: a * x\n    x: [0, 1]\n    y: ["e.z[0]", "e.z[1]"]\n    start: {a: 1, x: 2}\n',
        "derived.t: 'x' is the model's variable; start names its parameters",
    ),
    "unknown_job": (
        '    fit: a * x\n    x: [0, 1]\n    y: ["e.z[0]", f.z]\n    start: {a: 1}\n',
        "derived.t: unknown job 'f'; defined: e",
    ),
    "no_start": (
        '    fit: a * x\n    x: [0, 1]\n    y: ["e.z[0]", "e.z[1]"]\n',
        "derived.t: missing required key 'start'",
    ),
    "one_point": (
        '    fit: a * x\n    x: [0]\n    y: ["e.z[0]"]\n    start: {a: 1}\n',
        "derived.t.y: needs at least 2 items",
    ),
    "fewer_points_than_parameters": (  # scipy's TypeError at the run's end: an internal error after every job ran
        '    fit: a * cos(w * x) + b\n    x: [0, 1]\n    y: ["e.z[0]", "e.z[1]"]\n    start: {w: 1, a: 1, b: 0}\n',
        "derived.t: x has 2 values; a fit of 3 parameters (w, a, b) needs at least 3 points",
    ),
    "x_fewer_sets_than_parameters": (
        "    fit: a + b * x + c * x**2 + d * x**3 + f * x**4 + g * x**5 + h * x**6 + k * x**7\n    x: e.th\n"
        "    y: e.z\n    start: {a: 0, b: 0, c: 0, d: 0, f: 0, g: 0, h: 0, k: 0}\n",
        "derived.t.x: job 'e' has 7 parameter sets; a fit of 8 parameters (a, b, c, d, f, g, h, k) needs at least 8",
    ),
    "bad_name": (
        '    fit: a * x\n    x: [0, 1]\n    y: ["e.z[0]", "e.z[1]"]\n    start: {a: 1}\n    value: 2a\n',
        "derived.t.value: '2a' is not a parameter's name: letters, digits and _, no digit first",
    ),
    "x_unknown_parameter": (
        "    fit: a * cos(w * x)\n    x: e.theta\n    y: e.z\n    start: {w: 1, a: 1}\n",
        "derived.t.x: job 'e' has no parameter 'theta' (its parameters: th)",
    ),
    "x_unknown_job": (
        "    fit: a * cos(w * x)\n    x: f.th\n    y: e.z\n    start: {w: 1, a: 1}\n",
        "derived.t.x: unknown job 'f'; defined: e",
    ),
    "x_unpaired": (
        '    fit: a * cos(w * x)\n    x: e.th\n    y: ["e.z[0]", "e.z[1]"]\n    start: {w: 1, a: 1}\n',
        "derived.t.x: job 'e' has 7 parameter sets and y 2 values; they pair one to one",
    ),
    "x_no_parameter": (
        "    fit: a * cos(w * x)\n    x: th\n    y: e.z\n    start: {w: 1, a: 1}\n",
        "derived.t.x: 'th' is neither a list of numbers nor a job's parameter (job.parameter, as rabi.theta)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_fit_validate_cannot_read_is_refused_where_it_is_with_what_is_wrong(qrun, write_spec, tmp_path, case):
    body, message = BAD[case]
    spec = write_spec(_rabi("aer", "  t:\n" + body))
    result = qrun("validate", spec)
    assert result.code == 2
    assert result.err.splitlines()[0].split(": ", 1)[1] == message


def test_a_fit_of_a_jobs_x_past_the_limit_of_points_is_refused_with_its_count(qrun, write_spec):
    """x read from a job of 1,200 parameter sets (by name) is more points than a fit takes."""
    by_name = "parameter_values: {th: " + str([k / 400 for k in range(1200)]) + "}"
    text = _rabi("aer", "  t:\n    fit: a * cos(w * x)\n    x: e.th\n    y: e.z\n    start: {w: 1, a: 1}\n")
    spec = write_spec(text.replace("parameter_values: [" + ", ".join(f"[{t}]" for t in THETAS) + "]", by_name))
    result = qrun("validate", spec)
    assert (result.code, result.err.splitlines()[0].split(": ", 1)[1]) == (
        2,
        "derived.t.x: job 'e' has 1,200 parameter sets; a fit takes at most 1,000 points",
    )


def test_a_number_is_neither_an_expression_nor_a_fit(qrun, write_spec):
    spec = write_spec(_rabi("aer", COSINE + "  three: 3\n"))
    result = qrun("validate", spec)
    assert result.code == 2
    assert [line.split(": ", 1)[1] for line in result.err.splitlines()[:-1]] == [
        "derived.three: 3 is neither an expression (as text: t50.z / t0.z) nor a fit ({fit: a * exp(-x / T) + b, "
        "x: [...], y: [...], start: {T: 100, a: 1, b: 0}})",
    ]


def test_an_expression_reads_a_fit_with_the_fits_slope_in_each_result_it_read(qrun, write_spec, tmp_path):
    """half: w / 2 has half w's σ; mix: w + <Z>(0.5) reads a result the fit read too, so its variance has their
    covariance, 2 (dw/dz1) σ1², with dw/dz = (J^T W J)^-1 J^T W the fit's slope in each y."""
    extra = '  half: w / 2\n  mix: "w + e.z[1]"\n'
    _, _, derived, z = _run(qrun, write_spec, tmp_path, _rabi("aer", COSINE + extra))
    fit = derived["w"]
    assert derived["half"]["value"] == pytest.approx(fit["value"] / 2, rel=1e-12)
    assert derived["half"]["stderr"] == pytest.approx(fit["stderr"] / 2, rel=1e-6)
    x, sigma = np.array(THETAS, dtype=float), np.array(z["stderrs"])
    w, a = fit["value"], fit["parameters"]["a"]["value"]
    jac = np.column_stack([-a * x * np.sin(w * x), np.cos(w * x)])
    weight = np.diag(1 / sigma**2)
    slope = (np.linalg.inv(jac.T @ weight @ jac) @ jac.T @ weight)[0]
    variance = fit["stderr"] ** 2 + sigma[1] ** 2 + 2 * slope[1] * sigma[1] ** 2
    assert derived["mix"]["value"] == pytest.approx(w + z["values"][1], rel=1e-12)
    assert derived["mix"]["stderr"] == pytest.approx(math.sqrt(variance), rel=1e-6)
    assert abs(slope[1]) * sigma[1] ** 2 > 0.01 * variance  # the covariance term matters here


def test_a_fit_and_an_expression_that_read_each_other_are_a_circle(qrun, write_spec):
    circle = COSINE.replace('"e.z[6]"]', '"e.z[6] + 0 * twice"]') + "  twice: 2 * w\n"
    result = qrun("validate", write_spec(_rabi("aer", circle)))
    assert result.code == 2
    assert [line.split(": ", 1)[1] for line in result.err.splitlines()[:-1]] == [
        "derived.w: 'w' is defined by itself: w -> twice -> w",
        "derived.twice: 'twice' is defined by itself: twice -> w -> twice",
    ]


def test_an_unweighted_fit_passes_no_error_on_to_what_reads_it(qrun, write_spec, tmp_path):
    ys = ", ".join(f"\"e.c['0'][{i}]\"" for i in range(len(THETAS)))
    fit_text = (
        f"  w:\n    fit: cos(w * x / 2) ** 2\n    x: {THETAS}\n    y: [{ys}]\n    start: {{w: 0.8}}\n  half: w / 2\n"
    )
    done, _, derived, _ = _run(qrun, write_spec, tmp_path, _rabi("aer", fit_text, "sampler"))
    assert derived["half"]["stderr"] is None and derived["half"]["value"] == derived["w"]["value"] / 2
    assert f"derived: half = {derived['half']['value']:.6g} (σ unknown)" in done.out.splitlines()


def test_a_model_that_cannot_be_computed_at_its_start_says_so_and_the_run_completes(qrun, write_spec, tmp_path):
    fit_text = '  t:\n    fit: log(a * x)\n    x: [0, 1]\n    y: ["e.z[0]", "e.z[1]"]\n    start: {a: 1}\n'
    done, _, derived, _ = _run(qrun, write_spec, tmp_path, _rabi("aer", fit_text))
    why = "the model cannot be computed at the start values: 'log(a * x)': math domain error"
    assert derived["t"] == {"expression": "a of log(a * x), fitted at 2 points (x 0 to 1)", "error": why}
    assert f"derived: t cannot be computed: {why}" in done.out.splitlines()


def test_x_from_fewer_rows_than_parameters_is_refused_and_a_stored_run_with_such_a_fit_is_shown(
    qrun, write_spec, tmp_path
):
    """scipy's curve_fit raises TypeError for fewer points than parameters: the run's end said "internal error" (exit
    3) after every job had run, and so did `qrun show` and `qrun report` of its folder."""
    import yaml

    fit_text = "  t:\n    fit: a * cos(w * x) + b\n    x: e.th\n    y: e.z\n    start: {w: 1, a: 1, b: 0}\n"
    (tmp_path / "rows.csv").write_text("0\n1.5\n")
    spec = write_spec(
        _rabi("aer", fit_text).replace(
            "parameter_values: [" + ", ".join(f"[{t}]" for t in THETAS) + "]", "parameter_values: {file: rows.csv}"
        )
    )
    refused = qrun(spec, "--out", tmp_path / "r")
    assert (refused.code, refused.err.strip()) == (
        2,
        f"{spec}:15:8: derived.t.x: job 'e' has 2 parameter sets; a fit of 3 parameters (w, a, b) needs at least 3",
    )
    # a run folder whose fit a view computes (no derived.json: a run that did not complete) with a parameter more
    (tmp_path / "rows.csv").write_text("0\n1.5\n3\n")
    _, run, _, _ = _run(qrun, write_spec, tmp_path, spec.read_text())
    stored = yaml.safe_load((run / "spec.yaml").read_text())
    stored["derived"]["t"] |= {"fit": "a * cos(w * x) + b + c", "start": {"w": 1, "a": 1, "b": 0, "c": 0}}
    (run / "spec.yaml").write_text(yaml.safe_dump(stored, sort_keys=False))
    (run / "derived.json").unlink()
    shown = qrun("show", run)
    why = "x has 3 values; a fit of 4 parameters (w, a, b, c) needs at least 4 points"
    assert (shown.code, f"derived: t cannot be computed: {why}" in shown.out.splitlines()) == (0, True), shown.out


def test_qrun_plot_draws_a_fits_points_and_the_curve_through_them_from_the_stored_run(qrun, write_spec, tmp_path):
    """plots/fit-w.png: the points ± their σ as fitted, the exact values, and the model at the fitted parameters,
    all read from derived.json (the figure is a view of the stored run)."""
    from qrun.views.fitplots import fit_figures
    from qrun.views.plots import pyplot

    _, run, derived, z = _run(qrun, write_spec, tmp_path, _rabi("aer", COSINE))
    plotted = qrun("plot", run)
    assert plotted.code == 0, plotted.err
    assert plotted.out.splitlines() == [str(run / "plots" / "fit-w.png")]
    assert (run / "plots" / "fit-w.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plt = pyplot()
    ((name, fig),) = fit_figures(plt, run)
    ax = fig.axes[0]
    measured, exact, curve = ax.lines[0], ax.lines[-2], ax.lines[-1]
    assert name == "w" and list(measured.get_ydata()) == z["values"]
    assert list(exact.get_ydata()) == pytest.approx([math.cos(t) for t in THETAS], abs=1e-12)
    w, a = derived["w"]["value"], derived["w"]["parameters"]["a"]["value"]
    assert list(curve.get_ydata()) == pytest.approx([a * math.cos(w * x) for x in curve.get_xdata()], rel=1e-12)
    assert (curve.get_xdata()[0], curve.get_xdata()[-1]) == (0, 3)
    plt.close(fig)


def test_the_covariance_of_many_values_at_once_is_each_pairs_with_a_registers_outcomes_counted_together():
    """covariance_matrix (a fit's y values) against covariance (one pair at a time), with three outcomes of one
    register counted from the same 1,000 shots, an outcome of another parameter set, and an estimator's value."""
    from qrun.store.propagate import covariance, covariance_matrix

    inputs = {
        ("s", "c", "00"): (0.5, math.sqrt(0.25 / 1000), None, 1000),
        ("s", "c", "01"): (0.3, math.sqrt(0.21 / 1000), None, 1000),
        ("s", "c", "11"): (0.2, math.sqrt(0.16 / 1000), None, 1000),
        ("s", "c", "00", "#1"): (0.6, math.sqrt(0.24 / 1000), None, 1000),
        ("e", "z"): (0.7, 0.01, None, 0),
    }
    rng = np.random.default_rng(3)
    slopes = [{ref: float(rng.normal()) for ref in inputs if rng.random() < 0.8} for _ in range(6)]
    expected = [[covariance(a, b, inputs) for b in slopes] for a in slopes]
    assert covariance_matrix(slopes, inputs) == pytest.approx(np.array(expected), rel=1e-12, abs=1e-15)
    both = {("s", "c", "00"): 1.0, ("s", "c", "11"): 1.0}  # P(00) + P(11): p(1-p)/N, less their covariance twice
    assert covariance_matrix([both], inputs)[0, 0] == pytest.approx(0.7 * 0.3 / 1000, rel=1e-12)


def test_exact_values_that_do_not_decay_give_no_exact_decay_time(qrun, write_spec, tmp_path):
    """On a noiseless simulator X|0> stays |1>: the exact P1 is 1 at every delay, which a * exp(-x / T) fits as well
    with T = 10^19 as with any T. The fit there is no exact T, and none is given (one was: T = 9.5e18)."""
    fit_text = (
        '  t:\n    fit: a * exp(-x / T)\n    x: [0, 50, 150, 300]\n    y: ["(1 - e.z[0]) / 2", "(1 - e.z[1]) / 2", '
        '"(1 - e.z[2]) / 2", "(1 - e.z[3]) / 2"]\n    start: {T: 200, a: 1}\n'
    )
    spec = (
        _rabi("aer", fit_text)
        .replace("rx(th) q;", "rx(th) q; x q;")
        .replace(", ".join(f"[{t}]" for t in THETAS), "[0], [0], [0], [0]")
    )
    _, _, derived, _ = _run(qrun, write_spec, tmp_path, spec)
    assert derived["t"]["points"]["exact"] == [1.0, 1.0, 1.0, 1.0]
    assert derived["t"]["exact"] is None


@pytest.mark.slow  # a whole experiment: `make test` stays well under its 3 minutes
def test_the_html_report_draws_each_fit_as_qrun_plot_does(qrun, write_spec, tmp_path):
    """A run's page has the fit's figure beside its jobs': the model in its legend and the fitted value in its
    title, as text a browser and a search read."""
    _, run, derived, _ = _run(qrun, write_spec, tmp_path, _rabi("aer", COSINE))
    page = tmp_path / "report.html"
    done = qrun("report", tmp_path / "r", "--html", page)
    assert done.code == 0, done.err
    html = page.read_text()
    figure = html[html.index('<figure data-fit="w">') :]
    figure = figure[: figure.index("</figure>")]
    assert "<figcaption>fit w</figcaption>" in figure and "a * cos(w * x)" in figure
    assert f"w: w = {derived['w']['value']:.6g}" in figure


def test_points_that_never_decay_determine_no_decay_time_and_the_fit_says_so(qrun, write_spec, tmp_path):
    """X|0> counted on a noiseless simulator is 1 in every shot at every delay (as the service's stand-in returns a
    T1 series): a * exp(-x / T) fits that as well with any T, and the fit gave T = 6.3e18 ± 0."""
    ys = ", ".join(f"\"e.c['1'][{i}]\"" for i in range(4))
    fit_text = f"  t:\n    fit: a * exp(-x / T)\n    x: [0, 50, 150, 300]\n    y: [{ys}]\n    start: {{T: 200, a: 1}}\n"
    spec = (
        _rabi("aer", fit_text, "sampler")
        .replace("rx(th) q;", "rx(th) q; x q;")
        .replace(", ".join(f"[{t}]" for t in THETAS), "[0], [0], [0], [0]")
    )
    done, _, derived, _ = _run(qrun, write_spec, tmp_path, spec)
    error = derived["t"]["error"]
    assert error.startswith(
        "the points do not determine T: the model fits them as well over a range of its values (the fit drifted to T = "
    )
    assert f"derived: t cannot be computed: {error}" in done.out.splitlines()


def test_a_stored_spec_whose_derived_keys_are_numbers_is_shown_not_an_internal_error(qrun, write_spec, tmp_path):
    """The run folder's spec.yaml is untrusted: `7:` is a number to YAML, where validate asked for a name."""
    _, run, _, _ = _run(qrun, write_spec, tmp_path, _rabi("aer", COSINE + '  e8: "2 * e.z[1]"\n'))
    text = (run / "spec.yaml").read_text()
    (run / "spec.yaml").write_text(text.replace("\n  w:\n", "\n  7:\n").replace("\n  e8:", "\n  8:"))
    (run / "derived.json").unlink()
    shown = qrun("show", run)
    assert shown.code == 0, shown.err
    lines = [line for line in shown.out.splitlines() if line.startswith("derived:")]
    assert [line.split(" = ")[0] for line in lines] == ["derived: 7", "derived: 8"]


def test_one_y_read_at_each_xs_parameter_set_is_the_list_written_out(qrun, write_spec, tmp_path):
    """y: e.z means e.z[0], e.z[1], ...: the same fit, to the last digit, as the list; (1 + e.z) / 2 reads each
    result at the index, and a sampler's outcome too; an x longer than the job's sets is refused where it is."""
    each = (
        COSINE.replace("  w:\n", "  each:\n").split("    y:")[0]
        + "    y: e.z\n    start: {w: 0.9, a: 1}\n"
        + COSINE.replace("  w:\n", "  half:\n").replace("a * cos(w * x)", "a * cos(w * x / 2) ** 2").split("    y:")[0]
        + '    y: "(1 + e.z) / 2"\n    start: {w: 0.9, a: 1}\n'
    )
    _, _, derived, _ = _run(qrun, write_spec, tmp_path, _rabi("aer", COSINE + each))
    assert {k: derived["each"][k] for k in ("value", "stderr", "exact")} == {
        k: derived["w"][k] for k in ("value", "stderr", "exact")
    }
    assert derived["each"]["points"] == derived["w"]["points"]
    assert derived["half"]["value"] == pytest.approx(1, abs=5 * derived["half"]["stderr"])
    assert derived["half"]["points"]["y"] == pytest.approx([(1 + v) / 2 for v in derived["w"]["points"]["y"]])
    longer = _rabi("aer", each.replace("x: [0, 0.5, 1, 1.5, 2, 2.5, 3]", "x: [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]"))
    refused = qrun("validate", write_spec(longer, "longer.yaml"))
    assert [line.split(": ", 1)[1] for line in refused.err.splitlines()[:-1]] == [
        "derived.each: job 'e' has 7 parameter sets, [0] to [6]: the last is e.z[6]",
        "derived.half: job 'e' has 7 parameter sets, [0] to [6]: the last is e.z[6]",
    ]
    ys = "    y: \"e.c['0']\"\n"
    fit_text = f"  w:\n    fit: cos(w * x / 2) ** 2\n    x: {THETAS}\n{ys}    start: {{w: 0.8}}\n"
    _, _, counted, _ = _run(qrun, write_spec, tmp_path / "s", _rabi("aer", fit_text, "sampler"))
    assert counted["w"]["value"] == pytest.approx(1, abs=0.02)


def test_qrun_diff_compares_a_fits_value_and_each_of_its_other_parameters(qrun, write_spec, tmp_path):
    """Two runs of one Rabi fit at two seeds: `qrun diff --json` pairs w and a, each with B - A and its σ."""
    spec = write_spec(_rabi("aer", COSINE))
    for seed in (5, 9):
        assert qrun(spec, f"options.seed={seed}", "--out", tmp_path / "r", "-q").code == 0
    a, b = sorted((tmp_path / "r" / "rabi").iterdir())
    fits = [json.loads((run / "derived.json").read_text())["w"] for run in (a, b)]
    done = qrun("diff", a, b, "--json")
    assert done.code == 0, done.err
    compared = {v["value"]: v for v in json.loads(done.out)["values"] if v["value"].startswith("derived")}
    assert sorted(compared) == ["derived w", "derived w.a"]
    for key, (fa, fb) in {
        "derived w": (fits[0], fits[1]),
        "derived w.a": tuple(f["parameters"]["a"] for f in fits),
    }.items():
        row = compared[key]
        assert (row["a"], row["b"]) == pytest.approx((fa["value"], fb["value"]), rel=1e-12)
        assert row["sigma"] == pytest.approx(math.hypot(fa["stderr"], fb["stderr"]), rel=1e-9)


def test_x_read_from_a_jobs_parameter_is_the_list_written_out_and_the_figure_says_so(qrun, write_spec, tmp_path):
    """x: e.th is th's value in each of e's parameter sets (rows, or values by name): the same fit, to the last
    digit, as x written out; derived.json says where x came from, and the figure's axis too."""
    from qrun.views.fitplots import fit_figures
    from qrun.views.plots import pyplot

    read = "  read:\n    fit: a * cos(w * x)\n    x: e.th\n    y: e.z\n    start: {w: 0.9, a: 1}\n"
    _, run, derived, _ = _run(qrun, write_spec, tmp_path, _rabi("aer", COSINE + read))
    assert {k: derived["read"][k] for k in ("value", "stderr", "exact", "points", "parameters")} == {
        k: derived["w"][k] for k in ("value", "stderr", "exact", "points", "parameters")
    }
    assert derived["read"]["x"] == "e.th" and "x" not in derived["w"]
    assert derived["read"]["expression"] == "w of a * cos(w * x), fitted over e.th"
    assert derived["read"]["value"] == pytest.approx(1, abs=5 * derived["read"]["stderr"])
    plt = pyplot()
    figures = dict(fit_figures(plt, run))
    assert (figures["read"].axes[0].get_xlabel(), figures["w"].axes[0].get_xlabel()) == ("x: e.th", "x")
    assert (figures["read"].axes[0].get_ylabel(), figures["w"].axes[0].get_ylabel()) == ("y: e.z", "y")
    assert derived["read"]["y"] == "e.z" and "y" not in derived["w"]
    plt.close("all")
    named = _rabi("aer", read).replace(
        "parameter_values: [" + ", ".join(f"[{t}]" for t in THETAS) + "]", f"parameter_values: {{th: {THETAS}}}"
    )
    assert "{th: [" in named
    _, _, by_name, _ = _run(qrun, write_spec, tmp_path / "named", named)
    assert by_name["read"]["points"] == derived["read"]["points"]
    assert by_name["read"]["value"] == derived["read"]["value"]


SWEPT = """
version: 1
name: rabi
backend: aer
max_time: 10m
options: {{seed: 5, default_precision: 0.01}}
circuits:
  r: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float th; qubit q; rx(th) q;"}}
observables: {{z: Z, y: Y}}
jobs:
  - name: e
    primitive: estimator
    circuit: r
    observables: [z, y]
    exact: statevector
    sweep: {{{sweep}}}
derived:
  read:
    fit: a * cos(w * x)
    x: e.th
    y: e.z
    start: {{w: 0.9, a: 1}}
  written:
    fit: a * cos(w * x)
    x: {thetas}
    y: {ys}
    start: {{w: 0.9, a: 1}}
"""


def test_x_read_from_a_sweeps_variable_takes_its_points_of_one_observable(qrun, write_spec, tmp_path):
    """A grid over th and two observables: x: e.th is th at each point of e.z, as e.z[i] reads them; a zip whose
    observables take other values of th is refused at the fit, and the run still completes."""
    ys = "[" + ", ".join(f'"e.z[{i}]"' for i in range(len(THETAS))) + "]"
    grid = SWEPT.format(sweep=f"values: {{th: {THETAS}}}", thetas=THETAS, ys=ys)
    done = qrun(write_spec(grid), "--out", tmp_path / "r")
    assert done.code == 0, done.err
    (run,) = (tmp_path / "r" / "rabi").iterdir()
    derived = json.loads((run / "derived.json").read_text())
    assert derived["read"]["points"] == derived["written"]["points"]
    assert derived["read"]["points"]["x"] == THETAS
    assert derived["read"]["points"]["exact"] == pytest.approx([math.cos(t) for t in THETAS], abs=1e-12)
    assert derived["read"]["value"] == derived["written"]["value"]
    assert derived["read"]["exact"] == pytest.approx(1, abs=1e-9)
    zipped = SWEPT.format(
        sweep="mode: zip, values: {th: [0, 1, 2, 3], observable: [z, y, z, y]}",
        thetas=[0, 2],
        ys='["e.z[0]", "e.z[1]"]',
    ).replace("    observables: [z, y]\n", "")
    done = qrun(write_spec(zipped, "zip.yaml"), "--out", tmp_path / "z")
    assert done.code == 0, done.err
    assert (
        "derived: read cannot be computed: x: job 'e' sweeps 'th' over other values for each observable: write x out"
        in done.out
    )
