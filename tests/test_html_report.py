"""qrun report --html: one self-contained page of stored runs, read back as text here (tests/test_report_browser.py
opens it in Chromium)."""

import html
import json
import math
import re
import shutil
from pathlib import Path

import pytest
from conftest import field_energy

from qrun import load
from qrun.cli import main
from qrun.jobs.sampler import hellinger_fidelity
from qrun.views.compare import diff_text
from qrun.views.htmlreport import build
from qrun.views.listing import runs


def _section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    return page[start : page.index("</section>", start)]


def _rows(fragment: str) -> list[list[str]]:
    """Each <tr>'s cells as the text a reader sees."""
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", fragment, re.S)
    ]


def _anchor(page: str, run_dir) -> str:
    """The id of a run's page, from the runs table's link to it."""
    (found,) = re.findall(rf'<a href="#(run-\d+)">{re.escape(run_dir.name)}</a>', _section(page, "runs"))
    return found


def _job(run_dir, name: str) -> dict:
    (path,) = (run_dir / "jobs").glob(f"*-{name}.json")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def page(field_runs, tmp_path_factory):
    """`qrun report ROOT --html FILE --compare A B` on the field runs, made once: the page's text."""
    root, group, _ = field_runs
    out = tmp_path_factory.mktemp("report") / "report.html"
    code = main(["report", str(root), "--html", str(out), "--compare", str(group / "theta=0"), str(group / "theta=1")])
    assert code == 0
    return out.read_text(encoding="utf-8")


def test_the_runs_table_has_every_run_and_multirun_point_with_its_swept_key(field_runs, page):
    root, group, single = field_runs
    header, *rows = _rows(_section(page, "runs"))
    assert header[:8] == ["run", "group", "status", "jobs", "backend", "started", "quantum s", "git"]
    assert {"theta=", "e.energy", "ground"} <= set(header)  # a setting as KEY=, apart from the run's own columns
    by_theta = {row[header.index("theta=")]: row for row in rows}
    assert sorted(by_theta) == ["0", "0.5", "1", "1.5"]
    for theta, row in by_theta.items():
        assert row[header.index("status")] == "completed" and row[header.index("jobs")] == "4/4"
        assert row[header.index("group")] == ("-" if theta == "0.5" else group.name)
        folder = single if theta == "0.5" else group / f"theta={theta}"
        energy = _job(folder, "e")["observables"]["energy"]
        assert row[header.index("e.energy")] == f"{energy['values'][0]:.6g} ± {energy['stderrs'][0]:.2g}"


def test_a_run_page_shows_each_value_with_its_exact_value_and_deviation(field_runs, page):
    root, group, _ = field_runs
    point = group / "theta=1"
    rows = _rows(_section(page, _anchor(page, point)))
    header = rows[0]
    assert header == ["job", "kind", "status", "quantity", "at", "value", "σ", "exact", "deviation", "warnings"]
    (e_row,) = [r for r in rows if r[0] == "e"]
    energy = _job(point, "e")["observables"]["energy"]
    value, sigma, exact = energy["values"][0], energy["stderrs"][0], energy["exact"][0]
    assert abs(exact - field_energy(1.0)) < 1e-9  # the statevector's value, checked against the formula
    assert abs(value - exact) < 5 * sigma == 5 * 0.01
    assert e_row[3:9] == [
        "<energy>",
        "",
        f"{value:.6g} Ha",
        f"{sigma:.2g}",
        f"{exact:.6g}",
        f"{(value - exact) / sigma:+.1f}σ",
    ]
    curve = [r for r in rows if r[0] == "curve"]
    points = _job(point, "curve")["points"]
    assert len(curve) == len(points) == 7
    for row, p in zip(curve, points):
        assert abs(p["exact"] - field_energy(p["phi"])) < 1e-9
        assert row[4:8] == [f"phi={p['phi']}", f"{p['value']:.6g} Ha", f"{p['stderr']:.2g}", f"{p['exact']:.6g}"]
    (counts,) = [r for r in rows if r[0] == "counts"]
    body = _job(point, "counts")  # its ideal distribution beside it: how close the counts came
    fidelity = hellinger_fidelity(body["counts"]["meas"][0], body["ideal"]["meas"][0])
    assert counts[3].startswith("meas {") and counts[3].endswith(
        f"of 500 shots, Hellinger fidelity {fidelity:.3f} to the ideal"
    )
    optimum = _job(point, "ground")["optimum"]
    gap, sigma = value - optimum["value"], math.hypot(energy["stderrs"][0], optimum["stderr"])
    expression = '<br><span class="expr">e.energy - ground</span>'
    assert f"<dt>gap</dt><dd>{gap:.6g} ± {sigma:.2g}{expression}</dd>" in _section(page, _anchor(page, point))


