"""A run folder is untrusted input: tampered paths, symlinks, FIFOs and wrong types are refused with one line (exit 2)
by every command and by qrun.load, and nothing outside the folder is read, written or removed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import qrun
from qrun.errors import RunFolderError

SPEC = """version: 1
name: tamper
backend: aer
max_time: 10m
options: {seed: 1, default_shots: 100, default_precision: 0.1}
circuits:
  bell: {qasm: 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;'}
observables:
  zz: ZZ
jobs:
  - {name: counts, primitive: sampler, circuit: bell}
  - {name: energy, primitive: estimator, circuit: bell, observables: [zz]}
"""


@pytest.fixture
def done(qrun, tmp_path, monkeypatch):
    """A finished run of SPEC, and a file outside its results root that nothing may touch."""
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text(SPEC)
    assert qrun("spec.yaml", "--out", "results", "-q").code == 0
    (run,) = Path("results/tamper").iterdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    return run, outside


def _meta(run: Path) -> dict:
    return json.loads((run / "metadata.json").read_text())


def _interrupt(run: Path, **job_fields) -> None:
    """Make the run look killed during its second job, with some of that job's fields replaced."""
    meta = _meta(run)
    meta["status"] = "running"
    meta["jobs"][1].update(status="running", **job_fields)
    (run / "metadata.json").write_text(json.dumps(meta))
    (run / "events.jsonl").unlink()


def test_an_absolute_job_file_in_metadata_is_refused_and_not_removed(qrun, done):
    run, outside = done
    _interrupt(run, file=str(outside))
    result = qrun("spec.yaml", "--out", "results", "--resume", str(run), "-q")
    assert result.code == 2
    assert result.err.startswith(f"qrun: --resume: {run}/metadata.json: jobs[1].file: ")
    assert outside.read_text() == "precious\n"


@pytest.mark.parametrize("name", [".reserve", "events.jsonl"])
def test_a_symlinked_reserve_or_journal_never_writes_outside(qrun, done, name):
    run, outside = done
    _interrupt(run)
    (run / name).unlink(missing_ok=True)
    (run / name).symlink_to(outside)
    result = qrun("spec.yaml", "--out", "results", "--resume", str(run), "-q")
    assert outside.read_text() == "precious\n"
    prefix = "qrun: --resume: " if name == "events.jsonl" else "qrun: "  # the journal is read before the resume
    assert (result.code, result.err) == (
        2,
        f"{prefix}{run}/{name}: is a symlink; qrun follows no symlink inside a run folder\n",
    )


def test_a_symlinked_jobs_folder_is_refused(qrun, done, tmp_path):
    run, _ = done
    _interrupt(run)
    elsewhere = tmp_path / "elsewhere"
    shutil.move(run / "jobs", elsewhere)
    (run / "jobs").symlink_to(elsewhere)
    before = sorted(p.name for p in elsewhere.iterdir())
    result = qrun("spec.yaml", "--out", "results", "--resume", str(run), "-q")
    assert (result.code, result.err) == (
        2,
        f"qrun: --resume: {run}/jobs: is a symlink; qrun follows no symlink inside a run folder\n",
    )
    assert sorted(p.name for p in elsewhere.iterdir()) == before


def test_readers_do_not_follow_a_job_file_out_of_the_run(qrun, done):
    run, outside = done
    meta = _meta(run)
    meta["jobs"][0]["file"] = "jobs/../../../outside.txt"
    (run / "metadata.json").write_text(json.dumps(meta))
    for command in ("show", "status", "plot"):
        result = qrun(command, run)
        assert result.code == 2, command
        assert result.err.startswith(f"qrun: {run}/metadata.json: jobs[0].file: "), (command, result.err)
        assert "precious" not in result.out + result.err
    with pytest.raises(RunFolderError):
        qrun_load(run)


def test_a_job_file_symlinked_out_of_the_run_is_refused(qrun, done):
    run, outside = done
    job = next((run / "jobs").glob("00-*.json"))
    job.unlink()
    job.symlink_to(outside)
    result = qrun("show", run)
    assert (result.code, result.err) == (
        2,
        f"qrun: {job}: is a symlink; qrun follows no symlink inside a run folder\n",
    )
    result = qrun("diff", run, run)
    assert result.code == 2 and "precious" not in result.out + result.err


def test_a_fifo_in_place_of_a_file_does_not_hang(qrun, done):
    run, _ = done
    job = next((run / "jobs").glob("00-*.json"))
    job.unlink()
    os.mkfifo(job)
    assert qrun("show", run).err == f"qrun: {job}: is not a regular file; the run folder is damaged\n"
    (run / "metadata.json").unlink()
    os.mkfifo(run / "metadata.json")
    assert qrun("show", run).err == f"qrun: {run}/metadata.json: is not a regular file; the run folder is damaged\n"
    # learned estimates read past runs: a FIFO there must not hang validate, and teaches nothing
    assert qrun("validate", "spec.yaml", "--out", "results").code == 0
    assert qrun("list", "results").code == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(jobs="x"), "metadata.json: jobs: 'x' is not of type 'array'"),
        (lambda m: m["jobs"][0].update(name=None), "metadata.json: jobs[0].name: None is not of type 'string'"),
        (lambda m: m.update(journal=-3), "metadata.json: journal: -3 is less than the minimum of 0"),
        (lambda m: m["attempts"].append(7), "metadata.json: attempts[1]: 7 is not of type 'object'"),
    ],
)
def test_wrong_types_in_metadata_are_one_line_naming_the_value(qrun, done, change, message):
    run, _ = done
    meta = _meta(run)
    change(meta)
    (run / "metadata.json").write_text(json.dumps(meta))
    for command in ("show", "status", "plot"):
        result = qrun(command, run)
        assert (result.code, result.err) == (2, f"qrun: {run}/{message}; the run folder is damaged\n"), command
    assert qrun("list", "results").code == 0  # the damaged run is left out of the table


