"""qrun export mlflow against a real MLflow tracking store (SQLite in a temporary folder), read back through
MLflow's own search API and compared with qrun's files."""

import importlib.util
import json
import math
from collections import Counter

import pytest

pytestmark = pytest.mark.slow
# Looked for, not imported: every pytest-xdist worker collects this module, the fast suite's too, and importing
# MLflow takes seconds; each test imports what it uses.
if importlib.util.find_spec("mlflow") is None:
    pytest.skip("MLflow is not installed: pip install 'qrun[mlflow]'", allow_module_level=True)


def _job(run_dir, name: str) -> dict:
    (path,) = (run_dir / "jobs").glob(f"*-{name}.json")
    return json.loads(path.read_text())


def _expected_metrics(run_dir) -> dict[str, float]:
    """The latest value of every metric, computed here from the job files as a reader of them would."""
    out: dict[str, float] = {}
    energy = _job(run_dir, "e")["observables"]["energy"]
    v, s, x = energy["values"][0], energy["stderrs"][0], energy["exact"][0]
    out |= {"e.energy.value": v, "e.energy.stderr": s, "e.energy.exact": x, "e.energy.deviation_sigma": (v - x) / s}
    last = _job(run_dir, "curve")["points"][-1]  # a sweep logs one step per point; the latest is the last point
    out |= {
        "curve.energy.value": last["value"],
        "curve.energy.stderr": last["stderr"],
        "curve.energy.exact": last["exact"],
        "curve.energy.deviation_sigma": (last["value"] - last["exact"]) / last["stderr"],
    }
    ground = _job(run_dir, "ground")
    out |= {
        "ground.min.energy.value": ground["optimum"]["value"],
        "ground.min.energy.stderr": ground["optimum"]["stderr"],
    }
    out["ground.evaluation"] = ground["trace"][-1]["value"]
    out["derived.gap.value"] = v - ground["optimum"]["value"]  # the spec's derived: block
    out["derived.gap.stderr"] = math.hypot(s, ground["optimum"]["stderr"])
    meta = json.loads((run_dir / "metadata.json").read_text())
    # a job that went out with others in one PUB-batched runtime job records that job's whole time: it logs its share
    carried = Counter((j.get("batched") or {}).get("id") for j in meta["jobs"])
    out |= {
        f"{j['name']}.seconds": j["actual"] / (carried[j["batched"]["id"]] if j.get("batched") else 1)
        for j in meta["jobs"]
    }
    return out


def test_export_logs_params_metrics_tags_and_artifacts_and_updates_in_place(field_runs, qrun, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)  # the SQLite store keeps artifacts in ./mlruns beside it
    root, group, single = field_runs
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = qrun("export", "mlflow", root, "--tracking-uri", uri)
    assert done.code == 0, done.err
    assert len(done.out.splitlines()) == 4

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("field")
    found = {r.data.tags["qrun.run"]: r for r in client.search_runs([experiment.experiment_id])}
    assert sorted(found) == sorted(
        [f"field/{group.name}/theta={t}" for t in ("0", "1", "1.5")] + [f"field/{single.name}"]
    )
    for key, run in found.items():
        folder = root / key
        expected = _expected_metrics(folder)
        assert set(expected) <= set(run.data.metrics)
        for name, value in expected.items():
            assert math.isclose(run.data.metrics[name], value, rel_tol=1e-9), name  # σ of derived: numerical slope
        history = client.get_metric_history(run.info.run_id, "curve.energy.value")
        assert [m.value for m in sorted(history, key=lambda m: m.step)] == [
            p["value"] for p in _job(folder, "curve")["points"]
        ]
        meta = json.loads((folder / "metadata.json").read_text())
        tags = run.data.tags
        assert tags["qrun.backend"] == "aer" and tags["qrun.status"] == "completed"
        assert tags["qrun.job_ids"].split() == [i for j in meta["jobs"] for i in j["job_ids"]]
        assert tags["version.qiskit"] == meta["versions"]["qiskit"]
        assert tags["version.qrun"] == meta["versions"]["qrun"]
        params = run.data.params
        assert params["name"] == "field" and params["jobs.0.precision"] == "0.01"
        assert params["observables.energy.unit"] == "Ha"
        if "multirun" in key:
            assert params["swept.theta"] == key.rsplit("=", 1)[1]
        assert run.info.status == "FINISHED"
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "run")}
        assert {"run/metadata.json", "run/spec.yaml", "run/jobs"} <= artifacts

    again = qrun("export", "mlflow", group / "theta=1", "--tracking-uri", uri)
    assert again.code == 0
    rerun = client.search_runs([experiment.experiment_id])
    assert len(rerun) == 4  # the same MLflow run, updated: no duplicate
    (updated,) = [r for r in rerun if r.data.tags["qrun.run"].endswith("theta=1")]
    assert updated.info.run_id == found[f"field/{group.name}/theta=1"].info.run_id
    assert len(client.get_metric_history(updated.info.run_id, "e.energy.value")) == 1


