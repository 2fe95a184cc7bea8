import json
import os
import subprocess
from datetime import datetime, timedelta

import numpy as np
from conftest import EXPERIMENTS

from qrun import load as load_run


def test_run_folder_layout_metadata_and_round_trip(qrun, tmp_path):
    out = tmp_path / "results"
    assert qrun(EXPERIMENTS / "mixed.yaml", "--out", out).code == 0
    (run_dir,) = (out / "mixed").iterdir()
    assert sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file()) == [
        "events.jsonl",
        "jobs/00-energies.json",
        "jobs/01-ghz-counts.json",
        "jobs/02-bell-counts.json",
        "metadata.json",
        "spec.yaml",
    ]
    # the saved spec is the resolved one: the same spec, with its file: circuit inlined so the folder stands alone
    import yaml

    saved = yaml.safe_load((run_dir / "spec.yaml").read_text())
    source = yaml.safe_load((EXPERIMENTS / "mixed.yaml").read_text())
    assert saved["circuits"]["ghz"] == {"qasm": (EXPERIMENTS / "circuits" / "ghz.qasm").read_text()}
    saved["circuits"]["ghz"] = source["circuits"]["ghz"]
    assert saved == source
    run = load_run(run_dir)
    meta = run.metadata
    assert meta["status"] == "completed"
    assert set(meta["versions"]) == {"qrun", "python", "qiskit", "qiskit-ibm-runtime", "qiskit-aer"}
    assert meta["session"]["max_time"] == 600 and meta["session"]["backend"] == "fake_manila"
    # the session starts as its first job is sent, not as it is received (the local job's metrics said so)
    started, sent = (datetime.fromisoformat(t) for t in (meta["session"]["started"], meta["jobs"][0]["submitted"]))
    assert started <= sent + timedelta(milliseconds=1)  # each is rounded to the millisecond
    assert meta["session"]["deadline"] is None  # a rehearsal's deadline counts the device's time, no moment of ours
    assert all(j["status"] == "done" and len(j["job_ids"]) == 1 and j["actual"] > 0 for j in meta["jobs"])
    import hashlib

    assert meta["spec"]["sha256"] == hashlib.sha256((EXPERIMENTS / "mixed.yaml").read_bytes()).hexdigest()
    # The runtime's own encoding loads back as a PrimitiveResult with the same numbers as the plain JSON.
    primitive = run.result("energies")
    plain = run.jobs["energies"]["observables"]
    assert np.allclose(primitive[0].data.evs[0], plain["zz"]["values"], atol=0)
    counts = run.result("ghz-counts")[0].data.c.get_counts()
    assert counts == run.jobs["ghz-counts"]["counts"]["c"][0]


def _git(cwd, *args):
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t",
        },
    )