def test_a_null_the_schema_allows_is_shown_as_unknown(qrun, done):
    """metadata.json may hold null for a job's estimate and time (METADATA_SCHEMA allows it): shown as "-"."""
    run, _ = done
    meta = _meta(run)
    meta["jobs"][1].update(estimate=None, actual=None)
    (run / "metadata.json").write_text(json.dumps(meta))
    result = qrun("show", run)
    assert result.code == 0, result.err
    (row,) = [line for line in result.out.splitlines() if " energy " in line]
    assert [cell.strip() for cell in row.split("│")[6:8]] == ["-", "-"], row


def test_a_damaged_journal_line_is_named(qrun, done):
    run, _ = done
    meta = _meta(run)
    seen = meta["journal"]
    lines = ['{"set": {"99": {"status": "done"}}}', '{"top": {}}']
    (run / "events.jsonl").write_text("\n".join(["{}"] * seen + lines) + "\n")
    assert qrun("show", run).err == (
        f"qrun: {run}/events.jsonl: line {seen + 1} is not an event qrun writes; the run folder is damaged\n"
    )
    (run / "events.jsonl").write_text("\n".join(["{}"] * seen + ["{not json", '{"top": {}}']) + "\n")
    assert (
        qrun("show", run).err == f"qrun: {run}/events.jsonl: line {seen + 1} is not JSON; the run folder is damaged\n"
    )


def test_a_job_file_with_wrong_types_is_refused_by_load(done):
    run, _ = done
    job = next((run / "jobs").glob("01-*.json"))
    body = json.loads(job.read_text())
    body["observables"]["zz"]["values"] = ["nine"]
    job.write_text(json.dumps(body))
    with pytest.raises(RunFolderError) as e:
        qrun_load(run)
    assert (
        str(e.value)
        == f"{job}: observables.zz.values[0]: 'nine' is not of type 'number', 'null'; the run folder is damaged"
    )


def _edit_job(run: Path, prefix: str, change) -> Path:
    job = next((run / "jobs").glob(f"{prefix}-*.json"))
    body = json.loads(job.read_text())
    change(body)
    job.write_text(json.dumps(body))
    return job