def test_figures_are_inline_svg_whose_axes_name_quantity_and_unit(field_runs, page):
    root, group, single = field_runs
    run_page = _section(page, _anchor(page, single))
    figures = re.findall(r'<figure data-job="([^"]+)"><svg.*?</svg>', run_page, re.S)
    assert figures == ["counts", "curve", "ground"]
    assert run_page.count("&lt;energy&gt; [Ha]") >= 2  # the sweep's and the convergence's value axes, as text
    assert "outcome (meas)" in run_page and ">ideal<" in run_page  # the histogram beside the ideal distribution
    group_page = _section(page, "group-1")
    assert group_page.count("<svg") == 3  # e, ground and the derived gap, each against theta (as qrun plot GROUP)
    assert "e: &lt;energy&gt; [Ha]" in group_page and "ground: min &lt;energy&gt; [Ha]" in group_page
    assert "derived: gap against theta" in group_page
    # each point's headline values beside its swept value, as `qrun show GROUP` has them (the page had none)
    header, *points = _rows(group_page.split('<table class="sortable">')[1].split("</table>")[0])
    assert header[:3] == ["point", "status", "theta"] and "e.energy" in header and "ground" in header
    for row in points:
        energy = _job(group / row[0], "e")["observables"]["energy"]
        assert row[header.index("e.energy")] == f"{energy['values'][0]:.6g} ± {energy['stderrs'][0]:.2g}"


def test_the_page_fetches_nothing(page):
    # url(#id) is an SVG's reference to its own clip path
    assert not re.search(r"<link|<img|<iframe|\bsrc=|@import|url\((?!#)", page)
    assert set(re.findall(r'href="(.)', page)) == {"#"}


def test_warnings_stand_beside_the_values_they_weaken(field_runs, tmp_path):
    _, _, single = field_runs
    copy = tmp_path / "field" / single.name
    shutil.copytree(single, copy)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["jobs"][0]["warnings"] = ["UserWarning: no positive, finite standard errors (x70)"]
    (copy / "metadata.json").write_text(json.dumps(meta))
    page = build([tmp_path])
    (e_row,) = [r for r in _rows(_section(page, "run-1")) if r[0] == "e"]
    assert e_row[-1] == "UserWarning: no positive, finite standard errors (x70)"
    assert all(r[-1] == "" for r in _rows(_section(page, "run-1"))[1:] if r[0] != "e")


def test_a_comparison_holds_what_qrun_diff_prints(field_runs, page):
    _, group, _ = field_runs
    a, b = group / "theta=0", group / "theta=1"
    section = _section(page, "compare-1")
    (shown,) = re.findall(r"<pre>(.*?)</pre>", section, re.S)
    assert html.unescape(shown) == diff_text(load(a), load(b))
    assert '<a href="#compare-1">theta=0 &rarr; theta=1</a>' in page


def test_a_folder_without_runs_is_a_usage_error(qrun, tmp_path):
    done = qrun("report", tmp_path, "--html", tmp_path / "r.html")
    assert (done.code, done.err) == (2, f"qrun: no runs to report: {tmp_path} holds no qrun run folders\n")
    assert not (tmp_path / "r.html").exists()


