"""Reopening an interrupted run's folder: which jobs it finished, and every trace of the others removed."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import RunFolderError
from ..model.outcomes import FINISHED
from . import runfolder
from .jobfile import stored_optimum
from .journal import drop_partial_line
from .reader import Batches, read_job_body

if TYPE_CHECKING:
    from pathlib import Path

    from ..model.plan import JobPlan, Plan
    from ..model.records import Finished, JobEntry, RunMetadata


def keep_finished(
    run_dir: Path, plan: Plan, metadata: RunMetadata, fresh_entry: Callable[[JobPlan], JobEntry]
) -> tuple[Finished, int]:
    """Keep each finished job of `metadata` (its optimum, for a later job's `from:`), reset every other entry as
    fresh_entry makes it, and remove what an unfinished job left: its files, temp files of writes a kill cut short,
    and batch files no finished job is in. Returns the finished jobs and how many runtime jobs they submitted."""
    fresh = [fresh_entry(j) for j in plan.jobs]
    # a job stored in a batch file names that file; any other names the file the plan gives it
    if len(fresh) != len(metadata["jobs"]) or not all(
        old["name"] == new["name"] and (old["file"] == new["file"] or old["file"].endswith(".batch.npz"))
        for old, new in zip(metadata["jobs"], fresh)
    ):
        raise RunFolderError(
            f"{run_dir / 'metadata.json'}: its jobs are not the spec's jobs; the run folder is damaged"
        )
    # Every path written or removed below is the plan's own, checked to stay inside with no symlink on the way.
    runfolder.member(run_dir, "jobs/x")
    drop_partial_line(run_dir)  # so this attempt's lines start on a line of their own
    for folder in (run_dir, run_dir / "jobs"):  # temp files of writes a kill cut short; never renamed, never read
        for stale in folder.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
    finished: Finished = {}
    submissions = 0
    kept: set[str] = set()
    batches: Batches = {}
    # what the jobs folder holds, listed once: an unfinished job's files are looked for here, not one by one (three
    # paths checked and removed for each of thousands of unrun jobs took longer than reading the finished ones)
    present = {f"jobs/{name}" for name in os.listdir(run_dir / "jobs")} if (run_dir / "jobs").is_dir() else set()
    for j, entry in zip(plan.jobs, metadata["jobs"]):
        # a job the metadata has not finished is run again, whatever its file says: it is not read
        body = read_job_body(run_dir, entry, batches) if entry["status"] in FINISHED else None
        if body is not None and body.get("status") in FINISHED:
            finished[j.name] = stored_optimum(run_dir / entry["file"], j, body)
            submissions += len(entry.get("job_ids") or [])
            kept.add(entry["file"])
            continue
        names = [f"jobs/{j.file_stem}.csv", f"jobs/{j.file_stem}.points.jsonl"]
        for name in [entry["file"], *names] if entry["file"].endswith(".json") else names:
            if name in present:
                runfolder.member(run_dir, name).unlink(missing_ok=True)
        new = fresh_entry(j)
        new["estimate"], new["estimate_source"] = entry.get("estimate"), entry.get("estimate_source")
        entry.pop("row", None)
        entry.update(new)  # as new, but for the estimate the run began with
    # a batch file written just before a kill, whose jobs the journal never marked done, is run again
    for batch in (run_dir / "jobs").glob("*.batch.npz"):
        if f"jobs/{batch.name}" not in kept:
            runfolder.member(run_dir, f"jobs/{batch.name}").unlink(missing_ok=True)
    return finished, submissions
