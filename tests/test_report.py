import json
import math
import re
from pathlib import Path

import pytest
from conftest import EXPERIMENTS

from qrun import load
from qrun.errors import RunFolderError
from qrun.views.listing import list_text, runs
from qrun.views.report import closing_summary, show, summary


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished mixed run and a failed run under one results root."""
    from qrun.cli import main

    out = tmp_path_factory.mktemp("results")
    assert main([str(EXPERIMENTS / "mixed.yaml"), "--out", str(out), "--quiet"]) == 0
    (run_dir,) = (out / "mixed").iterdir()
    return out, run_dir


def test_show_tabulates_states_results_and_estimate_against_actual(finished):
    out, run_dir = finished
    run = load(run_dir)
    text = show(run)
    assert text.splitlines()[0].strip() == f"mixed: completed ({run_dir.name})"
    for entry in run.metadata["jobs"]:
        assert entry["name"] in text and f"{entry['actual']:.2f}s" in text
    assert "energies" in text and "<zz> = " in text and "ghz-counts" in text
    # GHZ on a noisy device: 000 and 111 lead, in either order
    assert "c {000: " in text or "c {111: " in text
    assert "session: batch on fake_manila (backend-primitives+runtime-client-primitives), max_time 10m" in text
    assert "attempts: 1; spec " in text
    # the fake device's calibration is recorded with the run: its properties' last update
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    stamp = FakeManilaV2().properties().last_update_date.isoformat()
    assert run.metadata["session"]["calibration"] == stamp


def test_qrun_show_and_list_commands(qrun, finished):
    out, run_dir = finished
    shown = qrun("show", run_dir)
    assert shown.code == 0 and "bell-counts" in shown.out
    listed = qrun("list", out)
    assert listed.code == 0
    header, rule, row = listed.out.splitlines()
    assert header.split()[:5] == ["run", "status", "jobs", "backend", "started"]
    assert row.split()[:4] == [f"mixed/{run_dir.name}", "completed", "3/3", "fake_manila"]


def test_list_of_an_empty_root(tmp_path):
    assert list_text(tmp_path) == f"no runs under {tmp_path}"
    assert runs(tmp_path) == []


def test_summary_has_one_line_per_job(finished):
    _, run_dir = finished
    lines = summary(load(run_dir)).splitlines()
    assert [line.split(":")[0] for line in lines] == ["energies", "ghz-counts", "bell-counts"]
    assert lines[2].endswith("of 500 shots")


def test_load_round_trips_equal_values(finished):
    import numpy as np

    _, run_dir = finished
    run = load(run_dir)
    body = json.loads((run_dir / "jobs" / "00-energies.json").read_text())
    evs = run.result("energies")[0].data.evs
    assert np.array_equal(evs, np.array([body["observables"]["zz"]["values"], body["observables"]["field"]["values"]]))
    counts = run.result("bell-counts")[0].data.c.get_counts()
    assert counts == body_counts(run_dir / "jobs" / "02-bell-counts.json")


def body_counts(path: Path) -> dict:
    return json.loads(path.read_text())["counts"]["c"][0]


def _fixture_run(root, name, stamp, variables, overrides, zz, vqe):
    """A run folder written by hand, with known values, so list and diff can be checked verbatim."""
    run = root / name / stamp
    (run / "jobs").mkdir(parents=True)
    spec = {
        "version": 1,
        "name": name,
        "backend": "aer",
        "max_time": "10m",
        "vars": variables,
        "options": {"seed": overrides.get("options.seed", 1)},
    }
    (run / "spec.yaml").write_text(json.dumps(spec))
    jobs = [
        {"index": 0, "name": "e", "primitive": "estimator", "status": "done", "file": "jobs/00-e.json"},
        {"index": 1, "name": "vqe", "primitive": "minimize", "status": "done", "file": "jobs/01-vqe.json"},
    ]
    meta = {
        "name": name,
        "status": "completed",
        "jobs": jobs,
        "attempts": [],
        "session": {"backend": "aer", "started": f"2026-11-2{stamp[-1]}T10:00:00.000Z"},
        "spec": {"variables": variables, "overrides": overrides},
    }
    (run / "metadata.json").write_text(json.dumps(meta))
    (run / "jobs" / "00-e.json").write_text(
        json.dumps(
            {
                "job": "e",
                "primitive": "estimator",
                "status": "done",
                "observables": {"zz": {"values": [zz[0]], "stderrs": [zz[1]]}},
            }
        )
    )
    (run / "jobs" / "01-vqe.json").write_text(
        json.dumps(
            {
                "job": "vqe",
                "primitive": "minimize",
                "status": "done",
                "observable": "h",
                "optimum": {"value": vqe[0], "stderr": vqe[1]},
                "trace": [{"evaluation": 1, "parameters": [0.1], "value": vqe[0], "stderr": vqe[1], "seconds": 0.1}],
            }
        )
    )
    return run


def test_list_and_diff_on_fixture_runs_verbatim(tmp_path, qrun):
    a = _fixture_run(tmp_path, "h2", "r1", {"h": 0.25}, {}, (0.5, 0.03), (-1.85, 0.01))
    b = _fixture_run(tmp_path, "h2", "r2", {"h": 0.5}, {"options.seed": 3}, (0.62, 0.04), (-1.8, 0.02))
    _fixture_run(tmp_path, "other", "r3", {}, {}, (0.1, 0.1), (0.0, 0.1))
    listed = qrun("list", tmp_path, "--name", "h2")
    assert listed.code == 0
    assert listed.out.splitlines() == [
        "run     status      jobs   backend   started               settings               e.zz          vqe",
        "─" * 108,
        "h2/r1   completed   2/2    aer       2026-11-21 10:00:00   h=0.25                 0.5 ± 0.03    -1.85 ± 0.01",
        "h2/r2   completed   2/2    aer       2026-11-22 10:00:00   h=0.5 options.seed=3   0.62 ± 0.04   -1.8 ± 0.02",
    ]
    as_json = json.loads(qrun("list", tmp_path, "--name", "h2", "--json").out)
    assert [r["settings"] for r in as_json] == [{"h": 0.25}, {"h": 0.5, "options.seed": 3}]
    assert as_json == json.loads(json.dumps(runs(tmp_path, name="h2")))
    diffed = qrun("diff", a, b)
    assert diffed.code == 0
    # 0.62 - 0.5 = 0.12 with σ = sqrt(0.03² + 0.04²) = 0.05, so z = 2.4; -1.8 + 1.85 = 0.05 over 0.0224: 2.24
    assert diffed.out.splitlines() == [
        "spec: r1 -> r2",
        "  vars.h: 0.25 -> 0.5",
        "  options.seed: 1 -> 3",
        "",
        "value     r1    r2  B - A      σ      z",
        "e.zz     0.5  0.62  +0.12   0.05  +2.40",
        "vqe    -1.85  -1.8  +0.05  0.022  +2.24",
    ]
    assert qrun("list", tmp_path, "--status", "failed").out.strip() == f"no runs under {tmp_path} that match"
    # a name no run has: the names they have (a typo listed nothing, and said no more)
    assert qrun("list", tmp_path, "--name", "h22").out.strip() == (
        f"no runs under {tmp_path} that match; did you mean --name h2? (the specs there: h2, other)"
    )
    refused = qrun("list", tmp_path, "--status", "done")  # a status no run has is the command line's mistake
    assert (refused.code, refused.err.splitlines()[-1]) == (
        2,
        "Error: Invalid value for '--status': 'done' is not one of 'completed', 'failed', 'interrupted', 'running', "
        "'died'.",
    )
    # the same comparison as numbers, for a script
    data = json.loads(qrun("diff", a, b, "--json").out)
    assert (data["a"], data["b"], data["spec"], data["recalibrated"]) == (
        str(a),
        str(b),
        ["vars.h: 0.25 -> 0.5", "options.seed: 1 -> 3"],
        None,
    )
    (zz, vqe) = data["values"]
    assert (zz["value"], zz["a"], zz["a_stderr"], zz["b"], zz["b_stderr"], zz["warned"]) == (
        "e.zz",
        0.5,
        0.03,
        0.62,
        0.04,
        False,
    )
    assert (zz["difference"], zz["sigma"], zz["z"]) == (pytest.approx(0.12), pytest.approx(0.05), pytest.approx(2.4))
    assert (vqe["value"], vqe["z"]) == ("vqe", pytest.approx(0.05 / math.hypot(0.01, 0.02)))


def test_a_loaded_run_is_an_html_table_in_jupyter(finished):
    _, run_dir = finished
    html = load(run_dir)._repr_html_()
    assert html.startswith("<table><caption>mixed: completed (")
    assert "<tr><td>energies</td><td>estimator</td><td>done</td><td>&lt;zz&gt; = " in html


def test_a_loaded_run_of_many_jobs_is_one_line_in_a_console_and_its_first_and_last_jobs_in_jupyter(tmp_path):
    """repr() printed all of metadata.json and every job's body (10 MB at 10,000 jobs, which Jupyter keeps in the
    notebook beside the HTML), and the HTML table had a row per job."""
    from conftest import many_jobs_spec

    from qrun.app.pipeline import run

    spec = many_jobs_spec(tmp_path, 30, "primitive: estimator, circuit: b, observables: [z]", "options: {seed: 1}\n")
    folder = run(spec, tmp_path / "r", progress="none")
    loaded = load(folder)
    assert repr(loaded) == f"<qrun.Run 'many' completed: 30 done; {folder}>"
    names = re.findall(r"<tr><td(?: colspan=\"4\")?>([^<]*)</td>", loaded._repr_html_())
    more = '… 5 more jobs: every one is in run.metadata["jobs"]'
    assert names == [f"j{k}" for k in range(15)] + [more] + [f"j{k}" for k in range(20, 30)]
    assert len(loaded.jobs) == len(loaded.metadata["jobs"]) == 30  # only the views are short


def test_diff_pairs_sweep_points_by_their_variables_and_shows_the_largest_moves_of_a_long_sweep(tmp_path, qrun):
    from conftest import EXPERIMENTS

    from qrun import load

    spec = EXPERIMENTS / "ising_sweep.yaml"
    folders = []
    for h, points in (("0.5", 3), ("1", 3), ("0.5", 30), ("1", 30)):
        done = qrun(spec, "--set", f"h={h}", "--set", f"points={points}", "--out", tmp_path / str(points), "-q")
        assert done.code == 0, done.err
        folders.append(tmp_path / done.out.strip())
    a, b = load(folders[0]), load(folders[1])
    lines = qrun("diff", folders[0], folders[1]).out.splitlines()
    rows = lines[lines.index(next(x for x in lines if x.startswith("value"))) + 1 :]
    pa, pb = a.points("energy"), b.points("energy")
    assert len(rows) == len(pa) == len(pb) == 3
    for row, p, q in zip(rows, pa, pb):
        label = f"energy[theta={p['theta']:.6g}, ising]"
        assert row.startswith(label)
        values = [f"{p['value']:.6g}", f"{q['value']:.6g}", f"{q['value'] - p['value']:+.3g}"]
        assert row[len(label) :].split()[:3] == values
        # h 0.5 -> 1 on 4 sites moves E(theta) by -4 (1 - 0.5) sin(theta), within 4 combined standard errors
        assert abs((q["value"] - p["value"]) + 2 * math.sin(p["theta"])) < 4 * math.hypot(p["stderr"], q["stderr"])
    # a long sweep: the 20 largest |z| of 30, then how many moved by more than 2 sigma
    long = qrun("diff", folders[2], folders[3]).out.splitlines()
    za = [
        (q["value"] - p["value"]) / math.hypot(p["stderr"], q["stderr"])
        for p, q in zip(load(folders[2]).points("energy"), load(folders[3]).points("energy"))
    ]
    big = sum(abs(z) > 2 for z in za)
    assert long[-1] == f"energy: 30 sweep points paired; the 20 with the largest |z| are shown, {big} have |z| > 2"
    every = json.loads(qrun("diff", folders[2], folders[3], "--json").out)[
        "values"
    ]  # --json: every point, for a script
    assert [v["z"] for v in every] == pytest.approx(za)
    shown = long[long.index(next(x for x in long if x.startswith("value"))) + 1 : -1]
    assert len(shown) == 20
    zs = [abs(float(r.split()[-1])) for r in shown]
    assert zs == sorted(zs, reverse=True)


def test_list_gives_each_spec_its_table_and_fits_the_terminal_it_is_given(tmp_path):
    from qrun.app.pipeline import run

    for spec in ("mixed.yaml", "bell.yaml"):
        run(EXPERIMENTS / spec, tmp_path, progress="none")
    whole = list_text(tmp_path)
    assert max(len(line) for line in whole.splitlines()) > 120  # the case worth testing: it does not fit
    # a table per spec, each with its own results' columns (one table had both specs' columns, "-" in half of them)
    mixed, bell = (table.splitlines() for table in whole.split("\n\n"))
    head = ["run", "status", "jobs", "backend", "started"]
    assert mixed[0].split() == [*head, "energies.zz", "energies.field", "ghz-counts.c", "bell-counts.c"]
    assert bell[0].split() == [*head, "counts.c"]
    assert [line.split()[0].split("/")[0] for line in mixed[2:] + bell[2:]] == ["mixed", "bell"]
    fitted = list_text(tmp_path, width=120)  # the first value: "1.00023 ± 0.012 (first of 2)"
    assert max(len(line) for line in fitted.splitlines()) <= 120
    mixed_fitted, bell_fitted = (table.splitlines() for table in fitted.split("\n\n"))
    # what names a run is kept whole; the results that do not fit are left out, whole, and a line says so
    assert mixed_fitted[0].split() == [*head, "energies.zz"]
    assert mixed_fitted[2].split()[:7] == mixed[2].split()[:7]  # the run's name and state, and its first value
    assert mixed_fitted[3:] == ["… 3 more column(s) at a wider terminal; qrun list --json has every one"]
    assert bell_fitted == bell  # it fits


def test_a_run_of_many_jobs_adds_one_column_to_list_not_one_per_job(tmp_path):
    from conftest import many_jobs_spec

    from qrun.app.pipeline import run

    head = "options: {seed: 1, default_precision: 0.1}\n"
    spec = many_jobs_spec(tmp_path, 30, "primitive: estimator, circuit: b, observables: [z]", head)
    folder = run(spec, tmp_path / "r", progress="none")
    (row,) = runs(tmp_path / "r")
    assert row["results"] == {"results": f"30 jobs: qrun show {folder}"}
    header = list_text(tmp_path / "r").splitlines()[0].split()
    assert header[-1] == "results" and "j29" not in header
    # qrun show of it: the first 15 and last 10 jobs, how many it left out and their states; --all shows every one
    text = show(load(folder))
    names = [line.split("│")[2].strip() for line in text.splitlines() if line.startswith("│")]
    assert names == [f"j{k}" for k in range(15)] + ["5 more (--all)"] + [f"j{k}" for k in range(20, 30)]
    assert "jobs: 30 (30 done)" in text
    every = show(load(folder), all_rows=True)
    assert [line.split("│")[2].strip() for line in every.splitlines() if line.startswith("│")] == [
        f"j{k}" for k in range(30)
    ]
    # the lines a run ends with: the same first 15 and last 10 jobs, each its value and standard error, and how many
    # it left out (every job's line was 10,000 lines at 10,000 jobs)
    lines = summary(load(folder)).splitlines()
    left_out = f"… 5 more jobs (qrun show {folder} --all lists every one)"
    assert [line.split(": ")[0] for line in lines] == [f"j{k}" for k in range(15)] + [left_out] + [
        f"j{k}" for k in range(20, 30)
    ]
    assert all(re.fullmatch(r"j\d+: <z> = [-\d.e]+ ± 0\.1", line) for line in lines if line != left_out)
    # as a run ends, only the files of the jobs it shows are read: a damaged one of a job it leaves out goes unread
    assert closing_summary(folder) == "\n".join(lines)
    (folder / "jobs" / "17-j17.json").write_text("not json")
    with pytest.raises(RunFolderError, match="17-j17.json"):
        load(folder)
    assert closing_summary(folder) == "\n".join(lines)


def test_headlines_are_numbers_for_every_job_kind(field_runs):
    _, _, single = field_runs
    (row,) = runs(single)

    def body(name):
        (path,) = (single / "jobs").glob(f"*-{name}.json")
        return json.loads(path.read_text())

    energy = body("e")["observables"]["energy"]
    assert row["results"]["e.energy"] == {
        "value": energy["values"][0],
        "stderr": energy["stderrs"][0],
        "exact": energy["exact"][0],
    }
    counts = body("counts")["counts"]["meas"][0]
    top = max(counts, key=counts.get)
    assert row["results"]["counts.meas"] == {"outcome": top, "probability": counts[top] / 500}
    lowest = min(body("curve")["points"], key=lambda p: p["value"])
    assert row["results"]["curve.energy min"] == {
        "value": lowest["value"],
        "stderr": lowest["stderr"],
        "exact": lowest["exact"],
        "at": f"phi={lowest['phi']}",
    }
    optimum = body("ground")["optimum"]
    assert row["results"]["ground"] == {"value": optimum["value"], "stderr": optimum["stderr"], "exact": None}

    pd = pytest.importorskip("pandas")
    frame = runs(single).to_dataframe()
    assert frame["e.energy.value"].tolist() == [energy["values"][0]]
    assert frame["counts.meas.probability"].tolist() == [counts[top] / 500]
    assert pd.api.types.is_datetime64_any_dtype(frame["started"])


def test_a_headline_of_several_parameter_sets_says_it_is_the_first(tmp_path):
    """An estimator job of three parameter sets was headed by its first value alone, as if it were the job's one
    value: `qrun list` says "(first of 3)", and the rows hold `sets`; a job of one set says nothing more."""
    from qrun.app.pipeline import run

    spec = tmp_path / "sets.yaml"
    spec.write_text(
        "version: 1\nname: sets\nbackend: aer\noptions: {seed: 1, default_precision: 0.01}\n"
        'circuits:\n  r:\n    qasm: |\n      OPENQASM 3.0;\n      include "stdgates.inc";\n'
        "      input float[64] a;\n      qubit[1] q;\n      ry(a) q[0];\n"
        "observables: {z: Z}\n"
        "jobs:\n  - {name: three, primitive: estimator, circuit: r, observables: [z], parameter_values: [[0], [1], [2]],"
        " exact: statevector}\n"
        "  - {name: one, primitive: estimator, circuit: r, observables: [z], parameter_values: [[1]]}\n"
    )
    folder = run(spec, tmp_path / "r", progress="none")
    (row,) = runs(tmp_path / "r")
    three = load(folder).jobs["three"]["observables"]["z"]
    assert row["results"]["three.z"] == {
        "value": three["values"][0],
        "stderr": three["stderrs"][0],
        "exact": pytest.approx(1.0),  # <Z> of ry(0)|0>
        "sets": 3,
    }
    assert "sets" not in row["results"]["one.z"]
    line = list_text(tmp_path / "r", width=200).splitlines()[2]
    assert f"{three['values'][0]:.6g} ± {three['stderrs'][0]:.2g} (first of 3)" in line
    assert line.rstrip().endswith(f"± {row['results']['one.z']['stderr']:.2g}")


def test_warnings_stand_beside_the_values_in_show_list_and_diff(field_runs, tmp_path, qrun):
    import shutil

    _, _, single = field_runs
    plain, warned = tmp_path / "field" / "a", tmp_path / "field" / "b"
    shutil.copytree(single, plain)
    shutil.copytree(single, warned)
    meta = json.loads((warned / "metadata.json").read_text())
    text = "UserWarning: no positive, finite standard errors; an unweighted fit (x70)"
    meta["jobs"][0]["warnings"] = [text]
    (warned / "metadata.json").write_text(json.dumps(meta))

    shown = qrun("show", warned).out
    (e_line,) = [line for line in shown.splitlines() if "│ e " in line]
    assert "<energy> = " in e_line
    after = shown.splitlines()[shown.splitlines().index(e_line) + 1]
    assert "⚠ UserWarning: no positive, finite standard" in after  # the row's next line, in the result column

    rows = {Path(r["run"]).name: r for r in runs(tmp_path)}
    assert rows["b"]["results"]["e.energy"]["warnings"] == [text]
    assert "warnings" not in rows["a"]["results"]["e.energy"]
    listed = qrun("list", tmp_path).out.splitlines()
    assert [line.split()[0] for line in listed[2:]] == ["field/a", "field/b"]
    assert "± 0.01 ⚠" in listed[3] and "⚠" not in listed[2]

    diffed = qrun("diff", plain, warned).out.splitlines()
    (row,) = [line for line in diffed if line.startswith("e.energy")]
    assert row.split()[2:4] == [row.split()[1], "⚠"]  # B's value, the same as A's, marked
    assert diffed[-1] == f"⚠ B e: {text}"


def test_a_rerun_keeps_the_settings_it_was_made_with(field_runs, qrun, tmp_path):
    _, _, single = field_runs
    done = qrun("rerun", single, "--out", tmp_path, "-q")
    assert done.code == 0, done.err
    (row,) = runs(tmp_path)
    assert row["settings"] == {"theta": 0.5} == runs(single)[0]["settings"]


def test_show_of_a_run_whose_spec_is_gone_still_shows_the_run(field_runs, tmp_path, qrun):
    import shutil

    _, _, single = field_runs
    copy = tmp_path / "field" / single.name
    shutil.copytree(single, copy)
    (copy / "spec.yaml").unlink()
    shown = qrun("show", copy)
    assert shown.code == 0 and "derived:" not in shown.out and "│ e " in shown.out


def test_diff_compares_derived_values_as_any_value(field_runs, qrun):
    """The field spec derives gap = e.energy - ground: diff pairs it across two runs, with σ and z."""
    from qrun.store.derived import evaluate

    _, group, single = field_runs
    point = next(p for p in sorted(group.iterdir()) if (p / "metadata.json").is_file())  # a point, not plots/
    a, b = load(point), load(single)
    va, sa = evaluate("e.energy - ground", a.jobs, a.path)
    vb, sb = evaluate("e.energy - ground", b.jobs, b.path)
    diffed = qrun("diff", point, single)
    assert diffed.code == 0, diffed.err
    (row,) = [line for line in diffed.out.splitlines() if line.startswith("derived gap")]
    sigma = (sa**2 + sb**2) ** 0.5
    assert row.split()[2:] == [f"{va:.6g}", f"{vb:.6g}", f"{vb - va:+.3g}", f"{sigma:.2g}", f"{(vb - va) / sigma:+.2f}"]
    (gap,) = [v for v in json.loads(qrun("diff", point, single, "--json").out)["values"] if v["value"] == "derived gap"]
    assert (gap["a"], gap["b"], gap["sigma"], gap["z"]) == (
        va,
        vb,
        pytest.approx(sigma),
        pytest.approx((vb - va) / sigma),
    )


def test_a_batched_job_shows_its_share_of_its_runtime_jobs_time_beside_its_estimate(four_batched):
    # each of the four records its runtime job's whole time as its actual; its estimate is a share, so the table
    # shows the actual's share too, marked, and says so once
    _, _, run_dir, meta = four_batched
    text = show(load(run_dir))
    rows = {line.split("│")[2].strip(): line for line in text.splitlines() if line.startswith("│ ")}
    for m in meta["jobs"]:  # each records its runtime job's whole time
        share = m["actual"] / 4
        assert (f"{share:.2f}s*" if share >= 0.01 else f"{share:.2g}s*") in rows[m["name"]], rows[m["name"]]
    assert (
        "* 4 jobs shared runtime jobs: each one's actual is its share of its runtime job's time, as its estimate is"
        in text
    )


def test_a_sweeps_lowest_point_is_listed_at_six_figures():
    """`qrun list` shows a linspace point's coordinates to six figures; runs() keeps them whole (the test above)."""
    from qrun.views.listing import headline_text

    lowest = {"value": -4.34443, "stderr": 0.01, "at": "theta=2.436337159926778, J=1.0, n=4, label=v1.23456789012"}
    assert headline_text(lowest) == "-4.34443 ± 0.01 at theta=2.43634, J=1.0, n=4, label=v1.23456789012"


