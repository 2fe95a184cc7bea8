"""Dask for local simulation: a sweep's chunks run on the workers, with the same values as without a cluster, and the
cluster and its tasks in the metadata."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys

import pytest

from qrun.planning import sweeps

# Looked for, not imported: every pytest-xdist worker collects this module, and importing Dask's distributed takes
# most of a second; the runs below import it where they use it.
if importlib.util.find_spec("distributed") is None:
    pytest.skip("Dask's distributed is not installed: pip install 'qrun[dask]'", allow_module_level=True)

SPEC = """version: 1
name: dk
backend: aer
max_time: 4h
options: {seed: 7, default_precision: 0.01}
circuits:
  c: {library: efficient_su2, args: {num_qubits: 6, reps: 1}}
observables:
  z: ZIIIII
jobs:
  - name: s
    primitive: estimator
    circuit: c
    observables: [z]
    parameter_values: [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2,
                        0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2]]
    sweep: {values: {'θ[0]': {linspace: [0, 3, 2100]}, precision: [0.01, 0.02]}}
  - {name: counts, primitive: sampler, circuit: c, measure_all: true, shots: 500,
     parameter_values: [[0.3, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2,
                         0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2]]}
"""


def _run(tmp_path, name, *extra):
    done = subprocess.run(
        [sys.executable, "-m", "qrun", "dk.yaml", "-q", "--out", name, *extra],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return tmp_path / done.stdout.strip()


@pytest.mark.slow
def test_a_local_dask_cluster_gives_identical_values_and_is_recorded(tmp_path):
    (tmp_path / "dk.yaml").write_text(SPEC)
    plain = _run(tmp_path, "plain")
    dask = _run(tmp_path, "dask", "--workers", "2")
    for name in ("00-s.json", "01-counts.json"):
        a, b = (json.loads((d / "jobs" / name).read_text()) for d in (plain, dask))
        assert a.get("points") == b.get("points") and a.get("counts") == b.get("counts")
    record = json.loads((dask / "metadata.json").read_text())["session"]["dask"]
    # 4,200 points in chunks of LOCAL_CHUNK (whole rows of both precisions), each chunk one group per precision
    tasks = 2 * math.ceil(4200 / sweeps.LOCAL_CHUNK)
    assert (record["workers"], record["local"], record["tasks"], record["worker_processes"]) == (2, True, tasks, 2)
    assert 0 < record["task_seconds_median"] <= record["task_seconds_total"]
    assert "dask" not in json.loads((plain / "metadata.json").read_text())["session"]


def test_dask_options_are_checked(qrun, tmp_path):
    (tmp_path / "dk.yaml").write_text(SPEC)
    both = qrun(tmp_path / "dk.yaml", "--dask", "tcp://127.0.0.1:1", "--workers", "2", "--out", tmp_path / "r")
    assert (both.code, both.err.strip()) == (2, "qrun: give --dask ADDRESS or --workers N, not both")
    none = qrun(tmp_path / "dk.yaml", "--workers", "0", "--out", tmp_path / "r")
    assert (none.code, none.err.strip()) == (2, "qrun: --workers takes a number of at least 1")


def test_worker_counts_are_bounded(qrun, tmp_path):
    import os

    (tmp_path / "dk.yaml").write_text(SPEC)
    limit = 4 * (os.cpu_count() or 1)
    many = qrun(tmp_path / "dk.yaml", "--workers", str(limit + 1), "--out", tmp_path / "r")
    assert (many.code, many.err) == (
        2,
        f"qrun: --workers takes at most {limit} on this machine (4 per CPU); use --dask for more\n",
    )


@pytest.mark.slow  # Dask waits out its 10 s connect timeout
def test_an_unreachable_scheduler_is_an_environment_failure(qrun, tmp_path):
    (tmp_path / "dk.yaml").write_text(SPEC)
    away = qrun(tmp_path / "dk.yaml", "--dask", "tcp://127.0.0.1:1", "--out", tmp_path / "r")
    assert away.code == 1  # the spec is fine; the cluster is not there
    assert away.err.startswith("qrun: --dask tcp://127.0.0.1:1: cannot reach the Dask scheduler (")
    assert not (tmp_path / "r").exists()  # nothing started, nothing written


@pytest.mark.slow  # a LocalCluster of one worker process: a few seconds
def test_a_worker_spawned_from_the_qrun_script_keeps_its_garbage_collector_on(tmp_path):
    """A spawned Dask worker runs the parent's main script again as __mp_main__; the `qrun` script imports
    qrun.__main__ at its top. That import must not turn the worker's collector off (the command's own hold is in
    entry(), which the worker never calls): a worker with collection off would keep every garbage cycle of its tasks."""
    script = tmp_path / "qrun_script.py"
    script.write_text(
        "from qrun.__main__ import entry  # as the installed `qrun` script begins\n"
        "if __name__ == '__main__':\n"
        "    import gc\n"
        "    from distributed import Client, LocalCluster\n"
        "    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True) as c, Client(c) as client:\n"
        "        print(list(client.run(gc.isenabled).values()))\n"
    )
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[True]"
