"""The stages wired together: load -> validate -> plan -> execute -> results."""

from __future__ import annotations

import dataclasses
import gc
import os
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .. import collector
from ..backends import service as ibm
from ..errors import Interrupted, ResultsError, RunError, UsageError
from ..model.findings import first_of
from ..model.outcomes import FINISHED
from ..model.records import Carried, Finished, RunMetadata
from ..model.words import counted
from ..running.clock import SYSTEM, Clock
from ..running.events import Fanout, Sink
from ..sources import pysource
from ..spec import Spec, differences, load
from ..spec.diff import said_once
from ..spec.marks import read_yaml
from ..store import learned
from ..store.journal import read_metadata
from ..store.provenance import sha256
from ..store.reader import latest_run
from ..store.reader import load as load_run
from ..store.specfile import read_spec, read_spec_text
from ..store.writer import RunWriter
from ..views.progress import reporter_for
from . import multirun
from .lock import RunLock, stop_on_signals
from .prepare import Prepared, plan_errors, prepare
from .watchdog import Deadline

if TYPE_CHECKING:
    from ..model.plan import Plan
    from ..running.cluster import Cluster
    from ..running.runner import Runner
    from ..views.progress import Reporter


def run(
    path: str | Path,
    out: str | Path = "results",
    *,
    overrides: dict[str, object] | None = None,
    vars_files: list[str] | None = None,
    progress: str = "auto",
    estimates: str = "learned",
    resume: str | Path | None = None,
    use_cache: bool = True,
    cluster: Cluster | None = None,
    point: int = 0,
    clock: Clock = SYSTEM,
    sinks: Sequence[Sink] = (),
) -> Path:
    """Run the spec at `path`; returns the run folder. Raises RunError (its files kept) when a job fails.
    `cluster` (cluster.Cluster) sends local simulation through Dask. `point`: the index of the multirun point being
    resumed alone, so its jobs draw the seeds they drew in the group. `clock`: where the runner reads the time and
    waits. `sinks` see every event after the run folder has it (a test's fault injection).

    resume: a run folder to continue, or "latest" for the newest run of this spec under `out`.
    progress: "auto" (live display on a terminal, else lines), "lines" (one plain line per event), "quiet" (warnings
    only) or "none".
    """
    from ..running.runner import Runner  # numpy and qiskit: imported when a run starts, not by validate

    if resume is not None and not overrides and not vars_files:
        overrides = saved_settings(path, out, resume)  # nothing to retype: the run's own variables and overrides
    prepared = prepare(path, overrides, vars_files, estimates, out, use_cache=use_cache)
    if point:
        jobs = [dataclasses.replace(j, run_key=point) for j in prepared.planned.jobs]
        prepared.plan = dataclasses.replace(prepared.planned, jobs=jobs)
    reporter = reporter_for(prepared.planned, progress)
    for warning in prepared.warnings:
        reporter.warn(str(warning))
    writer = RunWriter(Path(out), prepared.spec, prepared.planned)
    lock = None
    if resume is None:
        run_dir = writer.open()
        lock = RunLock(run_dir)
        carried: Carried = {}
    else:
        found = latest_run(Path(out), prepared.planned.name) if resume == "latest" else Path(resume)
        if found is None:
            raise UsageError(f"--resume: no earlier run of '{prepared.planned.name}' under {out}")
        run_dir = found
        if not os.path.isfile(run_dir / "metadata.json"):  # (Path.is_file raised on a name too long for one)
            raise UsageError(f"--resume {run_dir}: not a qrun run folder (no metadata.json)")
        lock = RunLock(run_dir)  # before reading its state: another qrun may be finishing it right now
        try:
            try:
                # every file checked before anything changes; only the metadata is kept (not every job's body,
                # for the rest of the run)
                previous = load_run(run_dir).metadata
            except ResultsError as e:
                raise UsageError(f"--resume: {e}") from None
            refuse_changed_spec(run_dir, prepared.spec, previous)
            if previous["status"] == "completed":
                lock.release()
                reporter.say(f"qrun: {run_dir} already completed; nothing to resume")
                return run_dir
            carried = writer.reopen(run_dir)
            if prepared.service is not None:
                _carry_from_service(prepared, previous, run_dir, carried, reporter)
        except BaseException:  # a folder refused, a changed spec, the service down: the next attempt may take it
            lock.release()
            raise
        reporter.say(f"qrun: resuming {run_dir}: {counted(len(carried['finished']), 'finished job')} kept")
    # the writer first: every other sink sees an event only once it is in the run folder
    fanout = Fanout([writer, *sinks, reporter, Deadline(prepared.planned)])
    runner = Runner(
        prepared.planned, fanout, cluster=cluster, tags=run_tags(run_dir, prepared.spec), clock=clock, **carried
    )
    try:
        _drive(runner, [(writer, prepared.checked.experiment.derived)], run_dir)
    finally:
        lock.release()
    collector.keep(prepared, writer, runner, fanout)  # the command exits next: its exit frees them
    return run_dir