def test_a_sweeps_lowest_point_stands_beside_its_exact_value_in_show_not_in_list(tmp_path):
    """An unswept estimator's line gave "(exact X, zσ)", a sweep's lowest point only its value: under `exact:
    statevector` it says how far the lowest point is from <Z> = cos(a) there; `qrun list`'s cell stays short."""
    from qrun.app.pipeline import run

    spec = tmp_path / "curve.yaml"
    spec.write_text(
        "version: 1\nname: curve\nbackend: aer\noptions: {seed: 1, default_precision: 0.02}\n"
        'circuits:\n  r:\n    qasm: |\n      OPENQASM 3.0;\n      include "stdgates.inc";\n'
        "      input float[64] a;\n      qubit[1] q;\n      ry(a) q[0];\n"
        "observables: {z: Z}\n"
        "jobs:\n  - {name: scan, primitive: estimator, circuit: r, observables: [z], exact: statevector,"
        " sweep: {values: {a: [0, 1, 3]}}}\n"
    )
    folder = run(spec, tmp_path / "r", progress="none")
    low = min(load(folder).jobs["scan"]["points"], key=lambda p: p["value"])
    assert low["a"] == 3 and low["exact"] == pytest.approx(math.cos(3))
    z = (low["value"] - low["exact"]) / low["stderr"]
    line = f"z min {low['value']:.6g} ± {low['stderr']:.2g} at a=3 (exact {math.cos(3):.6g}, {z:+.1f}σ)"
    assert summary(load(folder)) == f"scan: 3 sweep points in 1 runtime job; {line}"
    assert line in show(load(folder), width=200)
    assert list_text(tmp_path / "r", width=200).splitlines()[2].rstrip().endswith(" at a=3")


