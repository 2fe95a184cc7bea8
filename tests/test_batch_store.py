"""A local run of many small jobs keeps each PUB-batched runtime job's jobs in one columnar batch file: the same
values, bodies and PrimitiveResults as a file per job, read back by every reader, resumed, exported, and refused with
one line when damaged."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp, Statevector

import qrun as qrun_api
from qrun.errors import RunFolderError
from qrun.store import batchfile

N = batchfile.BATCH_FROM + 20  # estimator jobs: one batch of them (LOCAL_BATCH is 500), then one of 3 sampler jobs
ROWS = [0.1, 0.2, 0.3, 0.4]


def spec(n: int = N, extra: str = "") -> str:
    """n estimator jobs on one circuit, then 3 sampler jobs; seeded, so two runs draw the same noise."""
    return (
        "version: 1\nname: many\nbackend: aer\nmax_time: 8h\n"
        f"options: {{seed: 3, default_precision: 0.05, default_shots: 200{extra}}}\n"
        "circuits:\n  c: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}\n"
        '  b: {qasm: \'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] m; h q[0]; cx q[0], q[1]; '
        "m = measure q;'}\n"
        "observables:\n  z: ZI\n  zz: ZZ\njobs:\n"
        + "".join(
            f"  - {{name: e{k}, primitive: estimator, circuit: c, observables: [z, zz], parameter_values: [{ROWS}]}}\n"
            for k in range(n)
        )
        + "".join(f"  - {{name: s{k}, primitive: sampler, circuit: b}}\n" for k in range(3))
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same seeded spec run twice: with batch files, and with a JSON file per job (BATCH_FROM out of reach)."""
    from qrun.cli import main

    tmp = tmp_path_factory.mktemp("batches")
    out = {}
    for label, batch_from in (("batched", batchfile.BATCH_FROM), ("files", 10**9)):
        path = tmp / f"{label}.yaml"
        path.write_text(spec())
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(batchfile, "BATCH_FROM", batch_from)
            assert main([str(path), "--out", str(tmp / label), "-q"]) == 0
        (out[label],) = (tmp / label / "many").iterdir()
    return out


def test_a_run_of_many_jobs_keeps_a_file_per_batch_with_the_values_a_file_each_gets(runs):
    batched, separate = runs["batched"], runs["files"]
    assert sorted(p.name for p in (batched / "jobs").iterdir()) == ["00-e0.batch.npz", "120-s0.batch.npz"]
    assert len(list((separate / "jobs").glob("*.json"))) == N + 3
    meta = json.loads((batched / "metadata.json").read_text())
    assert [(e["file"], e["row"]) for e in meta["jobs"][:2]] == [
        ("jobs/00-e0.batch.npz", 0),
        ("jobs/00-e0.batch.npz", 1),
    ]
    assert meta["jobs"][-1]["file"] == "jobs/120-s0.batch.npz" and meta["jobs"][-1]["row"] == 2
    a, b = qrun_api.load(batched), qrun_api.load(separate)
    volatile = {"job_ids", "seconds", "primitive_result"}
    for name in [f"e{k}" for k in range(N)] + ["s0", "s1", "s2"]:
        assert {k: v for k, v in a.jobs[name].items() if k not in volatile} == {
            k: v for k, v in b.jobs[name].items() if k not in volatile
        }, name  # the same runtime jobs, stored either way
        if name[0] == "e" and int(name[1:]) % 10:
            continue  # every tenth estimator job's result, and every sampler job's (decoding each costs time)
        ra, rb = a.result(name)[0], b.result(name)[0]
        assert sorted(ra.data) == sorted(rb.data) and ra.data.shape == rb.data.shape
        for field in ra.data:
            x, y = ra.data[field], rb.data[field]
            assert np.array_equal(getattr(x, "array", x), getattr(y, "array", y)), (name, field)