def _carry_from_service(
    prepared: Prepared, previous: RunMetadata, run_dir: Path, carried: Carried, reporter: Reporter
) -> None:
    """A service run's resume: what its earlier attempts submitted (read back by id, never paid for twice), the
    jobs the service accepted but the journal never recorded (adopted), and its old sessions closed."""
    # Jobs submitted but never read back may have finished on the service: fetch them by id.
    carried["pending"] = pending_ids(previous, carried["finished"])
    carried["batched"] = batched_pubs(previous, carried["finished"])
    service = prepared.service
    assert service is not None  # only a run on the service comes here
    carried["fetch"] = service.job
    sessions = list(
        dict.fromkeys(
            (session_id, s.get("mode") == "batch")
            for a in previous.get("attempts") or []
            for s in [*(a.get("sessions") or []), a.get("session") or {}]
            if (session_id := s.get("session_id"))
        )
    )

    from ..running import reconcile  # numpy, through the submission records: only a resume on a service needs it

    known = {i for j in previous["jobs"] for i in j.get("job_ids") or []}
    listed = reconcile.listed(prepared.service, run_tags(run_dir, prepared.spec)[0], [s for s, _ in sessions])
    adopted = reconcile.adopt(
        prepared.planned.jobs,
        reconcile.candidates(listed, known),
        carried["finished"],
        carried["pending"],
        carried["batched"],
    )
    if adopted:
        reporter.warn(
            f"qrun: the service had {counted(len(adopted), 'runtime job')} of this run that it never recorded (it was "
            f"stopped between submitting and recording them); reading them back, not submitting again: "
            f"{', '.join(adopted)}"
        )
    # the killed attempt's session would stay open, accepting jobs (and a session bills its wall-clock
    # time): close it; what it still runs is read back by id above, and the rest goes into a new one
    for old, batch in sessions:
        ibm.close_session(prepared.service, old, batch)


def run_tags(run_dir: Path, spec: Spec) -> list[str]:
    """The tags each service job carries: the run folder's name and the spec's hash, so that the service itself can
    say which of its jobs belong to a run (its own record of them, if qrun's was lost)."""

    return [f"qrun-run:{run_dir.name}", f"qrun-spec:{sha256(spec.text)[:16]}"]