@pytest.mark.slow  # a whole experiment: `make test` stays well under its 3 minutes
def test_without_html_the_page_goes_beside_the_runs_it_shows(field_runs, qrun, tmp_path, monkeypatch):
    """`qrun report` needed --html FILE even for the one results root it reads by default: it writes
    results/report.html, and ROOT/report.html for one root named; a run folder or two roots need a file named."""
    root, group, _ = field_runs
    monkeypatch.chdir(tmp_path)
    assert (
        qrun("report").err == "qrun: no runs to report: there is no results/ here; name a results root or run folder\n"
    )
    shutil.copytree(root, tmp_path / "results")
    done = qrun("report")
    assert (done.code, done.out, done.err) == (0, "results/report.html\n", "")
    written = (tmp_path / "results" / "report.html").read_text(encoding="utf-8")
    names = [row[0] for row in _rows(_section(written, "runs"))[1:]]
    assert sorted(names) == sorted(Path(r["run"]).name for r in runs(tmp_path / "results")) and len(names) == 4
    again = qrun("report", tmp_path / "results")
    assert (again.code, again.out) == (0, f"{tmp_path / 'results' / 'report.html'}\n")
    assert qrun("list").code == 0 and "report.html" not in qrun("list").out  # the page is not taken for a run
    point = tmp_path / "results" / group.relative_to(root) / "theta=0"
    refused = qrun("report", point)
    assert (refused.code, refused.err) == (
        2,
        "qrun: name the page to write: -o/--html FILE (the default is for one results root)\n",
    )
    assert not (point / "report.html").exists()
    named = qrun("report", point, "-o", tmp_path / "point.html")  # -o, as other tools name their output
    assert (named.code, named.out) == (0, f"{tmp_path / 'point.html'}\n")
    assert "theta=0" in (tmp_path / "point.html").read_text(encoding="utf-8")


def test_qrun_list_shows_multirun_points_with_their_group_and_swept_values(field_runs, qrun):
    root, group, single = field_runs
    rows = runs(root)
    assert [(r["run"], r["group"], r["swept"]) for r in rows] == [
        (str(group / "theta=0"), str(group), {"theta": 0}),
        (str(group / "theta=1"), str(group), {"theta": 1}),
        (str(group / "theta=1.5"), str(group), {"theta": 1.5}),
        (str(single), None, {}),
    ]
    listed = qrun("list", root)
    assert [line.split()[0] for line in listed.out.splitlines()[2:]] == [
        f"field/{group.name}/theta=0",
        f"field/{group.name}/theta=1",
        f"field/{group.name}/theta=1.5",
        f"field/{single.name}",
    ]
    # a spec's own folder lists its runs (it said "no runs under"), as `qrun report` and `export` take them
    assert [(r["run"], r["group"]) for r in runs(root / "field")] == [(r["run"], r["group"]) for r in rows]
    spec_folder = qrun("list", root / "field")
    assert [line.split()[0] for line in spec_folder.out.splitlines()[2:]] == [
        f"{group.name}/theta=0",
        f"{group.name}/theta=1",
        f"{group.name}/theta=1.5",
        single.name,
    ]