def test_batched_values_scatter_about_the_exact_statevector_value_by_their_precision(runs):
    run = qrun_api.load(runs["batched"])
    qc = real_amplitudes(2, reps=1).assign_parameters(ROWS)
    exact = Statevector(qc).expectation_value(SparsePauliOp("ZI")).real
    values = np.array([run.result(f"e{k}")[0].data.evs[0, 0] for k in range(N)])
    assert np.array_equal(values, [run.jobs[f"e{k}"]["observables"]["z"]["values"][0] for k in range(N)])
    # N draws of N(exact, 0.05): their mean within 4 standard errors of it, their spread near 0.05
    assert abs(values.mean() - exact) < 4 * 0.05 / np.sqrt(N)
    assert 0.035 < values.std() < 0.065
    counts = run.jobs["s0"]["counts"]["m"][0]
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 200


def test_show_list_and_export_read_batch_files(runs, qrun, tmp_path):
    batched = runs["batched"]
    shown = qrun("show", batched)
    assert shown.code == 0 and " e119 " in shown.out and " s2 " in shown.out
    out = tmp_path / "exported"
    exported = qrun("export", "runtime-json", batched, "--out", out)
    assert exported.code == 0 and exported.out == f"{N + 3} job files in {out}\n"
    from qiskit_ibm_runtime import RuntimeDecoder

    decoded = json.loads((out / "07-e7.json").read_text(), cls=RuntimeDecoder)
    assert np.array_equal(decoded[0].data.evs, qrun_api.load(batched).result("e7")[0].data.evs)
    bits = json.loads((out / "121-s1.json").read_text(), cls=RuntimeDecoder)[0].data.m
    assert bits.get_counts() == qrun_api.load(batched).jobs["s1"]["counts"]["m"][0]


def test_a_small_run_keeps_a_file_per_job(write_spec, qrun, tmp_path):
    path = write_spec(spec(n=4))
    result = qrun(path, "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    run = Path(result.out.strip())
    assert len(list((run / "jobs").glob("*.json"))) == 7 and not list((run / "jobs").glob("*.npz"))


def test_a_batch_too_large_for_one_file_keeps_a_file_per_job(write_spec, qrun, tmp_path, monkeypatch):
    monkeypatch.setattr(batchfile, "BATCH_FROM", 3)
    monkeypatch.setattr(batchfile, "MAX_BATCH_BYTES", 8000)  # the 3 sampler jobs fit (3 kB); the 40 estimators do not
    result = qrun(write_spec(spec(n=40)), "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    run = Path(result.out.strip())
    files = sorted(p.name for p in (run / "jobs").iterdir())
    assert files == sorted([*(f"{k:02d}-e{k}.json" for k in range(40)), "40-s0.batch.npz"])
    assert [qrun_api.load(run).result(f"e{k}")[0].data.evs.shape for k in (0, 39)] == [(2, 1)] * 2


def _reset_last_batch(run: Path) -> None:
    """Make the run look killed after the last batch file was written but before the journal marked its jobs."""
    meta = json.loads((run / "metadata.json").read_text())
    meta["status"] = meta["attempts"][-1]["status"] = "running"
    for entry in meta["jobs"][N:]:
        entry.update(status="running", file=f"jobs/{entry['index']:02d}-{entry['name']}.json", finished=None)
        entry.pop("row")
    (run / "metadata.json").write_text(json.dumps(meta))
    (run / "events.jsonl").unlink()


def test_resume_after_a_kill_between_a_batch_file_and_its_journal_line_runs_those_jobs_again(runs, qrun, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(runs["batched"], run)
    before = qrun_api.load(run)
    _reset_last_batch(run)
    spec_path = tmp_path / "batched.yaml"
    spec_path.write_text(spec())
    result = qrun(spec_path, "--out", tmp_path, "--resume", run, "-q")
    assert result.code == 0, result.err
    after = qrun_api.load(run)
    meta = after.metadata
    assert meta["status"] == "completed" and [a["status"] for a in meta["attempts"]] == ["died", "completed"]
    # the first batch was kept (not run again); the sampler batch ran again, with the same seeded counts
    assert {s["job"] for s in meta["attempts"][1]["submissions"]} == {"s0", "s1", "s2"}
    for name in ("e0", "e119", "s0", "s2"):
        assert (
            after.jobs[name]["observables" if name[0] == "e" else "counts"]
            == before.jobs[name]["observables" if name[0] == "e" else "counts"]
        )
    assert sorted(p.name for p in (run / "jobs").iterdir()) == ["00-e0.batch.npz", "120-s0.batch.npz"]


def _npz(arrays: dict[str, np.ndarray], compress: bool = False) -> bytes:
    out = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(out, **arrays)
    return out.getvalue()


def _index(**fields: object) -> np.ndarray:
    text = json.dumps({"format": 1, "bodies": [], **fields})
    return np.frombuffer(text.encode(), dtype=np.uint8)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"not a zip", "is not a batch file (numpy .npz)"),
        (_npz({"index": _index()}, compress=True), "member 'index.npy' is compressed or larger than the file"),
        (_npz({"index": _index(), "evil": np.zeros(2)}), "member 'evil.npy' is not one qrun writes"),
        (_npz({"index": _index(), "f.x": np.array([object()], dtype=object)}), "member 'f.x.npy': holds objects"),
        (_npz({"f.x": np.zeros(2)}), "has no index"),
        (_npz({"index": np.frombuffer(b"{oops", dtype=np.uint8)}), "its index is not valid JSON"),
        (_npz({"index": np.frombuffer(b'{"format": 9}', dtype=np.uint8)}), "its index is not a format-1 batch index"),
    ],
)
def test_a_damaged_batch_file_is_refused_naming_it(data, words, tmp_path):
    with pytest.raises(RunFolderError) as caught:
        batchfile.parse(tmp_path / "jobs" / "x.batch.npz", data)
    assert str(caught.value).startswith(f"{tmp_path / 'jobs' / 'x.batch.npz'}: {words}")
    assert str(caught.value).endswith("; the run folder is damaged")


