"""The collector is paused while qrun builds objects it keeps, and left as the caller had it after."""

from __future__ import annotations

import gc

import pytest

from qrun import collector


@pytest.mark.parametrize("before", [True, False])
def test_paused_inside_and_as_it_was_after_even_on_an_error(before):
    (gc.enable if before else gc.disable)()
    try:
        with pytest.raises(ValueError, match="inside"), collector.paused():
            assert not gc.isenabled()
            raise ValueError("inside")
        assert gc.isenabled() is before
    finally:
        gc.enable()


@pytest.fixture
def collection_on():
    """Each test starts with collection on, nothing held and nothing frozen, and leaves it so."""
    gc.enable()
    gc.unfreeze()
    yield
    collector.release()
    gc.unfreeze()
    gc.enable()


def test_hold_turns_collection_off_until_release_which_freezes_what_exists(collection_on):
    collector.hold()
    assert not gc.isenabled()
    with collector.paused():
        pass
    assert not gc.isenabled()  # a pause inside the hold does not end it
    collector.release()
    assert gc.isenabled() and gc.get_freeze_count() > 0
    gc.disable()
    collector.release()  # released already: a second release changes nothing
    assert not gc.isenabled()


def test_hold_leaves_a_collector_the_caller_turned_off_to_the_caller(collection_on):
    gc.disable()
    collector.hold()
    collector.release()
    assert not gc.isenabled() and gc.get_freeze_count() == 0


def test_the_qrun_command_runs_its_jobs_with_collection_on_and_its_imports_with_it_off(
    collection_on, tmp_path, monkeypatch
):
    """`qrun` (qrun.__main__.entry) holds collection from its first line; the run releases it before the first job.
    A process pool's worker that imports the module (Dask's) keeps collection on."""
    import subprocess
    import sys

    from conftest import EXPERIMENTS

    from qrun.cli import main
    from qrun.running.events import NullSink

    # the command holds from its first line; importing its module (as a process pool's worker does, by name or as
    # __mp_main__) does not. cli.entry is replaced in the child so that the command stops where the CLI would start.
    stand_in = "import gc, qrun.cli; qrun.cli.entry = lambda: print(gc.isenabled()); "
    for how, expected in (
        ("from qrun.__main__ import entry; print(gc.isenabled()); entry()", "True\nFalse"),
        ("import runpy; runpy.run_module('qrun.__main__', run_name='__mp_main__'); print(gc.isenabled())", "True"),
    ):
        code = stand_in + how
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.strip() == expected, how

    seen: list[bool] = []

    class Probe(NullSink):
        def job_started(self, job):
            seen.append(gc.isenabled())

    monkeypatch.chdir(tmp_path)
    collector.hold()  # as qrun.__main__.entry does, in this process
    assert main([str(EXPERIMENTS / "bell.yaml"), "--quiet", "--out", "r"], sinks=[Probe()]) == 0
    assert seen == [True] and gc.isenabled()


SPARSE = """version: 1
name: sparse
backend: BACKEND
max_time: 1h
options: {seed: 2, default_precision: 0.05, resilience_level: 0}
circuits:
  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[2] q; ry(a) q[0]; cx q[0], q[1];"}
observables:
  z: ZI
jobs:
  - {name: a, primitive: estimator, circuit: c, observables: [z], parameter_values: [[0.1]]}
  - {name: b, primitive: estimator, circuit: c, observables: [z], parameter_values: [[0.2]]}
  - {name: s, primitive: estimator, circuit: c, observables: [z], sweep: {values: {a: {linspace: [0, 1, 3]}}}}
"""


@pytest.mark.parametrize(("backend", "sparse"), [("aer", True), ("fake_sherbrooke", False)])
def test_young_collections_are_sparse_only_while_aers_own_primitives_run_a_batch_or_a_sweep(
    write_spec, tmp_path, backend, sparse
):
    """A batch and a sweep's chunks on Aer's own primitives record many small objects and leave no garbage of note:
    there young collections come every RUN_YOUNG allocations. A fake device's engine leaves cyclic garbage each call,
    and a single job or a loop may too: Python's thresholds stay. They are Python's again after every block."""
    from qrun.app import pipeline
    from qrun.running.events import NullSink

    seen: dict[str, int] = {}

    class Probe(NullSink):
        def job_started(self, job):
            seen.setdefault(job.name, gc.get_threshold()[0])

        def jobs_started(self, jobs):
            seen.setdefault("+".join(j.name for j in jobs), gc.get_threshold()[0])

        def sweep_chunk(self, job, *rest, **more):
            seen.setdefault(f"{job.name} chunk", gc.get_threshold()[0])

    before = gc.get_threshold()
    spec = write_spec(SPARSE.replace("BACKEND", backend))
    pipeline.run(spec, out=tmp_path / "r", progress="none", sinks=[Probe()])
    young = collector.RUN_YOUNG if sparse else before[0]
    assert seen == {"a+b": young, "s": before[0], "s chunk": young}
    assert gc.get_threshold() == before


LEFT = """
import gc, sys, weakref
from qrun.app import pipeline
from qrun.running.events import NullSink

seen = []


class Probe(NullSink):
    def job_started(self, job):
        seen.append(weakref.ref(job.job))  # the spec's job: each run builds its own


def runs(spec=sys.argv[2]):
    for out in ("r1", "r2"):
        pipeline.run(spec, out=out, progress="none", sinks=[Probe()])
        gc.collect()
        print([ref() is not None for ref in seen])


if sys.argv[1] == "command":  # the `qrun` command, its CLI replaced by the two runs
    import qrun.cli
    from qrun.__main__ import entry

    qrun.cli.entry = runs
    sys.argv = ["qrun", "list"]  # a command line that runs no job: the command goes on in this process, unforked
    entry()
else:
    runs()
"""


@pytest.mark.parametrize(
    ("process", "alive"), [("command", "[True]\n[False, True]"), ("library", "[False]\n[False, False]")]
)
def test_the_command_leaves_its_last_runs_objects_to_its_exit_and_a_library_caller_frees_them(tmp_path, process, alive):
    """The `qrun` command ends in os._exit: the objects of its last run (its plan among them) are left to the exit,
    not freed one by one as the run returns; a run before it in the same command is freed as usual, so the command
    holds one run's memory at most. A library caller's runs are freed as they return."""
    import subprocess
    import sys

    from conftest import EXPERIMENTS

    spec = str(EXPERIMENTS / "bell.yaml")
    done = subprocess.run([sys.executable, "-c", LEFT, process, spec], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # after each run: whether the first run's job, then the second's, is still in memory
    assert done.stdout.strip() == alive