def _drive(runner: Runner, runs: list[tuple[RunWriter, Mapping[str, object]]], where: Path) -> None:
    """Run, and record how it ended in every run folder: completed (with its derived values), failed (why), or
    interrupted. `runs`: each run folder's writer and its spec's `derived:` block."""
    writers = [w for w, _ in runs]
    restore = stop_on_signals()
    # The spec, plan and modules loaded so far live until the run ends: frozen, the collector stops re-walking them
    # on every collection of a run's millions of small objects (a tenth of a 10,000-job run). Unfrozen after, so a
    # caller running many runs in one process still has their garbage collected.
    collector.release()  # `qrun` paused collection from its start until here (it freezes what exists, too)
    gc.freeze()
    try:
        runner.run()
    except RunError as e:
        for w in writers:
            _finish(w, "failed", str(e))
        e.run_dir = where
        raise
    except KeyboardInterrupt:
        for w in writers:
            _finish(w, "interrupted", "interrupted by the user")
        done = sum(e["status"] in FINISHED for w in writers if w.metadata for e in w.metadata["jobs"])
        kept = (
            f"{counted(done, 'finished job')} kept in {where}"
            if done
            else f"no job had finished; the run is in {where}"
        )
        raise Interrupted(f"interrupted; {kept}; qrun SPEC --resume {where} runs the rest") from None
    except OSError as e:  # the disk filled up or went read-only: record it where that is still possible
        for w in writers:
            _finish(w, "failed", (f"{e.filename}: " if e.filename else "") + str(e.strerror or e))
        raise
    except BaseException as e:
        for w in writers:
            _finish(w, "failed", f"{type(e).__name__}: {e}")
        raise
    else:
        for w, block in runs:
            w.finish("completed")
            if w.run_dir is not None:
                if block:
                    from ..store import derived  # expressions and their functions: only a spec with derived values

                    derived.record(w.run_dir, block, load_run(w.run_dir).jobs)
                learned.remember(w.run_dir, w.metadata)
    finally:
        gc.unfreeze()
        restore()


def saved_settings(path: str | Path, out: str | Path, resume: str | Path) -> dict[str, object]:
    """The template variables and dotted overrides a run was made with, read from its metadata."""
    folder: Path | None
    if resume == "latest":
        try:
            folder = latest_run(Path(out), load(path).data["name"])
        except Exception:  # the spec needs variables to render at all; then there is nothing to look up by name
            return {}
    else:
        folder = Path(resume)
    try:
        # the metadata alone: every job's file is checked once, by run(), before anything changes
        spec = read_metadata(folder).get("spec") or {} if folder is not None else {}
    except ResultsError:
        return {}
    return {**(spec.get("variables") or {}), **(spec.get("overrides") or {})}


def run_multirun(
    path: str | Path,
    grid: dict[str, list[object]],
    out: str | Path = "results",
    *,
    overrides: dict[str, object] | None = None,
    vars_files: list[str] | None = None,
    progress: str = "auto",
    estimates: str = "learned",
    use_cache: bool = True,
    clock: Clock = SYSTEM,
) -> Path:
    """Run every point of `grid` (template variable -> values) in ONE session; returns the group folder, which
    holds each point's run folder, multirun.csv and multirun.json."""
    from ..running.runner import Runner  # numpy and qiskit: imported when a run starts, not by validate

    chosen = multirun.points(grid)
    labels = multirun.labels(chosen)
    prepared = [
        multirun.at_point(
            p,
            partial(
                prepare,
                path,
                {**(overrides or {}), **p},
                vars_files,
                estimates,
                out,
                enforce_budget=False,
                use_cache=use_cache,
                swept=p,
            ),
        )
        for p in chosen
    ]
    for p in prepared:
        if p.planned.problems:
            plan_errors(p.spec, p.planned)
    members = multirun.by_backend(prepared)
    plans = [multirun.combine(prepared, labels, points) for points in members]
    for points, combined in zip(members, plans):
        if prepared[points[0]].service is not None:  # each point's prepare made the Open Plan check
            ibm.preflight(prepared[points[0]].service, combined.budget.total)
    folder = multirun.group_dir(Path(out), multirun.group_name([p.planned.name for p in prepared], Path(path).stem))
    writers = [RunWriter(Path(out), p.spec, p.planned) for p in prepared]
    multirun.write_manifest(folder, list(zip(chosen, labels)))
    # the group's lock holds its points: no resume of the group or a point runs while this does (one lock, not one
    # per point: a multirun of thousands of points would need as many descriptors)
    lock = RunLock(folder)
    try:
        for writer, name in zip(writers, labels):
            writer.open(folder / name)
        for k, (points, combined) in enumerate(zip(members, plans)):
            reporter = reporter_for(combined, progress)
            if k == 0:
                reporter.say(
                    f"qrun: multirun of {counted(len(chosen), 'point')} ({', '.join(grid)}) {_together(plans)}: {folder}"
                )
                for warning in dict.fromkeys(str(w) for p in prepared for w in p.warnings):  # as `qrun plan` says them
                    reporter.warn(warning)
            runner = Runner(
                combined,
                multirun.Router({i: writers[i] for i in points}, [reporter, Deadline(combined)]),
                tags=run_tags(folder, prepared[0].spec),
                clock=clock,
            )
            try:
                _drive(runner, [(writers[i], prepared[i].checked.experiment.derived) for i in points], folder)
            except BaseException as e:  # the next backends' points never start: say so in each of their folders
                status = "interrupted" if isinstance(e, Interrupted) else "failed"
                for later in (i for rest in members[k + 1 :] for i in rest):
                    _finish(writers[later], status, f"not run: the points on {combined.backend_name} ended first")
                raise
    finally:
        try:
            multirun.table(folder, [(p, w.run_dir) for p, w in zip(chosen, writers) if w.run_dir is not None])
        finally:
            lock.release()
    return folder