def test_show_prints_warnings_and_errors_with_brackets_as_they_are(finished, tmp_path):
    """A warning or an error is the library's text, and may hold brackets: rich read "[shots=4096]" as a style and
    dropped it, and "[/tmp/x]" as a closing tag, which made `qrun show` an internal error."""
    import shutil

    _, run_dir = finished
    copy = tmp_path / "mixed" / run_dir.name
    shutil.copytree(run_dir, copy)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["jobs"][0]["warnings"] = ["UserWarning: precision [shots=4096] is coarse", "odd path [/tmp/x]"]
    meta["error"] = "job 'energies' failed: ValueError: bad [/] thing"
    (copy / "metadata.json").write_text(json.dumps(meta))
    text = show(load(copy))
    assert "⚠ UserWarning: precision [shots=4096] is coarse" in text and "⚠ odd path [/tmp/x]" in text
    assert "error: job 'energies' failed: ValueError: bad [/] thing" in text


def test_a_diff_of_many_values_shows_those_that_moved_most_and_counts_the_rest(tmp_path, qrun):
    """Two runs of 30 jobs (other seeds, so each value moves within its noise): the 25 values with the largest |z|,
    largest first, then how many values were paired and how many moved by more than 2 sigma; --all, every one. A
    diff of two 10,000-job runs was 10,004 lines."""
    from conftest import many_jobs_spec

    folders = []
    for seed in (1, 2):
        head = f"options: {{seed: {seed}, default_precision: 0.1}}\n"
        spec = many_jobs_spec(tmp_path, 30, "primitive: estimator, circuit: b, observables: [z]", head)
        done = qrun(spec, "--out", tmp_path / f"r{seed}", "-q")
        assert done.code == 0, done.err
        folders.append(tmp_path / done.out.strip())

    def rows(lines: list[str]) -> list[str]:
        start = lines.index(next(x for x in lines if x.startswith("value"))) + 1
        return [x for x in lines[start:] if x.startswith("j")]

    every = qrun("diff", *folders, "--all").out.splitlines()
    assert len(rows(every)) == 30 and not any("values paired" in x for x in every)
    z = {r.split()[0]: float(r.split()[-1]) for r in rows(every)}
    short = qrun("diff", *folders).out.splitlines()
    big = sum(abs(v) > 2 for v in z.values())
    assert (
        short[-1] == f"30 values paired; the 25 with the largest |z| are shown, {big} have |z| > 2 (--all: every one)"
    )
    shown = rows(short)
    assert [r.split()[0] for r in shown] == sorted(z, key=lambda k: -abs(z[k]))[:25]
    # the same spec and seed again: a reproduced run says so, where it listed 25 rows of +0 "with the largest |z|"
    again = qrun("rerun", folders[0], "--out", tmp_path / "r3", "-q")
    assert again.code == 0, again.err
    same = qrun("diff", folders[0], tmp_path / again.out.strip()).out.splitlines()
    assert same[1:] == ["  (the same spec)", "30 values paired, each the same in both runs (--all: every one)"]
    long_again = qrun(EXPERIMENTS / "ising_sweep.yaml", "--set", "points=30", "--out", tmp_path / "s", "-q")
    other = qrun(EXPERIMENTS / "ising_sweep.yaml", "--set", "points=30", "--out", tmp_path / "t", "-q")
    swept = qrun("diff", *(tmp_path / r.out.strip() for r in (long_again, other))).out.splitlines()
    assert swept[1:] == ["  (the same spec)", "energy: 30 sweep points paired, each the same in both runs"]


