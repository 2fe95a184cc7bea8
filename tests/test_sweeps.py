import csv
import io
import json
import math

import numpy as np
import orjson
import pytest
from conftest import EXPERIMENTS

from qrun.app import pipeline
from qrun.app.prepare import prepare
from qrun.errors import SweepError
from qrun.model import defaults
from qrun.planning import sweeps
from qrun.running.events import NullSink
from qrun.spec.build import sweep_of
from qrun.store import fsio, records


def values_of(spec):
    """A variable's values as a list: a list as given, a range or linspace as its Column computes them."""
    return list(spec) if isinstance(spec, list) else sweeps.Column(spec)[:]


def expand(sweep):
    """Every point of a sweep, in order."""
    return list(sweeps.Points(sweep_of(sweep)))


@pytest.mark.parametrize(
    "spec, values",
    [
        ([1, 2, 3], [1, 2, 3]),
        ({"range": [0, 3]}, [0, 1, 2]),
        ({"range": [0, 1, 0.25]}, [0.0, 0.25, 0.5, 0.75]),
        ({"linspace": [0, 1, 5]}, [0.0, 0.25, 0.5, 0.75, 1.0]),
        ({"linspace": [2, 2, 1]}, [2.0]),
    ],
)
def test_values_of_lists_and_generators(spec, values):
    assert values_of(spec) == values


def test_grid_is_the_cartesian_product_last_variable_fastest():
    points = expand({"values": {"a": [1, 2], "b": ["x", "y", "z"]}})
    assert points == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
        {"a": 2, "b": "z"},
    ]


def test_zip_is_lockstep_and_refuses_unequal_lengths():
    assert expand({"mode": "zip", "values": {"a": [1, 2], "b": [3, 4]}}) == [{"a": 1, "b": 3}, {"a": 2, "b": 4}]
    with pytest.raises(SweepError) as e:
        expand({"mode": "zip", "values": {"a": [1, 2], "b": [3]}})
    assert str(e.value) == "zip needs every variable to have as many values; a has 2, b has 1"


def test_points_that_differ_only_in_parameters_or_observables_form_one_group():
    points = [{"t": t, "observable": o} for t in (0.1, 0.2, 0.3) for o in ("a", "b")]
    (g,) = sweeps.group(points, ["t", "u"], {"u": 9.0}, ("precision",), {"precision": 0.01})
    assert g.setting == {"precision": 0.01}
    assert g.rows == [(0.1, 9.0), (0.2, 9.0), (0.3, 9.0)] and g.observables == ["a", "b"]
    assert g.product  # sent as observables (2, 1) x rows (3, 2)
    assert g.where == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]


def test_a_swept_setting_splits_groups_and_zip_pairs_are_not_a_product():
    points = [
        {"t": 0.1, "precision": 0.1, "observable": "a"},
        {"t": 0.2, "precision": 0.2, "observable": "a"},
        {"t": 0.3, "precision": 0.1, "observable": "b"},
    ]
    g1, g2 = sweeps.group(points, ["t"], {}, ("precision",), {"precision": 0.5})
    assert (g1.setting, g1.points, g1.product) == ({"precision": 0.1}, [0, 2], False)
    assert (g2.setting, g2.points, g2.product) == ({"precision": 0.2}, [1], True)


def _exact_ising(theta, n=4, h=1.0, J=1.0):
    return -J * (n - 1) * math.cos(theta) ** 2 - h * n * math.sin(theta)


def test_exact_ising_formula_matches_the_statevector():
    from qiskit.circuit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp, Statevector

    qc = QuantumCircuit(4)
    qc.ry(0.7, range(4))
    op = SparsePauliOp.from_list(
        [("IIZZ", -1), ("IZZI", -1), ("ZZII", -1), ("IIIX", -1), ("IIXI", -1), ("IXII", -1), ("XIII", -1)]
    )
    assert Statevector(qc).expectation_value(op).real == pytest.approx(_exact_ising(0.7), abs=1e-12)