@pytest.mark.parametrize(
    ("prefix", "change", "message"),
    [
        ("01", lambda b: b["observables"]["zz"].pop("stderrs"), "observables.zz: 'stderrs' is a required property"),
        ("01", lambda b: b.update(primitive=None), "primitive: None is not of type 'string'"),
        ("00", lambda b: b["counts"]["c"][0].update({"00": -1}), "counts.c[0].00: -1 is less than the minimum of 0"),
        (
            "01",
            lambda b: b.update(points=[{"theta": []}]),
            "points[0].theta: [] is not of type 'number', 'string', 'null'",
        ),
    ],
)
def test_a_job_file_missing_what_views_read_is_one_line_from_every_view(qrun, done, prefix, change, message):
    """Every key a view reads without a check of its own is typed by store/folder_schema.py: a wrong one is named
    (exit 2), never an internal error (exit 3)."""
    run, _ = done
    job = _edit_job(run, prefix, change)
    for args in (("show", run), ("diff", run, run), ("plot", run)):
        result = qrun(*args)
        assert (result.code, result.err) == (2, f"qrun: {job}: {message}; the run folder is damaged\n"), args


def test_values_stored_as_null_read_as_nan_in_every_view(qrun, done):
    """qrun writes a NaN as null (strict JSON): show, list and diff say nan, and compare nothing with it."""
    run, _ = done
    _edit_job(run, "01", lambda b: b["observables"]["zz"].update(values=[None], stderrs=[None]))
    shown = qrun("show", run)
    assert shown.code == 0 and "<zz> = nan ± nan" in shown.out, shown.err
    listed = qrun("list", run.parent.parent)
    assert listed.code == 0 and listed.out.splitlines()[-1].split()[-1] == "nan", listed.err  # energy.zz
    diffed = qrun("diff", run, run)
    assert diffed.code == 0, diffed.err
    assert [line.split() for line in diffed.out.splitlines() if line.startswith("energy.zz")] == [
        ["energy.zz", "nan", "nan", "nan", "nan", "+nan"]
    ]


def test_a_journal_count_too_large_for_an_integer_is_named(qrun, done):
    run, _ = done
    meta = _meta(run)
    meta["journal"] = 1e308
    (run / "metadata.json").write_text(json.dumps(meta))
    assert qrun("show", run).err == (
        f"qrun: {run}/metadata.json: journal: 1e+308 is greater than the maximum of 9007199254740992; "
        "the run folder is damaged\n"
    )


def test_resume_and_rerun_accept_only_run_folders(qrun, done, tmp_path):
    run, _ = done
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "metadata.json").write_text('{"hello": 1}')
    result = qrun("spec.yaml", "--out", "results", "--resume", plain, "-q")
    assert (result.code, result.err) == (
        2,
        f"qrun: --resume: {plain}/metadata.json: the document: 'name' is a required property; the run folder is damaged\n",
    )
    copied = tmp_path / "copies" / "mine"
    shutil.copytree(run, copied)
    result = qrun("rerun", copied, "-q")
    assert (result.code, result.err) == (
        2,
        f"qrun: {copied}: not inside a results root (ROOT/tamper/RUN, or a multirun's ROOT/tamper/GROUP/POINT); say "
        "where to write with --out DIR\n",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["copies", "outside.txt", "plain", "results", "spec.yaml"]
    )
    assert qrun("rerun", copied, "--out", tmp_path / "again", "-q").code == 0


def qrun_load(run: Path):
    return qrun.load(run)


def test_a_job_file_that_inflates_or_holds_foreign_types_is_refused_before_decoding(done, monkeypatch):
    import base64
    import zlib

    from qrun.store import records

    monkeypatch.setattr(records, "MAX_DECODED_BYTES", 16 * 1024 * 1024)  # the same check, with a smaller bomb
    run, _ = done
    job = next((run / "jobs").glob("01-*.json"))
    body = json.loads(job.read_text())
    bomb = base64.standard_b64encode(zlib.compress(b"\0" * (17 * 1024 * 1024), 9)).decode()
    body["primitive_result"] = {"__type__": "ndarray", "__value__": bomb}
    job.write_text(json.dumps(body))
    with pytest.raises(RunFolderError) as e:
        qrun_load(run).result("energy")
    assert str(e.value) == f"{run}: job 'energy': its arrays decompress to more than 16,777,216 bytes"
    body["primitive_result"] = {"__type__": "settings", "__module__": "qiskit.quantum_info.operators", "__value__": {}}
    job.write_text(json.dumps(body))
    with pytest.raises(RunFolderError) as e:
        qrun_load(run).result("energy")
    assert str(e.value) == f"{run}: job 'energy': holds a value of type 'settings', which no result has"