def test_metadata_records_the_git_commit_and_dirty_flag(qrun, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    spec = repo / "bell.yaml"
    spec.write_text((EXPERIMENTS / "bell.yaml").read_text())
    _git(repo, "init", "-q")
    _git(repo, "add", "bell.yaml")
    _git(repo, "commit", "-qm", "spec")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()

    def git_meta(out):
        assert qrun(spec, "--out", out, "--quiet").code == 0
        (run_dir,) = (out / "bell").iterdir()
        return load_run(run_dir).metadata["spec"]["git"]

    assert git_meta(tmp_path / "clean") == {"commit": head, "dirty": False, "path": "bell.yaml"}
    spec.write_text(spec.read_text().replace("shots: 2000", "shots: 100"))
    assert git_meta(tmp_path / "dirty") == {"commit": head, "dirty": True, "path": "bell.yaml"}


def test_outside_git_the_git_record_is_null(qrun, tmp_path):
    spec = tmp_path / "bell.yaml"
    spec.write_text((EXPERIMENTS / "bell.yaml").read_text())
    assert qrun(spec, "--out", tmp_path / "r", "--quiet").code == 0
    (run_dir,) = (tmp_path / "r" / "bell").iterdir()
    assert load_run(run_dir).metadata["spec"]["git"] is None


def test_the_journal_is_on_disk_whenever_qrun_waits_for_a_result(tmp_path, monkeypatch):
    # a local run's journal is flushed in bursts, but never left buffered while a job runs: `qrun status` and a kill
    # see every job started and submitted so far
    from conftest import EXPERIMENTS

    from qrun.app import pipeline
    from qrun.running.events import NullSink
    from qrun.store.journal import Journal

    monkeypatch.setattr(Journal, "LOCAL_FLUSH", 1e9)  # only a wait (or a checkpoint) flushes
    monkeypatch.setattr(Journal, "THROTTLE", 1e9)
    seen: list[list[str]] = []

    class Watcher(NullSink):
        """Reads the journal as the runner is about to wait for a result (after the writer heard the same)."""

        def waiting(self):
            (journal,) = tmp_path.glob("*/*/events.jsonl")
            seen.append([line for line in journal.read_text().splitlines() if line.startswith('{"submitted"')])

    pipeline.run(EXPERIMENTS / "bell.yaml", out=tmp_path, progress="none", sinks=[Watcher()])
    assert len(seen) == 1 and len(seen[0]) == 1  # the one job's submission was in the file while it ran


def test_a_job_event_journals_only_the_fields_it_changes_and_readers_replay_them(tmp_path, monkeypatch, write_spec):
    from qrun.app import pipeline
    from qrun.running.events import NullSink
    from qrun.store.journal import Journal, read_metadata

    monkeypatch.setattr(Journal, "THROTTLE", 1e9)  # metadata.json is written at the start and the end only
    spec = write_spec(
        """version: 1
name: two
backend: aer
max_time: 10m
options: {seed: 1, batch: false}
circuits:
  b: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}
jobs:
  - {name: first, primitive: sampler, circuit: b, shots: 10}
  - {name: second, primitive: sampler, circuit: b, shots: 10}
"""
    )
    seen = []

    class Reader(NullSink):
        """Reads the run back as a reader would, each time the runner is about to wait for a result."""

        def waiting(self):
            (run_dir,) = tmp_path.glob("out/two/*")
            seen.append({e["name"]: (e["status"], e["finished"] is not None) for e in read_metadata(run_dir)["jobs"]})

    pipeline.run(spec, out=tmp_path / "out", progress="none", sinks=[Reader()])
    assert seen == [
        {"first": ("running", False), "second": ("pending", False)},
        {"first": ("done", True), "second": ("running", False)},
    ]
    (journal,) = tmp_path.glob("out/two/*/events.jsonl")
    sets = [json.loads(line)["set"] for line in journal.read_text().splitlines() if line.startswith('{"set"')]
    assert sets[0] == {"0": {"status": "running", "started": sets[0]["0"]["started"], "attempt": 1}}
    assert sorted(sets[1]["0"]) == ["actual", "finished", "status", "units"]


def test_checkpoints_are_spaced_by_their_own_cost_so_a_large_run_does_not_spend_its_time_rewriting_them(
    tmp_path, monkeypatch
):
    import time

    from qrun.store import journal
    from qrun.store.journal import Journal, read_metadata

    real = journal.write_json
    written = []

    def slow_write(path, data, **kwargs):  # a metadata.json as large as 100,000 jobs make it: 50 ms to write
        real(path, data, **kwargs)
        time.sleep(0.05)
        written.append(path.name)

    monkeypatch.setattr(journal, "write_json", slow_write)
    monkeypatch.setattr(Journal, "THROTTLE", 0.0)  # only the spacing rule holds checkpoints back
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    metadata = {"format": 1, "name": "n", "status": "running", "error": None, "jobs": [], "attempts": [], "journal": 0}
    log = Journal(run_dir, metadata, durable=False)
    log.checkpoint()  # as RunWriter.open does
    for k in range(100):  # 0.5 s of events: at one checkpoint per event they would take 5 s
        log.log({"top": {"k": k}})
        time.sleep(0.005)
    # one at open, then none for 20 x 50 ms = 1 s; the journal has every event, and a reader sees the last
    assert 1 <= written.count("metadata.json") <= 2
    log.flush()  # as before qrun waits for a result
    assert read_metadata(run_dir)["k"] == 99


def test_a_run_ends_with_one_rewrite_of_metadata_json_even_where_a_checkpoint_is_due(tmp_path, monkeypatch):
    # a large run's last event was due a checkpoint by the usual rules, and finish() checkpointed after it: its
    # metadata.json was written twice in a row at its end
    from conftest import EXPERIMENTS

    from qrun.app import pipeline
    from qrun.store import journal
    from qrun.store.journal import Journal, read_metadata

    real = journal.write_json
    written = []

    def counted(path, data, **kwargs):
        real(path, data, **kwargs)
        written.append(data["status"])

    monkeypatch.setattr(journal, "write_json", counted)
    monkeypatch.setattr(Journal, "THROTTLE", 0.0)  # neither time rule holds a checkpoint back: only the bytes rule
    monkeypatch.setattr(Journal, "CHECKPOINT_SPACING", 0.0)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    metadata = {"format": 1, "name": "n", "status": "running", "error": None, "jobs": [], "attempts": []}
    log = Journal(run_dir, {**metadata, "journal": 0}, durable=False)
    log.checkpoint()
    log.log({"top": {"status": "running", "note": "x" * 1000}}, then_checkpoint=False)  # due, and held back
    assert written == ["running"]
    log.metadata["status"] = "completed"
    log.log({"top": {"status": "completed", "error": None}}, then_checkpoint=False)
    log.checkpoint(last=True)
    assert written == ["running", "completed"]
    log.close()
    assert read_metadata(run_dir)["status"] == "completed"

    written.clear()  # and a whole run, whose every event is due a checkpoint, ends with one
    pipeline.run(EXPERIMENTS / "bell.yaml", out=tmp_path / "out", progress="none")
    assert written[-1] == "completed" and written.count("completed") == 1


def test_a_checkpoint_waits_until_the_journal_has_grown_by_as_much_as_metadata_json(tmp_path, monkeypatch):
    from qrun.store import journal
    from qrun.store.journal import Journal, read_metadata

    real = journal.write_json
    written = []

    def counted(path, data, **kwargs):
        real(path, data, **kwargs)
        written.append(path.name)

    monkeypatch.setattr(journal, "write_json", counted)
    monkeypatch.setattr(Journal, "THROTTLE", 0.0)  # neither time rule holds a checkpoint back: only the bytes rule
    monkeypatch.setattr(Journal, "CHECKPOINT_SPACING", 0.0)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    metadata = {"format": 1, "name": "n" * 20_000, "status": "running", "error": None, "jobs": [], "attempts": []}
    log = Journal(run_dir, {**metadata, "journal": 0}, durable=False)
    log.checkpoint()  # a metadata.json of about 20 kB
    for k in range(100):  # 100 events of about 20 bytes: 2 kB of journal (a writer changes its metadata, then logs)
        log.metadata["k"] = k  # type: ignore[typeddict-unknown-key]
        log.log({"top": {"k": k}})
    assert written == ["metadata.json"]
    log.flush()  # as before qrun waits for a result
    assert read_metadata(run_dir)["k"] == 99  # replayed from the journal
    log.metadata["k"] = 100  # type: ignore[typeddict-unknown-key]
    log.log({"top": {"k": 100, "note": "x" * 20_000}})  # the journal has now grown past metadata.json's size
    assert written == ["metadata.json"] * 2
    log.flush()
    assert read_metadata(run_dir)["k"] == 100