def test_a_50_point_sweep_is_one_runtime_job_and_50_rows_matching_exact_values(qrun, tmp_path):
    result = qrun(EXPERIMENTS / "ising_sweep.yaml", "--out", tmp_path, "--set", "h=0.5")
    assert result.code == 0, result.err
    (run,) = (tmp_path / "ising-sweep-h0.5").iterdir()
    meta = json.loads((run / "metadata.json").read_text())
    assert len(meta["jobs"][0]["job_ids"]) == 1
    with open(run / "jobs" / "00-energy.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 50
    assert list(rows[0]) == ["theta", "observable", "value", "stderr"]
    for row in rows:
        exact = _exact_ising(float(row["theta"]), h=0.5)
        assert abs(float(row["value"]) - exact) < 4 * float(row["stderr"])
    body = json.loads((run / "jobs" / "00-energy.json").read_text())
    assert body["groups"] == [{"precision": 0.01, "points": 50}]
    assert [p["theta"] for p in body["points"]] == pytest.approx(np.linspace(0, math.pi, 50))


def test_sweeping_shots_makes_one_job_per_setting_in_the_same_session(qrun, tmp_path, write_spec):
    spec = write_spec("""version: 1
name: shots
backend: aer
max_time: 1m
options: {seed: 5}
circuits:
  rot: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[1] q; bit[1] c; ry(a) q[0]; c = measure q;"}
jobs:
  - name: scan
    primitive: sampler
    circuit: rot
    sweep:
      values: {shots: [100, 400], a: [0, 3.141592653589793]}
    estimate: 1s
""")
    result = qrun(spec, "--out", tmp_path)
    assert result.code == 0, result.err
    (run,) = (tmp_path / "shots").iterdir()
    body = json.loads((run / "jobs" / "00-scan.json").read_text())
    assert body["groups"] == [{"shots": 100, "points": 2}, {"shots": 400, "points": 2}]
    assert [p["counts"]["c"] for p in body["points"]] == [{"0": 100}, {"1": 100}, {"0": 400}, {"1": 400}]
    assert len(json.loads((run / "metadata.json").read_text())["jobs"][0]["job_ids"]) == 2
    assert (run / "jobs" / "00-scan.csv").read_text().splitlines()[:2] == ["shots,a,counts_c", '100,0,"{""0"": 100}"']


def test_the_budget_counts_every_point(qrun, write_spec):
    text = (EXPERIMENTS / "ising_sweep.yaml").read_text().replace("max_time: 10m", "max_time: 90s")
    spec = write_spec(text.replace("backend: aer", "backend: fake_manila"))
    result = qrun("validate", spec)
    assert result.code == 2
    assert (
        ": max_time: 1m 30s (90 s) is less than the sum of the job estimates (rehearsing fake_manila: the time the "
        "real device would take) plus the 10s margin, 1m 50s (110 s)" in result.err
    )


@pytest.mark.parametrize("args", [[0, math.pi, 50], [0, 1, 5], [-2, 7.3, 13], [2, 2, 1]])
def test_linspace_equals_numpys_to_the_last_bit(args):
    assert values_of({"linspace": args}) == [float(v) for v in np.linspace(*args)]


@pytest.mark.parametrize("args", [[0, 3], [0, 1, 0.25], [0.1, 1.0, 0.3], [5, 1, -1], [0, 1, 0.1], [-1.5, 2.2, 0.37]])
def test_range_equals_numpys_arange_to_the_last_bit(args):
    assert values_of({"range": args}) == np.arange(*args).tolist()


@pytest.mark.parametrize(
    "sweep",
    [
        {"values": {"a": [1, 2, 3], "b": {"linspace": [0, 1, 4]}, "c": ["x", "y"]}},
        {"mode": "zip", "values": {"a": [1, 2, 3], "b": {"range": [0, 3]}}},
    ],
)
def test_points_made_on_demand_are_the_expanded_points_in_order(sweep):
    listed = [{**p, "observable": o} for p in expand(sweep) for o in ("z", "x")]
    points = sweeps.Points(sweep_of(sweep), ["z", "x"])
    assert len(points) == len(listed)
    assert points[:] == listed
    assert [points[i] for i in range(-len(points), len(points))] == listed + listed
    assert [p for _, chunk in points.chunks(5) for p in chunk] == listed
    assert [start for start, _ in points.chunks(5)] == list(range(0, len(listed), 5))


@pytest.mark.parametrize(
    ("spec", "ends"),
    [
        ({"linspace": [0, 1, 10_000_000]}, [0.0, 1.0]),
        ({"range": [1, 1_000_000_000]}, [1, 999_999_999]),
        ({"range": [0.5, 3.0, 0.5]}, [0.5, 2.5]),
        ([3, 1, 2], [3, 1, 2]),
        ({"linspace": [0, 1, 2]}, [0.0, 1.0]),
    ],
)
def test_a_ranges_first_and_last_values_are_found_without_building_it(spec, ends):
    assert sweeps.ends(spec) == ends


def test_without_a_limit_the_ceiling_is_what_memory_allows_for_the_specs_results(monkeypatch):
    monkeypatch.setattr(sweeps, "memory_bytes", lambda: 2 * 2**30)
    sweep = {"values": {"t": {"linspace": [0, 1, 1_000_000]}, "u": {"linspace": [0, 1, 10]}}}
    # an estimator point with 2 variables: 256 + 64 x 6 = 640 bytes; half of 2 GiB holds 1,677,721 of them
    assert sweeps.ceiling(sweep_of(sweep), "estimator") == 2**30 // 640 == 1_677_721
    with pytest.raises(SweepError) as e:
        sweeps.check_size(sweep_of(sweep), "estimator")
    assert str(e.value) == (
        "the sweep has 10,000,000 points, more than the 1,677,721 this machine's memory allows: their results take "
        "about 6.0 GiB to read back, more than half of the 2.0 GiB this process may use (limits.sweep_points sets "
        "the limit yourself)"
    )
    sweeps.check_size(sweep_of(sweep), "estimator", limit=10_000_000)  # a limit the spec sets is the limit
    # a sampler's stored counts weigh more: up to min(shots, 1,024) outcomes per point
    assert sweeps.point_bytes(sweep_of(sweep), "sampler", shots=100) == 256 + 128 + 9600


def _stream_spec(points: int) -> str:
    return f"""version: 1
name: long
backend: aer
max_time: 1h
options: {{seed: 3, default_precision: 0.02}}
circuits:
  c: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[2] q; ry(a) q[0]; cx q[0], q[1];"}}
observables:
  zz: ZZ
  zi: IZ
jobs:
  - name: s
    primitive: estimator
    circuit: c
    observables: [zz, zi]
    exact: statevector
    sweep: {{values: {{a: {{linspace: [0, 3.141592653589793, {points}]}}}}}}
    estimate: 1s
"""


def test_a_local_sweep_stores_each_chunk_before_it_sends_the_next(tmp_path, monkeypatch):
    """Aer keeps every core busy with one chunk, and storing the last beside it slowed both (benchmarks/RESULTS.md,
    "A sweep's chunks one at a time"): in this process a chunk goes out only once the one before it is stored."""
    monkeypatch.setattr(sweeps, "LOCAL_CHUNK", 9)  # whole rows of 2 observables: chunks of 8 points
    order: list[str] = []

    class Order(NullSink):
        def jobs_submitted(self, jobs, job_id, pubs):
            order.append("sent")

        def sweep_chunk(self, job, start, points, groups, results):
            order.append(f"stored {start}-{start + len(points)}")

    spec = tmp_path / "s.yaml"
    spec.write_text(_stream_spec(25), encoding="utf-8")  # 25 values x 2 observables: 50 points
    pipeline.run(spec, out=tmp_path / "r", progress="none", sinks=[Order()])
    assert order == [e for start in range(0, 50, 8) for e in ("sent", f"stored {start}-{min(start + 8, 50)}")]


def test_a_short_sweeps_points_kept_as_text_a_chunk_each_are_its_files_list_of_points(
    qrun, tmp_path, write_spec, monkeypatch
):
    """A short sweep keeps each chunk's points as JSON text, not as values, until its job file is written: that
    file holds them inline, in order, as the one list orjson writes of the values, in its place among the keys,
    whether the file is indented or (past READABLE_BYTES) one line; the CSV is appended chunk by chunk."""
    monkeypatch.setattr(sweeps, "LOCAL_CHUNK", 9)  # whole rows of 2 observables: chunks of 8 points
    spec = write_spec(_stream_spec(25))
    assert qrun(spec, "--out", tmp_path / "indented", "-q").code == 0
    monkeypatch.setattr(fsio, "READABLE_BYTES", 2_000)  # the 50 points' text is about 9 kB
    assert qrun(spec, "--out", tmp_path / "line", "-q").code == 0
    (indented,) = (tmp_path / "indented" / "long").iterdir()
    (line,) = (tmp_path / "line" / "long").iterdir()
    text = (line / "jobs" / "00-s.json").read_bytes()
    small, large = json.loads((indented / "jobs" / "00-s.json").read_text()), json.loads(text)
    assert text.count(b"\n") == 1
    assert (indented / "jobs" / "00-s.json").read_text().count("\n") > 50 * 6  # each point on lines of its own
    assert list(large) == list(small) and list(large).index("points") < list(large).index("seconds")
    assert large["points"] == small["points"] and len(small["points"]) == 50
    assert b'"points":' + orjson.dumps(small["points"]) + b',"seconds":' in text
    step = math.pi / 24  # linspace(0, pi, 25)
    assert [(p["a"], p["observable"]) for p in small["points"][:4]] == [
        (0, "zz"),
        (0, "zi"),
        (step, "zz"),
        (step, "zi"),
    ]
    for p in small["points"]:
        exact = math.cos(p["a"]) if p["observable"] == "zi" else 1.0  # ry(t) then CNOT: <ZZ> = 1, <IZ> = cos t
        assert abs(p["value"] - exact) < 4 * 0.02
    table = (line / "jobs" / "00-s.csv").read_text().splitlines()
    assert table == (indented / "jobs" / "00-s.csv").read_text().splitlines()
    assert table[0] == "a,observable,value,stderr,exact" and len(table) == 51
    assert [row.split(",")[1:3] for row in table[1:]] == [[p["observable"], repr(p["value"])] for p in large["points"]]
    assert [row.split(",")[4] for row in table[1:]] == [repr(p["exact"]) for p in large["points"]]


def test_a_long_sweep_streams_its_points_chunk_by_chunk_with_the_values_a_short_one_keeps(
    qrun, tmp_path, write_spec, monkeypatch
):
    """Above INLINE_POINTS a sweep's points go, chunk by chunk, to a JSON-lines file and the CSV; they equal what
    the same chunks give when kept inline, and each is within 4 sigma of the exact <ZZ> = 1 and <IZ> = cos t."""
    monkeypatch.setattr(sweeps, "LOCAL_CHUNK", 9)  # whole rows of 2 observables: chunks of 8 points
    spec = write_spec(_stream_spec(25))
    assert qrun(spec, "--out", tmp_path / "inline", "-q").code == 0
    monkeypatch.setattr(defaults, "INLINE_POINTS", 10)
    result = qrun(spec, "--out", tmp_path / "streamed")
    assert result.code == 0, result.err
    # progress at each tenth of the points a chunk passes
    assert [line for line in result.err.splitlines() if "points" in line and line.startswith("[1/1] s: ")] == [
        f"[1/1] s: {n}/50 points" for n in (8, 16, 24, 32, 40, 48)
    ]
    (kept,) = (tmp_path / "inline" / "long").iterdir()
    (run,) = (tmp_path / "streamed" / "long").iterdir()
    inline = json.loads((kept / "jobs" / "00-s.json").read_text())
    body = json.loads((run / "jobs" / "00-s.json").read_text())
    streamed = [json.loads(line) for line in (run / "jobs" / "00-s.points.jsonl").read_text().splitlines()]
    assert streamed == inline["points"]
    assert (run / "jobs" / "00-s.csv").read_text() == (kept / "jobs" / "00-s.csv").read_text()
    assert (body["point_count"], body["points_file"], body["runtime_jobs"]) == (50, "00-s.points.jsonl", 7)
    assert body["groups"] == inline["groups"] == [{"precision": 0.02, "points": 50}]
    assert "points" not in body and "primitive_result" not in body and "primitive_result" in inline
    assert len(json.loads((run / "metadata.json").read_text())["jobs"][0]["job_ids"]) == 7
    for p in streamed:
        exact = math.cos(p["a"]) if p["observable"] == "zi" else 1.0  # ry(t) then CNOT: <ZZ> = 1, <IZ> = cos t
        assert p["exact"] == pytest.approx(exact, abs=1e-9)
        assert abs(p["value"] - exact) < 4 * 0.02
    assert "50 sweep points in 7 runtime jobs" in qrun("show", run).out
    shown = qrun("show", kept).out  # an inline one's lowest point of each observable is under its size
    for observable in ("zz", "zi"):
        low = min((p for p in inline["points"] if p["observable"] == observable), key=lambda p: p["value"])
        assert f"{observable} min {low['value']:.6g} ± {low['stderr']:.2g} at a=" in shown
        assert body["lowest"][observable] == low  # a streamed one's, kept by its writer as the chunks went by
    # shown alike (it had none: its points stay in their file), and listed alike
    lows = [line for line in shown.splitlines() if " min " in line]
    assert lows and [line for line in qrun("show", run).out.splitlines() if " min " in line] == lows
    listed = [
        json.loads(qrun("list", root, "--json").out)[0]["results"]
        for root in (tmp_path / "inline", tmp_path / "streamed")
    ]
    assert listed[0] == listed[1] and set(listed[1]) == {"s.zz min", "s.zi min"}
    from qrun.store.reader import load
    from qrun.views.report import summary

    assert summary(load(kept)).startswith("s: 50 sweep points in 7 runtime jobs; zz min ")  # the run's closing lines
    # read back in Python: the points either way, and no single PrimitiveResult for a streamed sweep
    import qrun as api
    from qrun.errors import ResultsError

    assert api.load(run).points("s") == streamed and api.load(kept).points("s") == inline["points"]
    assert len(api.load(kept).result("s")) == 7
    with pytest.raises(ResultsError) as e:
        api.load(run).result("s")
    assert str(e.value) == (
        "job 's' streamed its 50 sweep points to jobs/00-s.points.jsonl: it keeps no single PrimitiveResult; "
        "run.points('s') reads them"
    )
    assert not list(run.rglob("*.tmp"))
    # the points file is untrusted input, held to the shape of an inline point: a wrong value is named by its line
    lines = (run / "jobs" / "00-s.points.jsonl").read_text().splitlines()
    lines[2] = json.dumps({**json.loads(lines[2]), "a": [0.5]})
    (run / "jobs" / "00-s.points.jsonl").write_text("\n".join(lines) + "\n")
    for args in (("diff", kept, run), ("plot", run)):
        assert qrun(*args).err == (
            f"qrun: {run}/jobs/00-s.points.jsonl: line 3: a: [0.5] is not of type 'number', 'string', 'null'; "
            "the run folder is damaged\n"
        ), args


@pytest.mark.parametrize(
    "spec",
    [
        {"linspace": [0, math.pi, 50]},
        {"linspace": [-2, 7.3, 13]},
        {"linspace": [2, 2, 1]},
        {"range": [0, 3]},
        {"range": [0.1, 1.0, 0.3]},
        {"range": [5, 1, -1]},
        {"range": [-1.5, 2.2, 0.37]},
    ],
)
def test_a_column_computed_on_demand_has_exactly_the_listed_values(spec):
    col = sweeps.Column(spec)
    assert list(col) == values_of(spec) and col[-1] == values_of(spec)[-1]
    assert [type(v) for v in col] == [type(v) for v in values_of(spec)]
    # a chunk's values taken at once are the same values, bit for bit and of the same types, in any order
    at = [*reversed(range(len(col))), 0, len(col) - 1]
    taken = col.take(at)
    assert taken == [col[i] for i in at] and [type(v) for v in taken] == [type(col[i]) for i in at]


@pytest.mark.parametrize(
    "sweep, observables",
    [
        ({"values": {"a": [1, 2, 3], "b": {"linspace": [0, 1, 4]}, "c": ["x", "y"]}}, ["z", "x"]),
        ({"values": {"a": {"range": [0, 7]}, "b": {"range": [-1.5, 2.2, 0.37]}}}, None),
        ({"mode": "zip", "values": {"a": [1, 2, 3], "b": {"range": [0, 3]}, "c": {"linspace": [2, 3, 3]}}}, ["z"]),
        ({"values": {"t": {"linspace": [0, math.pi, 23]}}}, ["z", "x", "y"]),
    ],
)
def test_every_run_of_points_is_the_points_made_one_by_one(sweep, observables):
    """A chunk's points are made together (Points._points); each run of them is what indexing one point at a time
    gives, wherever it starts and ends (mid-way through a point's observables, or a grid's inner variable)."""
    points = sweeps.Points(sweep_of(sweep), observables)
    one_by_one = [points[i] for i in range(len(points))]
    for start in range(len(points) + 1):
        for stop in (start, start + 1, start + 2, start + 7, len(points)):
            assert points[start:stop] == one_by_one[start:stop], (start, stop)
    assert points[::3] == one_by_one[::3] and points[len(points) : 0 : -2] == one_by_one[len(points) : 0 : -2]
    assert [p for _, chunk in points.chunks(4) for p in chunk] == one_by_one


@pytest.mark.parametrize(
    "column",
    [
        [0.0, -0.0, 1e-300, 3.1400314003140036e-05, 1.7976931348623157e308, float("nan"), float("inf")],
        [1, -2, 10**20, 0, 7, 8, 9],
        ["z", "zz_1", "θ", " lead", "x", "y", "z"],
        ["a\x00b", "a\tb", "\u2028", "é", "trail ", "z", "z"],
        ["a,b", "z", "z", "z", "z", "z", "z"],
        ['say "hi"', "z", "z", "z", "z", "z", "z"],
        ["two\nlines", "z", "z", "z", "z", "z", "z"],
        ["", "z", "z", "z", "z", "z", "z"],
        [None, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        [True, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        [np.float64(0.5), 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        [1, 2.5, 3, 4.5, 5, 6.5, 7],
    ],
)
def test_a_sweeps_csv_rows_are_what_the_csv_module_writes(tmp_path, column):
    """The table's plain columns (floats, ints, strings with nothing to quote) are joined without the csv writer;
    every other value goes through it. Either way the text is the csv module's own, byte for byte."""
    spec = tmp_path / "s.yaml"
    spec.write_text(_stream_spec(3), encoding="utf-8")
    (job,) = prepare(spec, out=tmp_path / "out").planned.jobs
    names = [*job.sweep_variables, "observable", "value", "stderr", "exact"]  # the job has exact: statevector
    values = [column, [0.25 * k for k in range(7)], ["z"] * 7, [0.1] * 7, [0.5] * 7]
    rows = list(zip(*values))
    points = [dict(zip(names, row)) for row in rows]

    def written(*lines):
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(lines)
        return out.getvalue()

    assert records.sweep_table(job, points) == written(names, *rows)
    assert records.sweep_table(job, points[3:], header=False) == written(*rows[3:])
    assert records.sweep_table(job, [], header=False) == ""


def test_a_long_sweeps_lowest_point_is_kept_across_its_chunks():
    from qrun.store.records import keep_lowest

    lowest: dict = {}
    keep_lowest(lowest, [{"a": 0.1, "value": 0.5}, {"a": 0.2, "value": -0.25}])  # one observable, named by the job
    keep_lowest(lowest, [{"a": 0.3, "value": -0.1}, {"a": 0.4, "value": -0.75}])
    keep_lowest(lowest, [{"a": 0.5, "counts": {"c": {"0": 1}}}])  # a sampler's: nothing to keep
    assert lowest == {"": {"a": 0.4, "value": -0.75}}
    named: dict = {}
    keep_lowest(named, [{"observable": "x", "value": 1.0}, {"observable": "y", "value": 2.0}])
    keep_lowest(named, [{"observable": "y", "value": -2.0}, {"observable": "x", "value": 3.0}])
    assert named == {"x": {"observable": "x", "value": 1.0}, "y": {"observable": "y", "value": -2.0}}
