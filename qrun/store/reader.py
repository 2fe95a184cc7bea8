"""Reading stored runs back: load() and Run, job files and the saved spec, the newest run, learned history."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..errors import ResultsError, RunFolderError
from ..model.findings import first_of
from ..model.jobfile import JobFile
from ..model.records import JobEntry, LearnedRate, RunMetadata
from ..model.rows import HEAD, elided, tally
from . import batchfile, learned, records, runfolder
from .catalog import Found, discover, runs_of
from .journal import JOURNAL, read_metadata

if TYPE_CHECKING:
    from collections.abc import Iterable

    from qiskit.primitives import PrimitiveResult


def read_job_body(run_dir: Path, entry: JobEntry, batches: Batches | None = None) -> JobFile | None:
    """A job's file, or its row of a batch file (None while it has none), type-checked; RunFolderError when it is
    damaged. `batches`: the batch file a pass over many jobs read last, by name, read again only for another file."""
    if entry["file"].endswith(".npz"):
        batch = _batch_of(run_dir, entry, batches)
        if batch is None:
            return None
        row = entry.get("row")
        assert isinstance(row, int)  # _batch_of checked it
        return runfolder.check_job_body(run_dir / f"{entry['file']}[{row}]", batch.body(row))
    body = runfolder.read_json(run_dir, entry["file"], runfolder.MAX_JOB_FILE_BYTES, missing_ok=True)
    return None if body is None else runfolder.check_job_body(run_dir / entry["file"], body)


# A pass over a run's jobs reads each batch file once, for its jobs in a row: finding it again for each of them (its
# path checked inside the folder, then stat) took longer than parsing it (benchmarks/RESULTS.md).
Batches = dict[str, "batchfile.Batch | None"]


def _batch_of(run_dir: Path, entry: JobEntry, batches: Batches | None = None) -> batchfile.Batch | None:
    """The batch file holding a job (None while there is none), its row checked."""
    if not isinstance(entry.get("row"), int):
        raise RunFolderError(
            f"{run_dir / 'metadata.json'}: job '{entry['name']}' is stored in {entry['file']} but names no row of it; "
            "the run folder is damaged"
        )
    if batches is None:
        return batchfile.read(run_dir, entry["file"])
    if entry["file"] not in batches:
        batches.clear()  # a batch's jobs come one after another: one batch file held at a time, not all of them
        batches[entry["file"]] = batchfile.read(run_dir, entry["file"])
    return batches[entry["file"]]


def state_digest(run_dir: Path) -> str:
    """A digest of everything a run folder has recorded: its metadata, journal and saved spec. A job's own file is
    written once, when the journal records it done, so any change to the run changes this."""
    digest = hashlib.sha256()
    for name in ("metadata.json", JOURNAL, "spec.yaml"):
        data = runfolder.read_bytes(run_dir, name, runfolder.MAX_METADATA_BYTES, missing_ok=True) or b""
        digest.update(b"%d:" % len(data))
        digest.update(data)
    return digest.hexdigest()


def latest_run(root: Path, name: str) -> Path | None:
    """The newest run folder of spec `name` under `root`."""
    folder = root / name
    runs = [p for p in folder.iterdir() if (p / "metadata.json").exists()] if folder.is_dir() else []
    return _last_begun(runs, lambda p: p)


def newest_run(root: Path) -> Found | None:
    """The run under `root` that began last (of a multirun, its last point); None where there is none."""
    return _last_begun(discover(root), lambda f: f.path, lambda f: (f.group or f.path).name)


def previous_run(run_dir: Path) -> Path | None:
    """The run of the same spec that began last before `run_dir` (a plain run folder: its siblings in the spec's
    folder); None where it is the first."""
    mine = run_dir.name[:16]
    began: dict[Path, str] = {}  # each metadata read once, for runs begun in run_dir's second only

    def when(p: Path) -> str:
        if p not in began:
            began[p] = _began(p)
        return began[p]

    before = []
    for p in run_dir.parent.iterdir():
        if p == run_dir or p.name.startswith("multirun-") or not (p / "metadata.json").is_file():
            continue
        if p.name[:16] > mine or (p.name[:16] == mine and when(p) >= when(run_dir)):
            continue  # begun after it (in the same second, as its metadata says)
        before.append(p)
    return _last_begun(before, lambda p: p, began=when)


T = TypeVar("T")


def _last_begun(
    items: list[T],
    path: Callable[[T], Path],
    name: Callable[[T], str] | None = None,
    began: Callable[[Path], str] | None = None,
) -> T | None:
    """The item whose run began last. A run folder's name gives the second it began (a multirun point's: its
    group's); among runs begun in that same second, which their random ids order by chance, their metadata gives the
    millisecond (read only for those); the later in `items` wins a tie."""

    def second(item: T) -> str:
        return (name(item) if name is not None else path(item).name).removeprefix("multirun-")[:16]

    last = max((second(item) for item in items), default=None)
    tied = [(k, item) for k, item in enumerate(items) if second(item) == last]
    if len(tied) <= 1:
        return tied[0][1] if tied else None
    when = began or _began
    return max(tied, key=lambda kv: (when(path(kv[1])), kv[0]))[1]


def _began(run_dir: Path) -> str:
    """When the run asked for its session, to the millisecond ("" where its metadata does not say)."""
    try:
        meta = read_metadata(run_dir)
    except RunFolderError:
        return ""
    return str((meta.get("session") or {}).get("requested") or "")


class History:
    """Learned estimates: per (job name, content hash), the newest finished run's seconds per unit of work.

    Runs are read newest first, and only as far as a lookup needs: a rerun of an unchanged spec reads one
    metadata.json however many runs its folder holds. Reading them all up front cost seconds and tens of MiB (benchmarks/RESULTS.md) in a folder
    of ten 10,000-job runs, on every run of a ten-job spec. A key no run has (a new or changed job) reads the rest
    once."""

    def __init__(self, root: Path, name: str):

        # folder names start with the UTC time: the newest is last, and read first; a multirun's points count
        self._unread = runs_of(root, name)
        self._learned: dict[tuple[str, str], LearnedRate] = {}

    def __bool__(self) -> bool:
        """Whether there is anything to learn from: a spec never run here has nothing, and needs no lookups."""
        return bool(self._learned or self._unread)

    def get(self, key: tuple[str, str]) -> LearnedRate | None:
        while key not in self._learned and self._unread:
            self._learn(self._unread.pop())
        return self._learned.get(key)

    def _learn(self, run_dir: Path) -> None:
        for key, per_unit in learned.rates_of(run_dir).items():  # from the cache once the run has ended
            if key not in self._learned:
                self._learned[key] = {"per_unit": per_unit, "run": run_dir.name}


@dataclass(repr=False)  # the generated repr printed all of metadata.json and every job's body (benchmarks/RESULTS.md)
class Run:
    """A finished run read back: its metadata and, per job, the plain JSON and the qiskit PrimitiveResult."""

    path: Path
    metadata: RunMetadata
    jobs: dict[str, JobFile]

    def result(self, job: str) -> PrimitiveResult:
        """The job's qiskit PrimitiveResult: decoded from the runtime's own encoding in its file, or rebuilt from its
        row of a batch file."""
        body = self._body(job)
        entry = self._entries.get(job)
        if "primitive_result" not in body and entry is not None and entry["file"].endswith(".npz"):
            batch = _batch_of(self.path, entry)
            if batch is None:
                raise ResultsError(f"{self.path / entry['file']}: is missing; the run folder is damaged")
            return batch.result(entry.get("row", 0))
        if "primitive_result" not in body:
            raise ResultsError(
                f"job '{job}' streamed its {body.get('point_count', 0):,} sweep points to "
                f"jobs/{body.get('points_file')}: it keeps no single PrimitiveResult; run.points('{job}') reads them"
            )
        return records.from_runtime_json(body["primitive_result"], f"{self.path}: job '{job}'")

    @cached_property
    def derived(self) -> dict[str, dict[str, object]]:
        """The spec's derived values: {name: {expression, value, stderr, exact}}, or {expression, error} where one
        cannot be computed; as the run's derived.json holds them, or, before the run has completed, computed from
        the jobs it finished."""
        from .derived import values_of  # expressions and their functions: only where a script asks

        return values_of(self.path, self.jobs)

    @cached_property
    def _entries(self) -> dict[str, JobEntry]:
        return {e["name"]: e for e in self.metadata["jobs"]}

    def points(self, job: str) -> list[dict[str, object]]:
        """A swept job's points, each with its variables and value/stderr (or counts), inline or streamed."""
        return records.stored_points(self.path, self._body(job))

    def _body(self, job: str) -> JobFile:
        if job not in self.jobs:
            raise ResultsError(f"{self.path}: no finished job '{job}' (finished: {', '.join(self.jobs) or 'none'})")
        return self.jobs[job]

    def __repr__(self) -> str:
        """One line, for a console: the run's name and status, how many jobs are in each state, and its folder."""
        jobs = self.metadata.get("jobs", [])
        states = tally(str(e["status"]) for e in jobs) or "no jobs"
        return f"<qrun.Run {self.metadata.get('name')!r} {runfolder.status_now(self.path, self.metadata)}: {states}; {self.path}>"

    def _repr_html_(self) -> str:
        """The run as an HTML table, for Jupyter: each job's kind, status and result; a run of many jobs its first
        and last, as `qrun show` lists them (every job is in `jobs` and `metadata`)."""
        import html

        shown, left_out = elided(self.metadata.get("jobs", []))
        rows = [
            f"<tr><td>{html.escape(str(e['name']))}</td><td>{html.escape(str(e['primitive']))}</td>"
            f"<td>{html.escape(str(e['status']))}</td><td>"
            + html.escape(records.result_text(self.jobs[e["name"]]) if e["name"] in self.jobs else "-")
            + "</td></tr>"
            for e in shown
        ]
        if left_out:
            rows.insert(
                HEAD, f'<tr><td colspan="4">… {left_out:,} more jobs: every one is in run.metadata["jobs"]</td></tr>'
            )
        status = runfolder.status_now(self.path, self.metadata)  # as the views show it: "died" where no qrun holds it
        title = html.escape(f"{self.metadata.get('name')}: {status} ({self.path.name})")
        return (
            f"<table><caption>{title}</caption><tr><th>job</th><th>kind</th><th>status</th><th>result</th></tr>"
            f"{''.join(rows)}</table>"
        )