def test_without_a_store_to_reach_the_export_fails_plainly(field_runs, qrun, tmp_path):
    _, _, single = field_runs
    done = qrun("export", "mlflow", single, "--tracking-uri", "nosuchscheme://x")
    assert done.code == 1
    assert done.err.startswith(f"qrun: {single}: MLflow refused the export: ")


def test_run_with_mlflow_logs_the_run_when_it_completes(write_spec, qrun, tmp_path, monkeypatch):
    from conftest import FIELD_SPEC
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'auto.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)  # MLflow's own setting, which --mlflow follows
    spec = write_spec(FIELD_SPEC)
    done = qrun(spec, "--out", tmp_path / "results", "-q", "--mlflow")
    assert done.code == 0, done.err
    (run_dir,) = (tmp_path / "results" / "field").iterdir()
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("field").experiment_id])
    assert run.data.tags["qrun.run"] == f"field/{run_dir.name}"
    assert run.data.metrics["e.energy.value"] == _job(run_dir, "e")["observables"]["energy"]["values"][0]


def test_a_stored_spec_whose_derived_block_is_no_mapping_exports_without_it(field_runs, qrun, tmp_path, monkeypatch):
    """The run folder's spec.yaml is untrusted: a `derived:` that is no mapping gives no derived metrics, as
    `qrun show` gives no derived lines, rather than an internal error."""
    import shutil

    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)
    single = tmp_path / "field" / field_runs[2].name  # a copy: the fixture's runs are shared
    shutil.copytree(field_runs[2], single)
    spec = (single / "spec.yaml").read_text()
    assert "\nderived:" in spec
    (single / "spec.yaml").write_text(spec.replace("\nderived:", "\nderived: 5\nold:"))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = qrun("export", "mlflow", single, "--tracking-uri", uri)
    assert done.code == 0, done.err
    (run,) = MlflowClient(uri).search_runs([MlflowClient(uri).get_experiment_by_name("field").experiment_id])
    assert "e.energy.value" in run.data.metrics and not any(k.startswith("derived.") for k in run.data.metrics)


def test_a_run_of_more_jobs_than_params_can_hold_logs_their_count_and_every_value(qrun, tmp_path, monkeypatch):
    """Past 100 jobs, their settings stay in the spec.yaml artifact and params hold their count (a store writes a
    row per param: 10,000 jobs' took minutes); every job's values are still metrics."""
    from conftest import many_jobs_spec
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)
    spec = many_jobs_spec(tmp_path, 101, "primitive: estimator, circuit: b, observables: [z], precision: 0.1")
    done = qrun(spec, "--out", tmp_path / "results", "-q")
    assert done.code == 0, done.err
    (run_dir,) = (tmp_path / "results" / "many").iterdir()
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert qrun("export", "mlflow", run_dir, "--tracking-uri", uri).code == 0
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("many").experiment_id])
    params, tags, metrics = run.data.params, run.data.tags, run.data.metrics
    assert params["jobs.count"] == "101" and not any(k.startswith("jobs.0") for k in params)
    assert params["backend"] == "aer"
    assert tags["qrun.job_params"] == "101 jobs: their settings are in the run/spec.yaml artifact, not params"
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert {f"{e['name']}.z.value" for e in meta["jobs"]} <= set(metrics)
    assert "run/spec.yaml" in {a.path for a in client.list_artifacts(run.info.run_id, "run")}