def test_show_of_a_group_of_many_points_lists_the_first_and_last(tmp_path, qrun, write_spec):
    """`qrun show GROUP` of 30 points: the first 15 and last 10 rows of --all's, and how many it left out."""
    from conftest import many_jobs_spec

    spec = many_jobs_spec(tmp_path, 1, "primitive: estimator, circuit: b, observables: [z]", "options: {seed: 0}\n")
    done = qrun(spec, "-m", "options.seed=range(1,31)", "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    group = tmp_path / done.out.strip()

    def points(text: str) -> list[str]:
        return [line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│")]

    every = points(qrun("show", group, "--all").out)
    assert len(every) == 30
    assert points(qrun("show", group).out) == every[:15] + ["…"] + every[-10:]
    assert "│ …" in qrun("show", group).out and "5 more (--all)" in qrun("show", group).out


def test_a_fake_devices_runtime_client_jobs_record_no_usage_and_show_prints_none(qrun, tmp_path, write_spec):
    """Local testing mode's runtime jobs (a ladder's TREX rung) report 0 QPU seconds: recorded, they made `qrun show`
    print "usage: 0 QPU seconds in all" and a QPU column for a simulator, which bills nothing."""
    spec = write_spec(
        "version: 1\nname: lad\nbackend: fake_manila\nmax_time: 1h\noptions: {seed: 3, default_precision: 0.02}\n"
        'circuits:\n  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; cx q[0], q[1];"}\n'
        "observables:\n  zz: ZZ\n"
        "jobs:\n  - {name: climb, primitive: ladder, circuit: bell, observables: [zz], rungs: [raw, trex]}\n"
    )
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    run_dir = tmp_path / done.out.strip()
    (entry,) = json.loads((run_dir / "metadata.json").read_text())["jobs"]
    assert entry["engine"] == "backend-primitives+runtime-client-primitives" and entry.get("usage") is None
    shown = qrun("show", run_dir).out
    assert "usage:" not in shown and "QPU s" not in shown.splitlines()[2]


def test_a_run_ends_by_printing_its_derived_values_and_a_ladders_rungs_under_its_name(qrun, tmp_path, write_spec):
    """The run's closing lines: each job, a ladder's rungs indented under it (they read as jobs named raw and trex
    otherwise), then the derived values `qrun show` prints (they were in show only); the session names each engine
    once (a ladder's "a+b" beside a job on "a" made "a+a+b")."""
    spec = write_spec(
        "version: 1\nname: lad\nbackend: fake_manila\nmax_time: 1h\noptions: {seed: 3, default_precision: 0.02}\n"
        'circuits:\n  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; cx q[0], q[1];"}\n'
        "observables:\n  zz: ZZ\n"
        "jobs:\n  - {name: counts, primitive: sampler, circuit: bell, measure_all: true, shots: 1000}\n"
        "  - {name: climb, primitive: ladder, circuit: bell, observables: [zz], rungs: [raw, trex]}\n"
        'derived:\n  same: counts.meas["00"] + counts.meas["11"]\n  gain: climb.trex.zz - climb.raw.zz\n'
    )
    done = qrun(spec, "--out", tmp_path / "r")
    assert done.code == 0, done.err
    run_dir = tmp_path / done.out.splitlines()[-1].removeprefix("results: ")
    counts = json.loads((run_dir / "jobs" / "00-counts.json").read_text())["counts"]["meas"][0]
    same = (counts.get("00", 0) + counts.get("11", 0)) / 1000
    recorded = json.loads((run_dir / "derived.json").read_text())
    assert recorded["same"]["value"] == pytest.approx(same, abs=1e-12)
    lines = done.out.splitlines()
    closing = lines[lines.index(next(line for line in lines if line.startswith("counts: "))) :]
    assert [line.split(":")[0] for line in closing] == ["counts", "climb", "  trex", "derived", "derived", "results"]
    assert closing[1].startswith("climb: raw: <zz> ") and re.search(r"; ~[0-9.]+ QPU s$", closing[1])
    assert closing[3] == f"derived: same = {same:.6g} ± {recorded['same']['stderr']:.2g}"
    rungs = json.loads((run_dir / "jobs" / "01-climb.json").read_text())["rungs"]
    (raw, raw_s), (trex, trex_s) = (
        (r["observables"]["zz"]["values"][0], r["observables"]["zz"]["stderrs"][0]) for r in rungs
    )
    assert closing[4] == f"derived: gain = {trex - raw:.6g} ± {math.hypot(raw_s, trex_s):.2g}"
    session = json.loads((run_dir / "metadata.json").read_text())["session"]
    assert session["engine"] == "backend-primitives+runtime-client-primitives"
    assert "(backend-primitives+runtime-client-primitives)" in done.err.splitlines()[0]


def test_diff_compares_a_samplers_likeliest_outcomes_and_a_sampler_sweeps_points(tmp_path, qrun, write_spec):
    """Two runs of a sampler said "values: none to compare". Each outcome is now a probability with its binomial
    σ, named as a derived: block reads it; a sampler sweep's points too, by their swept value."""
    spec = write_spec(
        "version: 1\nname: rx\nbackend: aer\noptions: {seed: 1}\n"
        'circuits:\n  rot: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float theta; qubit[1] q; '
        'bit[1] c; rx(theta) q[0]; c = measure q;"}\n'
        "jobs:\n  - {name: one, primitive: sampler, circuit: rot, shots: 1000, parameter_values: [[1.0]]}\n"
        "  - {name: scan, primitive: sampler, circuit: rot, shots: 400, sweep: {values: {theta: [0.5, 2.5]}}}\n"
    )
    a, b = (tmp_path / qrun(spec, "--out", tmp_path, "-q", f"options.seed={s}").out.strip() for s in (1, 2))
    lines = qrun("diff", a, b).out.splitlines()
    rows = {
        line.split()[0]: line.split()[1:]
        for line in lines[lines.index(next(x for x in lines if x.startswith("value"))) + 1 :]
    }
    pa, pb = (load(run).jobs["one"]["counts"]["c"][0].get("1", 0) / 1000 for run in (a, b))
    sigma = math.hypot(*(math.sqrt(p * (1 - p) / 1000) for p in (pa, pb)))
    assert rows['one.c["1"]'] == [
        f"{pa:.6g}",
        f"{pb:.6g}",
        f"{pb - pa:+.3g}",
        f"{sigma:.2g}",
        f"{(pb - pa) / sigma:+.2f}",
    ]
    assert abs(pa - math.sin(0.5) ** 2) < 5 * math.sqrt(pa * (1 - pa) / 1000)  # P(1) = sin²(θ/2) at θ = 1
    points = {p["theta"]: p["counts"]["c"] for p in load(b).points("scan")}
    assert set(rows) >= {'one.c["0"]', 'scan[theta=0.5].c["0"]', 'scan[theta=2.5].c["1"]'}
    assert rows['scan[theta=2.5].c["1"]'][1] == f"{points[2.5].get('1', 0) / 400:.6g}"


def test_show_says_why_a_rehearsals_actual_outgrew_its_estimate(qrun, tmp_path, write_spec):
    """A fake device's estimate is the device's time and its actual this machine's simulation: 6 s against 467 s for
    a 20-qubit job read as qrun's estimate being wrong by 80x. Where a job's actual passes twice its estimate on a fake
    device, `qrun show` says what the two columns are; on aer, where both are this machine's time, it does not."""
    spec = write_spec(
        "version: 1\nname: r\nbackend: fake_manila\nmax_time: 1h\noptions: {seed: 1}\n"
        'circuits:\n  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; cx q[0], q[1];"}\n'
        "jobs:\n  - {name: s, primitive: sampler, circuit: bell, measure_all: true, shots: 100}\n"
    )
    note = "fake_manila rehearses a device: an estimate is the device's time, an actual this machine's noisy simulation"
    for backend, expected in (("fake_manila", [note]), ("aer", [])):
        run_dir = tmp_path / qrun(spec, "--out", tmp_path / backend, "-q", f"backend={backend}").out.strip()
        assert note not in qrun("show", run_dir).out  # the device's seconds, far above a 2-qubit simulation's
        meta = json.loads((run_dir / "metadata.json").read_text())
        meta["jobs"][0]["estimate"] = meta["jobs"][0]["actual"] / 3  # as a 20-qubit job's simulation outgrows it
        (run_dir / "metadata.json").write_text(json.dumps(meta))
        assert [line for line in qrun("show", run_dir).out.splitlines() if "rehearses" in line] == expected


def test_mlflow_names_a_ladders_values_as_qrun_list_does(qrun, tmp_path, write_spec):
    """A ladder's metrics were named "climb.zne _zz.value" (its reading's key, "zne <zz>", half stripped)."""
    from qrun.views.mlflow_export import run_metrics

    spec = write_spec(
        "version: 1\nname: lad\nbackend: fake_manila\nmax_time: 1h\noptions: {seed: 3, default_precision: 0.05}\n"
        'circuits:\n  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; h q[0]; cx q[0], q[1];"}\n'
        "observables:\n  zz: ZZ\n"
        "jobs:\n  - {name: climb, primitive: ladder, circuit: bell, observables: [zz], rungs: [raw, trex]}\n"
    )
    run = load(tmp_path / qrun(spec, "--out", tmp_path, "-q").out.strip())
    names = {name for name, _, _ in run_metrics(run, {})}
    listed = set(runs(tmp_path)[0]["results"])
    assert listed == {"climb.raw.zz", "climb.trex.zz"}
    assert {f"{key}.value" for key in listed} | {f"{key}.stderr" for key in listed} <= names
    assert not any(" " in name or "<" in name for name in names)


def test_the_charge_line_says_a_time_under_a_second_once():
    from qrun.views.plans import charge_line

    assert charge_line({"qpu_seconds": 0.478, "cost": None}) == "QPU time charged: about 0.48s"
    assert charge_line({"qpu_seconds": 100.0, "cost": 160.0, "rate_per_second": 1.6}) == (
        "QPU time charged: about 1m 40s (100 s), cost at 1.6/s: 160.00"
    )


def test_the_html_reports_runs_are_a_table_per_spec_with_its_settings_as_keys(tmp_path):
    """As `qrun list`: each spec's runs in a table of their own, with their own result columns and the settings that
    differ between them as KEY= columns (one table had every spec's results, and an override of the backend made a
    second column named backend)."""
    import html
    import re

    from qrun.views.htmlreport import build

    _fixture_run(tmp_path, "h2", "r1", {"h": 0.25}, {}, (0.5, 0.03), (-1.85, 0.01))
    _fixture_run(tmp_path, "h2", "r2", {"h": 0.5}, {"backend": "fake_fez"}, (0.62, 0.04), (-1.8, 0.02))
    other = _fixture_run(tmp_path, "other", "r3", {}, {}, (0.1, 0.1), (0.0, 0.1))
    body = json.loads((other / "jobs" / "00-e.json").read_text())
    body["observables"] = {"xx": body["observables"]["zz"]}
    (other / "jobs" / "00-e.json").write_text(json.dumps(body))
    page = build([tmp_path])
    index = page[page.index('id="runs"') : page.index("</section>")]
    specs = re.findall(r'<div class="spec"><h2>(.*?)</h2>.*?<thead><tr>(.*?)</tr>', index)
    assert [(html.unescape(re.sub(r"<[^>]+>", "", h)), re.findall(r">([^<]*)</th>", head)) for h, head in specs] == [
        ("h2 2 runs", [*FIXED_HEAD, "backend=", "h=", "e.zz", "vqe"]),
        ("other 1 run", [*FIXED_HEAD, "e.xx", "vqe"]),
    ]


FIXED_HEAD = ["run", "group", "status", "jobs", "backend", "started", "quantum s", "git"]


def test_the_html_reports_run_page_shows_each_derived_value_with_its_expression(tmp_path):
    import re

    from qrun.views.htmlreport import build

    run = _fixture_run(tmp_path, "h2", "r1", {"h": 0.25}, {}, (0.5, 0.03), (-1.85, 0.01))
    spec = json.loads((run / "spec.yaml").read_text())
    (run / "spec.yaml").write_text(json.dumps({**spec, "derived": {"gap": "e.zz - vqe"}}))
    page = build([tmp_path])
    (derived,) = re.findall(r'<dl class="derived">(.*?)</dl>', page)
    assert derived == (
        '<dt>gap</dt><dd>2.35 ± 0.032<br><span class="expr">e.zz - vqe</span></dd>'  # 0.5 + 1.85; √(0.03² + 0.01²)
    )


def test_show_of_a_failed_run_gives_the_command_that_runs_what_is_left(tmp_path, qrun):
    run = _fixture_run(tmp_path, "h2", "r1", {"h": 0.25}, {}, (0.5, 0.03), (-1.85, 0.01))
    meta = json.loads((run / "metadata.json").read_text())
    meta["status"], meta["error"] = "failed", "Broken pipe"
    meta["jobs"][1]["status"] = "not run"
    meta["spec"]["file"] = "experiments/h2.yaml"
    (run / "metadata.json").write_text(json.dumps(meta))
    (run / "jobs" / "01-vqe.json").unlink()
    shown = qrun("show", run)  # its job entries have no job_ids, which the folder's schema does not ask for: shown as
    assert shown.code == 0, shown.err  # none, where show and status read them as if always there (exit 3)
    lines = shown.out.splitlines()
    resume = f"qrun experiments/h2.yaml --resume {run} runs the 1 job left"
    assert lines[lines.index("error: Broken pipe") + 1] == resume
    status = qrun("status", run)
    assert (status.code, status.out.splitlines()[-1]) == (
        0,
        "  [1] vqe: not run (0 runtime jobs, local: as recorded)",
    )
    meta["status"] = "completed"  # nothing left to run: no such line
    (run / "metadata.json").write_text(json.dumps(meta))
    assert "--resume" not in qrun("show", run).out


def test_every_view_reads_job_entries_that_hold_only_what_the_folder_schema_requires(tmp_path, qrun):
    """A job entry needs its name, status, file and index (store/folder_schema.py): the views read the rest as
    absent, where show indexed an entry's primitive and job_ids and exited 3, and a resume its job_ids."""
    run = _fixture_run(tmp_path, "h2", "r1", {"h": 0.25}, {}, (0.5, 0.03), (-1.85, 0.01))
    other = _fixture_run(tmp_path, "h2", "r2", {"h": 0.5}, {}, (0.6, 0.03), (-1.8, 0.01))
    for folder in (run, other):
        meta = json.loads((folder / "metadata.json").read_text())
        meta["jobs"] = [{k: e[k] for k in ("name", "status", "file", "index")} for e in meta["jobs"]]
        (folder / "metadata.json").write_text(json.dumps(meta))
    for args in (["show", run], ["status", run], ["list", tmp_path], ["diff", run, other]):
        said = qrun(*args)
        assert said.code == 0, (args, said.err)
    assert qrun("report", tmp_path, "-o", tmp_path / "r.html").code == 0
    (shown,) = [line for line in qrun("show", run).out.splitlines() if "│ vqe " in line]
    assert shown.split("│")[3].strip() == "?"  # the job's kind, unknown


def test_diff_says_a_change_a_templates_loop_repeats_once_and_where_long_texts_differ(qrun, write_spec, tmp_path):
    """A loop's 30 circuits moved to another qubit were 30 lines of `0 -> 1`, and two descriptions cut at 37
    characters read the same ('single-qubit randomized benchmarking...' on both sides)."""
    spec = write_spec(
        "vars: {shots: 100, q: 0}\nversion: 1\nname: looped\nbackend: aer\n"
        "description: single-qubit randomized benchmarking of qubit {{ q }} of a noisy device\n"
        "circuits:\n  c: {random: {num_qubits: 1, depth: 2, seed: 1, measure: true}}\njobs:\n"
        "{% for k in range(4) %}\n  - {name: j{{ k }}, primitive: sampler, circuit: c, shots: {{ shots }}}\n"
        "{% endfor %}\n  - {name: last, primitive: sampler, circuit: c, shots: 7}\n",
        "looped.yaml.j2",
    )
    runs = []
    for shots, last, q in ((100, 7, 0), (200, 8, 1)):
        done = qrun(spec, f"shots={shots}", f"q={q}", f"jobs.last.shots={last}", "--out", tmp_path / "r", "-q")
        assert done.code == 0, done.err
        runs.append(tmp_path / done.out.strip())
    assert qrun("diff", *runs).out.splitlines()[1:5] == [
        "  vars.shots, jobs[0].shots, jobs[1].shots and 2 more: 100 -> 200",
        "  vars.q: 0 -> 1",
        "  description: '…ng of qubit 0 of a noisy device' -> '…ng of qubit 1 of a noisy device'",
        "  jobs[4].shots: 7 -> 8",
    ]