@pytest.mark.parametrize("command", ["show", "plot", "status", "diff", "report"])
def test_a_folder_that_is_no_run_is_named_as_such_and_exits_2_from_every_command(qrun, tmp_path, command):
    empty = tmp_path / "notarun"
    empty.mkdir()
    args = {"diff": [empty, empty], "report": [empty, "--html", tmp_path / "r.html"]}.get(command, [empty])
    result = qrun(command, *args)
    said = f"no runs to report: {empty} holds no qrun run folders" if command == "report" else None
    assert (result.code, result.err) == (2, f"qrun: {said or f'{empty}: not a qrun run folder (no metadata.json)'}\n")


LOOP = """version: 1
name: loop
backend: aer
max_time: 10m
options: {seed: 1, default_precision: 0.1}
circuits:
  ry: {qasm: 'OPENQASM 3.0; include "stdgates.inc"; input float a; qubit[2] q; ry(a) q[0]; cx q[0], q[1];'}
observables:
  zz: ZZ
jobs:
  - {name: vqe, primitive: minimize, circuit: ry, observables: [zz], optimizer: {maxiter: 3}}
  - {name: at, primitive: estimator, circuit: ry, observables: [zz], parameter_values: {from: vqe}}
"""


def test_resume_refuses_an_optimum_that_does_not_fit_its_circuit_and_frees_the_run(qrun, tmp_path, monkeypatch):
    """A later job would start from the stored optimum: one of the wrong length is the folder's damage, not a new
    parameter set; the refused resume leaves the run unlocked, and resumes once the file is mended."""
    monkeypatch.chdir(tmp_path)
    Path("loop.yaml").write_text(LOOP)
    assert qrun("loop.yaml", "--out", "results", "-q").code == 0
    (run,) = Path("results/loop").iterdir()
    meta = _meta(run)
    meta["status"] = "running"
    meta["jobs"][1]["status"] = "running"  # killed during the job that starts from the optimum
    (run / "metadata.json").write_text(json.dumps(meta))
    (run / "events.jsonl").unlink()
    (run / "jobs" / "01-at.json").unlink()
    job = run / "jobs" / "00-vqe.json"
    body = json.loads(job.read_text())
    good = body["optimum"]["parameters"]
    body["optimum"]["parameters"] = [*good, 2.0]
    job.write_text(json.dumps(body))
    refused = qrun("loop.yaml", "--out", "results", "--resume", run, "-q")
    assert (refused.code, refused.err) == (
        2,
        f"qrun: {job}: optimum.parameters: 2 values, not the 1 numbers of circuit 'ry'; the run folder is damaged\n",
    )
    body["optimum"]["parameters"] = good
    job.write_text(json.dumps(body))
    assert qrun("loop.yaml", "--out", "results", "--resume", run, "-q").code == 0
    assert json.loads((run / "jobs" / "01-at.json").read_text())["parameter_values"] == [good]


@pytest.mark.parametrize("jobs", [[5, "x"], [{"name": "energy", "status": "done", "actual": "1 s", "units": 1}]])
def test_an_earlier_run_with_damaged_jobs_teaches_no_estimate_and_breaks_no_plan(qrun, done, jobs):
    """Learned estimates read every earlier run's metadata unchecked: a job entry that is no mapping, or whose
    seconds are no number, is passed over (the plan falls back to its own estimate) instead of an internal error."""
    run, _ = done
    meta = _meta(run)
    meta["jobs"] = jobs
    (run / "metadata.json").write_text(json.dumps(meta))
    (run / "events.jsonl").unlink(missing_ok=True)
    planned = qrun("plan", "spec.yaml", "--out", "results", "--json")
    assert planned.code == 0, planned.err
    assert [j["source"] for j in json.loads(planned.out)["jobs"]] == ["computed", "computed"]
