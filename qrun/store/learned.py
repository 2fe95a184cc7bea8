"""What a finished run teaches later estimates, kept in the cache folder by the identity of its metadata.json.

A re-run of a spec learns each job's seconds per unit of work from the newest earlier run (reader.History). That
meant reading the earlier run's whole metadata.json, which grows with its jobs (benchmarks/RESULTS.md). Once a run
has ended, its metadata no longer changes, so the rates learned from it are kept as a small JSON file, named by the
SHA-256 of the run folder's path and its metadata.json's inode, size and modification time: a resumed or rewritten
run gets another name. A run still running (or killed before it could say) is read in full every time.

The folder is the user's own, as the parse cache's is (spec/parsecache.py, whose entry store this shares): an entry
changes only estimates, which the budget check and the run's deadline still bound. An entry that does not read is
a miss.
"""

from __future__ import annotations

import hashlib
import math
import os
from typing import TYPE_CHECKING

import orjson

from ..errors import RunFolderError
from ..model.records import seconds_each
from ..planning.cache import cache_dir
from ..spec import parsecache
from . import runfolder

if TYPE_CHECKING:
    from pathlib import Path

    from ..model.records import RunMetadata

FORMAT = 2  # bump when what an entry holds changes: older entries are then never read (2: batched jobs' shares)

Rates = dict[tuple[str, str], float]  # (job name, content hash) -> seconds per unit of work


def folder() -> Path:
    return cache_dir() / "learned"


def rates_of(run_dir: Path) -> Rates:
    """The seconds per unit of each job `run_dir` finished, by (name, content hash); empty for a folder being
    written, damaged or gone."""
    entry = _entry(run_dir)
    kept = _read(entry) if entry is not None else None
    if kept is not None:
        return kept
    try:
        meta = runfolder.read_json(run_dir, "metadata.json", runfolder.MAX_METADATA_BYTES)
    except RunFolderError:
        return {}  # a run folder being written, or damaged: learn nothing from it
    if not isinstance(meta, dict):
        return {}
    out = _rates(meta.get("jobs"))
    if entry is not None and meta.get("status") not in ("running", None):  # ended: its metadata is final
        _keep(entry, out)
    return out


def remember(run_dir: Path, metadata: RunMetadata) -> None:
    """Keep what a run that has just ended teaches, from the metadata it has just written: its re-run, the next
    thing most likely to read it, then reads this entry rather than the whole metadata.json."""
    entry = _entry(run_dir)
    if entry is not None and metadata["status"] != "running":
        _keep(entry, _rates(metadata["jobs"]))


def _entry(run_dir: Path) -> Path | None:
    """The cache entry for the run's metadata.json as it is now; None when it cannot be read."""
    try:
        stat = os.stat(run_dir / "metadata.json")
    except OSError:
        return None
    identity = f"{FORMAT}\0{run_dir.resolve()}\0{stat.st_ino}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return folder() / f"{hashlib.sha256(identity.encode('utf-8', 'surrogateescape')).hexdigest()}.json"


def _rates(jobs: object) -> Rates:
    """Each finished job's seconds per unit, first entry of a name and hash winning; unchecked (checking every
    earlier run's metadata would cost more than it teaches): only numbers are taken.

    A PUB-batched runtime job's jobs each record its whole time as their `actual`: each is taught its share
    (records.seconds_each; taught the whole, a re-run of 1,000 batched jobs was estimated at the batch size times
    what they took)."""
    listed = [job for job in jobs if isinstance(job, dict)] if isinstance(jobs, list) else []
    out: Rates = {}
    for job, seconds in zip(listed, seconds_each(listed), strict=True):
        if seconds and job.get("status") == "done":
            key = (str(job.get("name")), str(job.get("content_hash")))
            units = job.get("units")
            # number(units), inlined on this per-job path: a finite int or float, not True
            if isinstance(units, _NUMBERS) and units is not True and math.isfinite(units) and units and key not in out:
                out[key] = seconds / units
    return out


_NUMBERS = (int, float)  # the types orjson reads a number as


def _keep(entry: Path, rates: Rates) -> None:
    parsecache.write_entry(entry, orjson.dumps([[name, digest, rate] for (name, digest), rate in rates.items()]))


def _read(entry: Path) -> Rates | None:
    rows = parsecache.load_entry(entry)
    if not isinstance(rows, list):  # MISS, or not what this cache writes
        return None
    out: Rates = {}
    for row in rows:
        # [name, hash, finite rate] exactly, checked inline rather than by a call a row
        if type(row) is not list or len(row) != 3:
            return None
        name, digest, rate = row
        if type(name) is not str or type(digest) is not str or type(rate) not in _NUMBERS or not math.isfinite(rate):
            return None
        out[(name, digest)] = float(rate)
    return out