def _together(plans: list[Plan]) -> str:
    """How a multirun's points go out: "in one batch", "together" (several blocks), or each backend's in turn."""
    if len(plans) > 1:
        return "one backend after another: " + ", then ".join(f"{p.points_here} on {p.backend_name}" for p in plans)
    return f"in one {plans[0].mode}" if len(plans[0].blocks) <= 1 else "together"  # blocks: the next line says


def _finish(writer: RunWriter, status: str, error: str) -> None:
    """Mark the run as ended; if even that cannot be written, the first error is the one to report."""
    try:
        writer.finish(status, error)
    except OSError:
        pass


def pending_ids(metadata: RunMetadata, finished: Finished) -> dict[str, list[str]]:
    """The runtime job ids the last attempt submitted for each unfinished job, in order: one for an estimator or
    sampler job, one per group of a swept job, one per evaluation of a minimize job."""
    return {j["name"]: list(ids) for j in metadata["jobs"] if j["name"] not in finished and (ids := j.get("job_ids"))}


def batched_pubs(metadata: RunMetadata, finished: Finished) -> dict[str, tuple[str, int]]:
    """For each unfinished job that went out inside a PUB-batched runtime job: that job's id, and the job's PUB."""
    return {
        j["name"]: (batched["id"], batched["pub"])
        for j in metadata["jobs"]
        if (batched := j.get("batched")) and j["name"] not in finished
    }


def refuse_changed_spec(run_dir: Path, spec: Spec, metadata: RunMetadata | None = None) -> None:
    """Resuming with a different spec would mix two experiments in one folder: name what changed and stop."""
    saved, resolved = read_spec_text(run_dir), spec.resolved_text()
    changes = []
    if saved != resolved:  # the same text is the same spec: a 10,000-job spec is not parsed twice to say so
        before = read_spec(run_dir, saved)
        now = read_yaml("the resolved spec", resolved)  # through YAML too: both sides have the same types
        # max_time is each attempt's own session's budget, not the experiment: a run its deadline ended resumes with
        # more
        changes = [c for c in differences(before, now) if c.split(":")[0].split(" ")[0] != "max_time"]
    meta = metadata if metadata is not None else read_metadata(run_dir)
    recorded = (meta.get("spec") or {}).get("python") or {}
    if recorded:
        changes += pysource.changed(recorded, pysource.of_spec(spec.data, spec.base_dir))
    if not changes:
        return
    listed = first_of(said_once(changes), 5, "; ")
    raise UsageError(f"cannot resume {run_dir}: the spec changed since that run: {listed or 'comments or layout'}")
