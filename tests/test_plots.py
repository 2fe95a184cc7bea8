import pytest
from conftest import EXPERIMENTS

matplotlib = pytest.importorskip("matplotlib")


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("vqe.yaml", ["00-vqe.png", "01-final-counts.png"]),
        ("ising_sweep.yaml", ["00-energy.png"]),
        ("bell.yaml", ["00-counts.png"]),
    ],
)
def test_plot_writes_non_trivial_pngs(qrun, tmp_path, spec, expected):
    import matplotlib.image

    assert qrun(EXPERIMENTS / spec, "--out", tmp_path, "--quiet").code == 0
    (run_dir,) = [p for p in tmp_path.glob("*/*") if p.is_dir()]
    result = qrun("plot", run_dir)
    assert result.code == 0, result.err
    pngs = sorted((run_dir / "plots").iterdir())
    assert [p.name for p in pngs] == expected
    assert result.out.splitlines() == [str(p) for p in pngs]
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = matplotlib.image.imread(png)
        height, width = image.shape[:2]
        assert width > 400 and height > 300
        # more than a blank canvas: many distinct colours (axes, labels, data)
        assert len({tuple(px) for px in image.reshape(-1, image.shape[2])[::37]}) > 20


def test_figures_label_their_axes_with_units_and_draw_exact_references(tmp_path):
    """Checked through matplotlib's own objects, not pixels."""
    import json

    from test_exact import SPEC

    from qrun.app.pipeline import run
    from qrun.views.plots import figure_for, pyplot

    spec = tmp_path / "ex.yaml"
    spec.write_text(SPEC)
    run_dir = run(spec, tmp_path / "r", progress="none")
    body = {p.stem.split("-", 1)[1]: json.loads(p.read_text()) for p in (run_dir / "jobs").glob("*.json")}
    plt = pyplot()
    vqe = figure_for(plt, body["vqe"], "statevector")
    top, bottom = vqe.axes
    assert top.get_ylabel() == "<h2> [Ha]" and bottom.get_xlabel() == "evaluation"
    vqe.canvas.draw()  # the log axis's labels as drawn: its default formatter's "$10^{-2}$" stood there as source
    ticks = [t.get_text() for t in bottom.get_yticklabels(which="both") if t.get_text()]
    assert ticks and not any("$" in t for t in ticks), ticks
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert any(label.startswith("exact -1.85728") for label in labels)
    assert any(label.startswith("optimum ") and label.endswith("(re-estimated)") for label in labels)
    sweep = figure_for(plt, body["sweep"], "statevector")
    (ax,) = sweep.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("θ[0]", "<z>")
    assert "exact, observable=z" in [t.get_text() for t in ax.get_legend().get_texts()]
    hist = figure_for(plt, body["counts"], "statevector")
    (ax,) = hist.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["00", "01", "10", "11"]  # 01 and 10 never occurred
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["measured", "ideal"]
    assert ax.get_ylabel() == "probability"


def test_plot_says_so_when_a_run_has_nothing_to_draw(qrun, tmp_path, write_spec):
    spec = write_spec("""version: 1
name: flat
backend: aer
max_time: 10m
options: {seed: 1}
circuits:
  c: {library: real_amplitudes, args: {num_qubits: 1, reps: 1}}
observables:
  z: Z
jobs:
  - {name: e, primitive: estimator, circuit: c, observables: [z], parameter_values: [[0.1, 0.2]]}
""")
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    run_dir = tmp_path / done.out.strip()
    result = qrun("plot", run_dir)
    assert result.code == 2
    assert result.err == (
        f"qrun: nothing to plot in {run_dir}: its jobs are estimator; qrun plot draws minimize "
        "convergence, sweep curves, sampler histograms and ladders of finished jobs, and fitted derived values\n"
    )