def test_a_run_of_many_jobs_shows_its_first_and_last_on_its_page(tmp_path):
    """A run's page lists its first 15 and last 10 jobs' values, as `qrun show` does, and how many it left out: every
    job's row made one 10,000-job run's page 3 MB."""
    from conftest import many_jobs_spec

    from qrun.app.pipeline import run

    spec = many_jobs_spec(tmp_path, 30, "primitive: estimator, circuit: b, observables: [z]", "options: {seed: 1}\n")
    folder = run(spec, tmp_path / "r", progress="none")
    out = tmp_path / "report.html"
    assert main(["report", str(tmp_path / "r"), "--html", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    rows = _rows(_section(page, _anchor(page, folder)).split('<table class="values">')[1])
    names = [row[0] for row in rows[1:]]
    more = f"… 5 more jobs: qrun show {folder} --all"
    assert names == [f"j{k}" for k in range(15)] + [more] + [f"j{k}" for k in range(20, 30)]


def test_a_sweep_points_variables_are_shown_at_six_figures_as_qrun_list_shows_them(tmp_path):
    """linspace's 0.8999999999999999 stood in a run page's `at` column as stored: six figures, as `qrun list` and
    `qrun show` give them; the job file keeps every digit."""
    from qrun.app.pipeline import run

    spec = tmp_path / "curve.yaml"
    spec.write_text(
        "version: 1\nname: curve\nbackend: aer\noptions: {seed: 1, default_precision: 0.05}\n"
        "circuits:\n  r: {qasm: 'OPENQASM 3.0; include \"stdgates.inc\"; input float[64] a; qubit[1] q; ry(a) q[0];'}\n"
        "observables: {z: Z}\n"
        "jobs:\n  - {name: scan, primitive: estimator, circuit: r, observables: [z], sweep: {values: {a: {linspace: [0, 1.5, 6]}}}}\n"
    )
    folder = run(spec, tmp_path / "r", progress="none")
    assert [p["a"] for p in _job(folder, "scan")["points"]][3] == 0.8999999999999999
    page = build([tmp_path / "r"])
    cells = [row[4] for row in _rows(_section(page, _anchor(page, folder))) if row[:1] == ["scan"]]
    assert cells == ["a=0.0", "a=0.3", "a=0.6", "a=0.9", "a=1.2", "a=1.5"]


def test_each_parameter_set_of_a_value_is_named_the_first_too(tmp_path):
    """A job of two parameter sets showed its values as `` and `set 1` on a run's page, the first unnamed as if it
    were the job's one value; a job of one set names none."""
    from qrun.app.pipeline import run

    spec = tmp_path / "sets.yaml"
    spec.write_text(
        "version: 1\nname: sets\nbackend: aer\noptions: {seed: 1, default_precision: 0.05}\n"
        "circuits:\n  r: {qasm: 'OPENQASM 3.0; include \"stdgates.inc\"; input float[64] a; qubit[1] q; ry(a) q[0];'}\n"
        "observables: {z: Z}\n"
        "jobs:\n"
        "  - {name: two, primitive: estimator, circuit: r, observables: [z], parameter_values: [[0], [3.14159]]}\n"
        "  - {name: one, primitive: estimator, circuit: r, observables: [z], parameter_values: [[0]]}\n"
    )
    folder = run(spec, tmp_path / "r", progress="none")
    page = build([tmp_path / "r"])
    rows = [row for row in _rows(_section(page, _anchor(page, folder))) if row[:1] in (["two"], ["one"])]
    assert [(row[0], row[3], row[4]) for row in rows] == [
        ("two", "<z>", "set 0"),
        ("two", "<z>", "set 1"),
        ("one", "<z>", ""),
    ]
    assert [float(row[5]) for row in rows] == [
        pytest.approx(1, abs=0.25),
        pytest.approx(-1, abs=0.25),
        pytest.approx(1, abs=0.25),
    ]


def test_a_groups_page_draws_its_derived_values_as_qrun_plot_does(qrun, tmp_path):
    """A multirun whose only values are counts and a derived probability (a T1 series): `qrun plot GROUP` drew the
    derived value against the swept key, and the report's group page drew nothing."""
    spec = tmp_path / "t.yaml.j2"
    spec.write_text(
        "vars: {a: 0}\nversion: 1\nname: t\nbackend: aer\nmax_time: 10m\noptions: {seed: 3}\n"
        'circuits:\n  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; rx({{ a }}) q[0]; '
        'c[0] = measure q[0];"}\n'
        'jobs:\n  - {name: s, primitive: sampler, circuit: c, shots: 1000}\nderived:\n  p1: s.c["1"]\n'
    )
    assert qrun(spec, "-m", "a=0,1.5", "--out", tmp_path / "r", "-q").code == 0
    (group,) = (tmp_path / "r" / "t").iterdir()
    assert qrun("plot", group).code == 0
    assert [p.name for p in (group / "plots").iterdir()] == ["derived-p1-vs-a.png"]
    page = build([group])
    group_page = _section(page, "group-1")
    assert group_page.count("<svg") == 1
    assert "derived: p1 against a" in group_page  # the figure's title, as the PNG's