def test_an_unchanged_run_is_not_sent_again_and_a_changed_one_is(field_runs, qrun, tmp_path, monkeypatch):
    """A second export of an unchanged run sends nothing (a store checked every metric again: 26 s for a 10,000-job
    run); usage recorded since (`qrun status`) makes the next export a full one."""
    import shutil

    from mlflow.tracking import MlflowClient

    from qrun.store.journal import record_usage

    monkeypatch.chdir(tmp_path)
    _, _, single = field_runs
    folder = tmp_path / "field" / single.name
    shutil.copytree(single, folder)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = qrun("export", "mlflow", folder, "--tracking-uri", uri)
    assert first.code == 0, first.err
    (line,) = first.out.splitlines()
    run_id = line.rsplit(" ", 1)[1]
    assert line == f"{folder}: mlflow run {run_id}"
    client = MlflowClient(uri)
    tagged = client.get_run(run_id).data.tags["qrun.exported"]

    again = qrun("export", "mlflow", folder, "--tracking-uri", uri)
    assert again.out.splitlines() == [f"{folder}: mlflow run {run_id} (unchanged since its last export)"]
    assert "usage.quantum_seconds" not in client.get_run(run_id).data.metrics

    record_usage(folder, {0: [{"job_id": "d1", "status": "final", "quantum_seconds": 2.5}]})
    changed = qrun("export", "mlflow", folder, "--tracking-uri", uri)
    assert changed.out.splitlines() == [f"{folder}: mlflow run {run_id}"]
    after = client.get_run(run_id).data
    assert after.metrics["usage.quantum_seconds"] == 2.5
    assert after.tags["qrun.exported"] != tagged
    assert len(client.search_runs([client.get_experiment_by_name("field").experiment_id])) == 1


def test_a_run_that_died_is_exported_as_killed_not_running(field_runs, qrun, tmp_path, monkeypatch):
    """A run recorded as running that no qrun holds was killed before it could say so: MLflow is told KILLED, and
    its qrun.status tag says died, as `qrun list` does."""
    import shutil

    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)
    _, _, single = field_runs
    folder = tmp_path / "field" / single.name
    shutil.copytree(single, folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["status"] = "running"  # as a SIGKILL of qrun and its supervisor leaves it
    (folder / "metadata.json").write_text(json.dumps(meta))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = qrun("export", "mlflow", folder, "--tracking-uri", uri)
    assert done.code == 0, done.err
    run = MlflowClient(uri).get_run(done.out.split()[-1])
    assert (run.info.status, run.data.tags["qrun.status"]) == ("KILLED", "died")


def test_a_fits_parameters_are_each_a_metric(qrun, write_spec, tmp_path, monkeypatch):
    """A fitted derived value logs its value and σ as any derived value does, and each of its parameters too."""
    from mlflow.tracking import MlflowClient
    from test_fits import COSINE, _rabi

    monkeypatch.chdir(tmp_path)
    done = qrun(write_spec(_rabi("aer", COSINE)), "--out", tmp_path / "r")
    assert done.code == 0, done.err
    (run_dir,) = (tmp_path / "r" / "rabi").iterdir()
    fit = json.loads((run_dir / "derived.json").read_text())["w"]
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert qrun("export", "mlflow", run_dir, "--tracking-uri", uri).code == 0
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("rabi").experiment_id])
    metrics = {k: v for k, v in run.data.metrics.items() if k.startswith("derived.")}
    assert metrics == pytest.approx(
        {
            "derived.w.value": fit["value"],
            "derived.w.stderr": fit["stderr"],
            "derived.w.w.value": fit["value"],
            "derived.w.w.stderr": fit["stderr"],
            "derived.w.a.value": fit["parameters"]["a"]["value"],
            "derived.w.a.stderr": fit["parameters"]["a"]["stderr"],
        },
        rel=1e-12,
    )