def test_missing_or_zero_standard_errors_draw_no_bar_instead_of_failing():
    # A noisy VQE can record a null stderr (a fit with no usable weights); `qrun plot` used to exit 3 on it.
    from qrun.views.plots import figure_for, pyplot

    plt = pyplot()
    trace = [{"evaluation": k + 1, "value": -1.0 - 0.1 * k, "stderr": s} for k, s in enumerate([0.02, None, 0.0, -1])]
    body = {
        "status": "done",
        "job": "vqe",
        "primitive": "minimize",
        "optimizer": {"method": "COBYLA"},
        "nfev": 4,
        "observable": "h2",
        "trace": trace,
        "optimum": {"value": -1.3, "stderr": None, "final_evaluation": True},
    }
    fig = figure_for(plt, body, -1.857)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "optimum -1.3 ± σ unknown (re-estimated)" in labels
    points = [{"θ": x, "observable": "z", "value": 1 - x, "stderr": s} for x, s in [(0.0, None), (0.5, 0.01)]]
    sweep = {"status": "done", "job": "scan", "primitive": "estimator", "points": points, "sweep": {"variables": ["θ"]}}
    assert figure_for(plt, sweep, None).axes[0].get_xlabel() == "θ"


@pytest.mark.parametrize(
    "optimizer, title", [({}, "vqe: ?, 2 evaluations"), ({"method": "SLSQP"}, "vqe: SLSQP, 2 evaluations")]
)
def test_a_minimize_figure_titles_its_optimizer_or_a_question_mark(optimizer, title):
    """JOB_SCHEMA lets a stored optimizer omit its method (an edited file): the figure says '?' instead of failing."""
    from qrun.views.plots import figure_for, pyplot

    trace = [{"evaluation": k + 1, "value": -1.0 - 0.1 * k, "stderr": 0.01} for k in range(2)]
    body = {"status": "done", "job": "vqe", "primitive": "minimize", "optimizer": optimizer, "nfev": 2}
    body |= {"observable": "h2", "trace": trace, "optimum": {"value": -1.1, "stderr": 0.01}}
    assert figure_for(pyplot(), body, None).axes[0].get_title() == title


UNITS = """version: 1
name: units
backend: aer
options: {seed: 1}
circuits:
  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[1] q; ry(a) q[0];"}
observables:
  z: {terms: Z, unit: "UNIT"}
jobs:
  - {name: s, primitive: estimator, circuit: c, observables: [z], precision: 0.01, sweep: {values: {a: [0, 0.5, 1]}}}
"""