def test_an_array_whose_header_claims_more_than_its_bytes_is_refused_before_numpy_allocates_it(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (400000000000,)})
    fixed = header.getvalue()
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_STORED) as z:
        z.writestr("index.npy", _npz_member(_index()))
        z.writestr("f.evs.npy", fixed + np.zeros(4).tobytes())
    with pytest.raises(RunFolderError, match="its header says 400000000000 values of 8 bytes, its data is 32"):
        batchfile.parse(tmp_path / "b.batch.npz", data.getvalue())


def _npz_member(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def test_a_job_whose_row_is_missing_or_outside_its_batch_file_is_refused(runs, qrun, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(runs["batched"], run)
    meta = json.loads((run / "metadata.json").read_text())
    meta["jobs"][3]["row"] = 500
    (run / "metadata.json").write_text(json.dumps(meta))
    (run / "events.jsonl").unlink()
    shown = qrun("show", run)
    assert shown.code == 2
    assert (
        shown.err
        == f"qrun: {run / 'jobs' / '00-e0.batch.npz'}: has no job 500 (it holds 120); the run folder is damaged\n"
    )
    del meta["jobs"][3]["row"]
    (run / "metadata.json").write_text(json.dumps(meta))
    shown = qrun("show", run)
    assert shown.code == 2
    assert shown.err == (
        f"qrun: {run / 'metadata.json'}: job 'e3' is stored in jobs/00-e0.batch.npz but names no row of it; "
        "the run folder is damaged\n"
    )


@pytest.mark.parametrize("device", ["fake_sherbrooke", "fake_fez"])
def test_batch_files_on_127_and_156_qubit_fake_devices_at_resilience_0(device, write_spec, qrun, tmp_path, monkeypatch):
    monkeypatch.setattr(batchfile, "BATCH_FROM", 3)  # a batch file for a run of 3 jobs or more
    text = (
        spec(n=4).replace("backend: aer", f"backend: {device}").replace("options: {", "options: {resilience_level: 0, ")
    )
    result = qrun(write_spec(text), "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    run_dir = Path(result.out.strip())
    assert sorted(p.name for p in (run_dir / "jobs").iterdir()) == ["00-e0.batch.npz", "04-s0.batch.npz"]
    run = qrun_api.load(run_dir)
    qc = real_amplitudes(2, reps=1).assign_parameters(ROWS)
    for k in range(4):
        evs = run.result(f"e{k}")[0].data.evs
        assert list(evs[:, 0]) == [run.jobs[f"e{k}"]["observables"][o]["values"][0] for o in ("z", "zz")]
        # noise of precision 0.05 (4 sigma) and the device's readout and gate errors (at most 0.1 on these qubits)
        for value, op in zip(evs[:, 0], ("ZI", "ZZ")):
            assert abs(value - Statevector(qc).expectation_value(SparsePauliOp(op)).real) < 0.3
    for k in range(3):
        bits = run.result(f"s{k}")[0].data.m
        assert bits.get_counts() == run.jobs[f"s{k}"]["counts"]["m"][0] and bits.num_shots == 200
        assert sum(v for key, v in bits.get_counts().items() if key in ("00", "11")) > 150  # a Bell pair, mostly


@pytest.mark.slow  # two subprocess runs and a resume: make test stays under 3 minutes
@pytest.mark.parametrize("point", ["jobs_submitted:121", "job_done:121"])
def test_sigkill_in_a_run_of_batch_files_then_resume_gives_the_uninterrupted_values(point, tmp_path):
    """Killed while the sampler batch is out (its batch file unwritten), or right after it is written and journaled:
    the resumed run equals an uninterrupted one, and no job that had finished is submitted again."""
    import signal
    import subprocess
    import sys

    failpoint = Path(__file__).parent / "failpoint.py"
    (tmp_path / "many.yaml").write_text(spec())

    def run(*args: str, kill: str | None = None) -> subprocess.CompletedProcess[str]:
        head = [sys.executable, str(failpoint), kill] if kill else [sys.executable, "-m", "qrun"]
        return subprocess.run([*head, *args], capture_output=True, text=True, cwd=tmp_path)

    reference = run("many.yaml", "--out", "ref", "-q")
    assert reference.returncode == 0, reference.stderr
    killed = run("many.yaml", "--out", "r", "-q", kill=point)
    assert killed.returncode == -signal.SIGKILL
    (run_dir,) = (tmp_path / "r" / "many").iterdir()
    done_before = {
        e["name"] for e in json.loads((run_dir / "metadata.json").read_text())["jobs"] if e["status"] == "done"
    }
    resumed = run("many.yaml", "--out", "r", "--resume", "-q")
    assert resumed.returncode == 0, resumed.stderr
    a, b = qrun_api.load(run_dir), qrun_api.load(tmp_path / reference.stdout.strip())
    assert a.metadata["status"] == "completed" and [x["status"] for x in a.metadata["attempts"]] == [
        "died",
        "completed",
    ]
    volatile = {"job_ids", "seconds"}
    assert {n: {k: v for k, v in body.items() if k not in volatile} for n, body in a.jobs.items()} == {
        n: {k: v for k, v in body.items() if k not in volatile} for n, body in b.jobs.items()
    }
    again = {s["job"] for s in a.metadata["attempts"][1]["submissions"]}
    assert not again & done_before
    # killed with the samplers out: they run again; killed after their batch was recorded: a journal line the kill
    # cut before its flush is recomputed, so they may (and nothing else may)
    assert again == {"s0", "s1", "s2"} if point.startswith("jobs_submitted") else again <= {"s0", "s1", "s2"}
    assert sorted(p.name for p in (run_dir / "jobs").iterdir()) == ["00-e0.batch.npz", "120-s0.batch.npz"]