def load(run_dir: str | Path, pick: Callable[[list[JobEntry]], Iterable[JobEntry]] | None = None) -> Run:
    """Read a run folder back; RunFolderError (exit 2) names the file and the problem if it is damaged. A job
    without a file is left out (that job did not finish). `pick`: the entries whose files are read, of the
    metadata's (a view that shows a few of many jobs; the rest are left out of `jobs` too)."""
    path = Path(run_dir)
    try:
        meta = read_metadata(path)
    except RunFolderError:
        # a spec's folder (results/vqe-h2) or a results root: say which run to name; a damaged run: the reader's error
        found = None if (path / "metadata.json").exists() else newest_run(path)
        if found is None:
            raise
        if found.group is not None and found.group.resolve() == path.resolve():
            # a group's points are side by side, not a run's history: its "newest" is only the last one run
            names = [f.path.name for f in discover(path)]
            raise RunFolderError(
                f"{path}: a multirun group, not a run: name one of its points ({path}/POINT; its points: "
                f"{first_of(names)})"
            ) from None
        raise RunFolderError(f"{path}: a folder of runs, not a run; the newest of them is {found.path}") from None
    jobs = {}
    batches: Batches = {}
    for entry in meta["jobs"] if pick is None else pick(meta["jobs"]):
        body = read_job_body(path, entry, batches)
        if body is not None:
            jobs[entry["name"]] = body
    return Run(path, meta, jobs)