@pytest.mark.parametrize("unit", ["$\\\\frac$", "$x$ per s"])
def test_a_figures_text_is_drawn_as_written(qrun, tmp_path, write_spec, unit):
    """A unit is the user's text: matplotlib read "$...$" as a formula, and a malformed one ("$\\frac$") made
    `qrun plot` and `qrun report` an internal error when the figure was drawn; a well-formed one was typeset."""
    done = qrun(write_spec(UNITS.replace("UNIT", unit)), "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    run_dir = tmp_path / done.out.strip()
    plotted = qrun("plot", run_dir)
    assert plotted.code == 0, plotted.err
    assert qrun("report", tmp_path / "r", "--html", tmp_path / "report.html").code == 0
    written = unit.replace("\\\\", "\\")
    assert f"&lt;z&gt; [{written}]</text>" in (tmp_path / "report.html").read_text()


def test_a_histogram_of_thousands_of_outcomes_draws_the_likeliest():
    """A 16-bit register with 3,000 outcomes seen: 32 bars, the outcomes most likely measured or ideally, in bitstring
    order, and the title says so. A bar and a label for each took `qrun plot` 19 s and showed nothing."""
    from qrun.views.plots import figure_for, pyplot

    counts = {format(i * 21, "016b"): 1 + (i * 7919) % 97 for i in range(3000)}
    ideal = {format(65535, "016b"): 0.5}  # never measured, but the likeliest ideally
    body = {"status": "done", "job": "wide", "primitive": "sampler", "shots": sum(counts.values())}
    body |= {"counts": {"meas": [counts]}, "ideal": {"meas": [ideal]}}
    ax = figure_for(pyplot(), body, None).axes[0]
    shown = [t.get_text() for t in ax.get_xticklabels()]
    likeliest = sorted(counts, key=lambda o: -counts[o])[:31]
    assert len(shown) == 32 and shown == sorted(shown)
    assert set(shown) == {*likeliest, format(65535, "016b")}
    assert ax.get_title() == f"wide: register meas, {body['shots']} shots, the 32 likeliest of 3,001 outcomes"


def test_a_histogram_of_a_register_past_four_bits_draws_the_outcomes_seen_or_expected():
    """A 6-bit register drew all 64 outcomes, most of them empty, in a figure 30 inches wide that a report page
    shrank past reading: past 4 bits, the outcomes seen or expected only, and a figure as wide as they need."""
    from qrun.views.plots import figure_for, pyplot

    body = {"status": "done", "job": "six", "primitive": "sampler", "shots": 100}
    body |= {"counts": {"meas": [{"000000": 80, "100000": 15, "000011": 5}]}, "ideal": {"meas": [{"111111": 0.0}]}}
    fig = figure_for(pyplot(), body, None)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["000000", "000011", "100000", "111111"]
    assert fig.get_size_inches()[0] == 5  # the narrowest figure: four bars need no more
    body |= {"counts": {"meas": [{"0000": 100}]}, "ideal": {}}  # four bits: every outcome, those never seen too
    assert len(figure_for(pyplot(), body, None).axes[0].get_xticklabels()) == 16


@pytest.mark.slow  # a few hundred figures; make test stays under 3 minutes, and CI runs the slow suite too
def test_a_run_of_many_plottable_jobs_draws_its_first_and_last_and_all_of_them_on_request(qrun, tmp_path):
    """Each figure takes about a tenth of a second, and a run of 10,000 sampler jobs was 10,000 PNGs: of a run of
    many, `qrun plot` draws the first 15 and last 10, says on stderr which it left out, and --all draws every one."""
    from conftest import many_jobs_spec

    spec = many_jobs_spec(tmp_path, 28, "primitive: sampler, circuit: b, shots: 10", "options: {seed: 1}\n")
    done = qrun(spec, "--out", tmp_path / "r", "--quiet")
    assert done.code == 0, done.err
    folder = tmp_path / done.out.strip()  # the run folder, as qrun names it
    plotted = qrun("plot", folder)
    assert plotted.code == 0, plotted.err
    drawn = [f"{k:02d}-j{k}.png" for k in [*range(15), *range(18, 28)]]
    assert plotted.out.splitlines() == [str(folder / "plots" / name) for name in drawn]
    assert plotted.err.splitlines() == [
        f"… 3 more jobs (j15 to j17) not drawn: qrun plot {folder} --all draws every one"
    ]
    assert sorted(p.name for p in (folder / "plots").iterdir()) == sorted(drawn)

    every = qrun("plot", folder, "--all")
    assert every.code == 0 and every.err == ""
    assert every.out.splitlines() == [str(folder / "plots" / f"{k:02d}-j{k}.png") for k in range(28)]


def test_a_sampler_sweep_draws_each_outcomes_probability_against_the_swept_value(qrun, tmp_path, write_spec):
    """RX(θ) then a measurement: P(1) = sin²(θ/2). The figure drew nothing for a sampler's sweep before; now a line
    per outcome, each point its stored count over the shots with a binomial σ, within 5σ of the exact curve."""
    import math

    spec = write_spec("""version: 1
name: rabi
backend: aer
options: {seed: 4}
circuits:
  rot: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float theta; qubit[1] q; bit[1] c; rx(theta) q[0]; c = measure q;"}
jobs:
  - {name: curve, primitive: sampler, circuit: rot, shots: 2000, sweep: {values: {theta: {linspace: [0, 3.14159, 7]}}},
     exact: statevector}
""")
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    run_dir = tmp_path / done.out.strip()
    drawn = qrun("plot", run_dir)
    assert drawn.code == 0 and drawn.out.strip().endswith("plots/00-curve.png"), drawn.err
    from qrun import load
    from qrun.views.plots import figure_for, pyplot

    body = load(run_dir).jobs["curve"]
    (ax,) = figure_for(pyplot(), body, None).axes
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("curve: 7 points", "theta", "probability (c)")
    lines = {bars.get_label(): bars.lines[0] for bars in ax.containers}  # each errorbar's data line
    assert sorted(lines) == ["0", "1"]
    thetas = [p["theta"] for p in body["points"]]
    ones = [p["counts"]["c"].get("1", 0) / 2000 for p in body["points"]]
    assert list(lines["1"].get_xdata()) == thetas and list(lines["1"].get_ydata()) == ones
    for theta, p in zip(thetas, ones):
        exact = math.sin(theta / 2) ** 2
        assert abs(p - exact) <= 5 * max(math.sqrt(exact * (1 - exact) / 2000), 1 / 2000), (theta, p)
    # exact: each outcome's ideal probability dashed beside its line, sin²(θ/2) for outcome 1
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [line.get_label() for line in dashed][:1] == ["ideal"] and len(dashed) == 2
    ideal_one = next(line for line in dashed if line.get_color() == lines["1"].get_color())
    assert list(ideal_one.get_xdata()) == thetas
    assert list(ideal_one.get_ydata()) == pytest.approx([math.sin(t / 2) ** 2 for t in thetas], abs=1e-12)


@pytest.mark.parametrize(
    "total, title", [(20_000, "every 2nd of 20,000 points"), (25_000, "every 3rd of 25,000 points")]
)
def test_a_long_sweeps_figure_says_which_points_it_draws_in_words(total, title):
    """Past 10,000 points a figure draws every k-th: its title said "every 2th"."""
    from qrun.views.plots import figure_for, pyplot

    points = [{"t": i / total, "value": i / total, "stderr": 0.01} for i in range(total)]
    body = {"status": "done", "job": "scan", "primitive": "estimator", "points": points, "sweep": {"variables": ["t"]}}
    ax = figure_for(pyplot(), body, None).axes[0]
    assert ax.get_title() == f"scan: {title}"
    assert len(ax.containers[0].lines[0].get_xdata()) == -(-total // int(title.split()[1][:-2]))


def test_a_histograms_legend_sits_above_its_bars():
    """Four outcomes of 0.25 each filled the axes to the top, and the legend covered the last pair of bars."""
    from qrun.views.plots import figure_for, pyplot

    counts = {"00": 2513, "01": 2523, "10": 2507, "11": 2457}
    body = {"status": "done", "job": "bell", "primitive": "sampler", "shots": 10000}
    body |= {"counts": {"c": [counts]}, "ideal": {"c": [dict.fromkeys(counts, 0.25)]}}
    fig = figure_for(pyplot(), body, None)
    ax = fig.axes[0]
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    tallest = max(bar.get_window_extent().y1 for bar in ax.patches)
    assert ax.get_ylim() == (0.0, pytest.approx(1.3 * 0.2523))
    assert legend.y0 > tallest  # in display units: the legend's bottom is above every bar's top


def test_a_ladders_figure_draws_each_rungs_signed_deviation_with_its_sigma_and_the_target_as_a_band():
    """|value - exact| with a σ bar about it reached below zero, where no error is: the deviation is drawn signed."""
    from qrun.views.plots import figure_for, pyplot

    def rung(name, value, sigma, seconds):
        zz = {"values": [value], "stderrs": [sigma], "exact": [0.5]}
        return {"rung": name, "estimated_qpu_seconds": seconds, "error": abs(value - 0.5), "observables": {"zz": zz}}

    body = {
        "job": "climb",
        "primitive": "ladder",
        "status": "done",
        "rungs": [rung("raw", 0.42, 0.03, 0.3), rung("trex", 0.53, 0.01, 0.6), rung("zne", 0.505, 0.02, 1.7)],
        "target_error": 0.04,
        "cheapest": "trex",
    }
    (ax,) = figure_for(pyplot(), body, "statevector").axes
    assert ax.get_ylabel() == "value - exact"
    assert list(ax.get_lines()[0].get_ydata()) == [0, 0]  # zero, drawn first
    (drawn,) = ax.containers
    assert list(drawn.lines[0].get_ydata()) == pytest.approx([-0.08, 0.03, 0.005])
    (bars,) = drawn.lines[2]
    ends = [y for segment in bars.get_segments() for _, y in segment]  # each σ bar's low and high end
    assert ends == pytest.approx([-0.11, -0.05, 0.02, 0.04, -0.015, 0.025])
    (band,) = ax.patches
    assert band.get_label() == "target ±0.04"
    ys = band.get_transform().transform(band.get_path().vertices)[:, 1]  # display units, whatever patch type
    assert ax.transData.inverted().transform([(0, min(ys)), (0, max(ys))])[:, 1] == pytest.approx([-0.04, 0.04])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["raw\n0.3 s", "trex\n0.6 s", "zne\n1.7 s"]


def test_a_ladder_without_exact_values_draws_each_rungs_value_against_its_cost():
    """A ladder with no exact value drew nothing, and `qrun plot` said there was nothing to plot."""
    from qrun.views.plots import figure_for, pyplot

    def rung(name, value, sigma, seconds):
        return {
            "rung": name,
            "estimated_qpu_seconds": seconds,
            "observables": {"x": {"values": [value], "stderrs": [sigma]}},
        }

    rungs = [rung("raw", 0.89, 0.007, 1.03), rung("trex", 0.956, 0.0065, 2.05), rung("zne", 0.978, 0.011, 6.17)]
    body = {"job": "ladder", "primitive": "ladder", "status": "done", "rungs": rungs}
    (ax,) = figure_for(pyplot(), body, None).axes
    assert (ax.get_ylabel(), ax.get_title(), len(ax.patches)) == ("value", "ladder: value against cost, per rung", 0)
    (drawn,) = ax.containers  # no zero line and no target band: no error is known
    assert [list(line.get_ydata()) for line in ax.get_lines()].count([0, 0]) == 0
    assert list(drawn.lines[0].get_ydata()) == pytest.approx([0.89, 0.956, 0.978])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["raw\n1.03 s", "trex\n2.05 s", "zne\n6.17 s"]


def test_a_group_figure_over_two_keys_names_each_exact_line_by_its_point():
    """Each combination of the other keys draws its own exact line, in its points' colour: the legend read "exact"
    once per line, then "exact, n=3" per line (12 entries covered the curves of six points): one entry says it."""
    import math

    from qrun.model.readings import Reading
    from qrun.views.plots import group_figures, pyplot

    points = [
        ({"n": n, "theta": t}, [Reading("e", "<z>", 0, math.cos(t) ** n + 0.01, 0.01, math.cos(t) ** n)])
        for n in (3, 5)
        for t in (0.3, 0.9)
    ]
    figures = dict(group_figures(pyplot(), points))
    (ax,) = figures["e-z-vs-theta"].axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["exact: the line of each colour", "n=3", "n=5"]
    exact_lines = [line for line in ax.lines if line.get_label() == "_exact"]
    assert [list(line.get_ydata()) for line in exact_lines] == [
        pytest.approx([math.cos(0.3) ** n, math.cos(0.9) ** n]) for n in (3, 5)
    ]
    points_of = {c.get_label(): c.lines[0].get_color() for c in ax.containers}
    assert [line.get_color() for line in exact_lines] == [points_of["n=3"], points_of["n=5"]]


def test_a_sweep_figure_of_many_series_keeps_its_legend_off_the_curves():
    """Two swept variables and two observables made six series and twelve legend entries over the curves: one entry
    for the exact lines, and a legend of more than six entries beside the axes."""
    from qrun.views.plots import figure_for, pyplot

    points = [
        {"a": a, "b": b, "observable": o, "value": 0.5, "stderr": 0.01, "exact": 0.5}
        for b in (0, 1, 2)
        for o in ("zz", "zi")
        for a in (0.0, 1.0)
    ]
    sweep = {"status": "done", "job": "scan", "primitive": "estimator", "points": points}
    sweep["sweep"] = {"variables": ["a", "b"]}
    (ax,) = figure_for(pyplot(), sweep, "statevector").axes
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0] == "exact: the line of each colour" and len(texts) == 7
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1  # right of the axes
    points[0:] = [p for p in points if p["b"] == 0 and p["observable"] == "zz"]  # one series: as before
    (ax,) = figure_for(pyplot(), sweep, "statevector").axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["exact, b=0, observable=zz", "b=0, observable=zz"]


def test_a_group_over_backends_draws_each_backends_value_side_by_side_for_every_observable(qrun, tmp_path):
    """`qrun plot GROUP` of `-m backend=fake_fez,fake_sherbrooke,aer` said "nothing to plot" (no numeric key), and a
    job of two observables drew its first only: now each observable's figure has a point per backend, at its name,
    with the stored value, its σ bar and the exact value beside it."""
    import json
    import math

    from qrun.store.catalog import discover
    from qrun.store.reader import load
    from qrun.store.readings import job_readings
    from qrun.views.plots import group_figures, plot_group, pyplot

    spec = tmp_path / "b.yaml"
    spec.write_text(
        "version: 1\nname: b\nbackend: aer\nmax_time: 10m\noptions: {seed: 2, resilience_level: 0}\n"
        "circuits:\n  r: {qasm: 'OPENQASM 3.0; include \"stdgates.inc\"; qubit[2] q; ry(0.5) q[0]; cx q[0], q[1];'}\n"
        "observables: {zz: ZZ, xx: XX}\n"
        "jobs:\n"
        "  - {name: e, primitive: estimator, circuit: r, observables: [zz, xx], precision: 0.05, exact: statevector}\n"
    )
    backends = ["fake_fez", "fake_sherbrooke", "aer"]
    assert qrun(spec, "-m", f"backend={','.join(backends)}", "--out", tmp_path / "r", "-q").code == 0
    group = next((tmp_path / "r" / "b").iterdir())
    written = sorted(p.name for p in plot_group(group))
    assert written == ["e-xx-vs-backend.png", "e-zz-vs-backend.png"]
    points = [(f.swept, job_readings(f.path, load(f.path).jobs["e"])) for f in discover(group)]
    figures = dict(group_figures(pyplot(), points))
    (ax,) = figures["e-xx-vs-backend"].axes
    assert [t.get_text() for t in ax.get_xticklabels()] == backends
    stored = [
        json.loads((group / f"backend={b}" / "jobs" / "00-e.json").read_text())["observables"]["xx"] for b in backends
    ]
    (bars,) = ax.containers
    assert list(bars.lines[0].get_xdata()) == [0, 1, 2]
    assert list(bars.lines[0].get_ydata()) == [s["values"][0] for s in stored]
    (exact,) = [line for line in ax.lines if line.get_label() == "exact"]
    # cos(0.25)|00> + sin(0.25)|11>: <XX> = 2 cos(0.25) sin(0.25) = sin(0.5)
    assert list(exact.get_ydata()) == pytest.approx([math.sin(0.5)] * 3, abs=1e-12)
    assert all(abs(s["values"][0] - math.sin(0.5)) < 5 * s["stderrs"][0] + 0.08 for s in stored)


def test_a_group_over_a_whole_number_key_ticks_whole_numbers_only():
    """A T1 curve per qubit (-m qubit=0,1,2) drew ticks at qubit 0.25, 0.5, 0.75: a whole-number key (a qubit, a count
    of steps) ticks at whole numbers; a key of any other number keeps matplotlib's ticks."""
    from qrun.model.readings import Reading
    from qrun.views.plots import group_figures, pyplot

    def ticks(key: str, values: list[object]) -> list[float]:
        points = [({key: v}, [Reading("derived", "t1", 0, 300.0 + k, 5.0, None)]) for k, v in enumerate(values)]
        (ax,) = dict(group_figures(pyplot(), points))[f"derived-t1-vs-{key}"].axes
        low, high = ax.get_xlim()
        return [t for t in ax.get_xticks() if low <= t <= high]

    assert ticks("qubit", [0, 1, 2]) == [0.0, 1.0, 2.0]
    assert any(t != int(t) for t in ticks("delay", [0.0, 1.0, 2.0]))  # 0.25, 0.5, ...: a number like any other
