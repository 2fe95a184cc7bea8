"""What a run records as it goes, typed where it is made: a session, a minimize loop's evaluations and optimum, and a
service job's usage. The run folder stores them as JSON; readers take them back as untrusted data (store/runfolder)."""

# Without `from __future__ import annotations`: a TypedDict turns each string annotation into a typing.ForwardRef,
# compiling it as the module is imported, on every command (benchmarks/RESULTS.md, "Patterns compiled where used").
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NotRequired, TypedDict

from .readings import number

if TYPE_CHECKING:
    from qiskit_ibm_runtime import RuntimeJobV2


class InstanceUsage(TypedDict):
    """The service instance's allocation as it reported it (service.usage()), in seconds, None where it gave none,
    and what a plan needs of it (what the pre-flight compared; None where no plan is asking: `qrun status`)."""

    consumed: float | None
    limit: float | None
    remaining: float | None
    needed: float | None


class SessionRecord(TypedDict, total=False):
    """One session or batch as qrun opened it: what was asked, what the service granted, and when it ran."""

    backend: str
    mode: str  # session or batch
    mode_reason: str
    block: int  # which block of a mode: auto plan (modes.blocks), and its jobs [start, stop)
    jobs: list[int]
    engine: str
    max_time: int
    session_id: str | None  # None in local mode: the runtime keeps no session there
    requested: str
    dask: dict[str, object]  # the cluster a sweep ran on (running/cluster.py)
    started: str | None
    deadline: str | None
    closed: str | None
    calibration: str | None  # a fake device's, once per run (backends/calibration.py)
    granted_max_time: int  # where the service granted less than max_time
    execution_seconds: float


class Evaluation(TypedDict):
    """One evaluation of a minimize loop: an estimator job at these parameters."""

    evaluation: int
    parameters: list[float]
    value: float
    stderr: float
    seconds: float


class Optimum(TypedDict):
    """Where a minimize loop ended, estimated again there unless the session had no time left."""

    parameters: list[float]
    value: float
    stderr: float
    final_evaluation: bool


class Usage(TypedDict):
    """A service job's usage from its metrics: quantum seconds, the QPU time charged once final, and the service's
    own estimate at submission beside it; or, where its metrics could not be read, why (status "unknown")."""

    job_id: str
    status: str  # final, pending or unknown
    quantum_seconds: NotRequired[float | None]
    qpu_charge_time_seconds: NotRequired[float | None]
    estimated_quantum_seconds: NotRequired[float | None]
    timestamps: NotRequired[dict[str, str] | None]
    error: NotRequired[str]
    calibration: NotRequired[str | None]  # the device's calibration when the job ran (backends/calibration.py)


class Batched(TypedDict):
    """Where a job went out inside a PUB-batched runtime job: that job's id and the job's PUB in it."""

    id: str
    pub: int


class JobEntry(TypedDict):
    """One job in metadata.json, as the writer keeps it and the journal replays it. Readers take it back checked
    against store/runfolder.METADATA_SCHEMA, which requires only the first four keys (an older qrun's runs)."""

    index: int
    name: str
    status: str  # pending, running, done, failed, interrupted, not run, ...
    file: str  # jobs/NN-name.json, or the batch file jobs/NN-name.batch.npz that holds it, inside the run folder
    row: NotRequired[int]  # the job's row in its batch file
    primitive: NotRequired[str]
    engine: NotRequired[str]
    content_hash: NotRequired[str | None]
    estimate_source: NotRequired[str | None]
    units: NotRequired[float | None]  # what `estimate` counts: a loop's evaluations, a sweep's points
    job_ids: NotRequired[list[str]]
    started: NotRequired[str | None]
    submitted: NotRequired[str | None]
    finished: NotRequired[str | None]
    attempt: NotRequired[int | None]
    estimate: NotRequired[float | None]
    actual: NotRequired[float | None]  # seconds the job took
    error: NotRequired[str | None]
    warnings: NotRequired[list[str]]
    simulated_qubits: NotRequired[list[int]]  # a fake device's physical qubits the job used
    usage: NotRequired[list[Usage] | None]
    batched: NotRequired[Batched | None]


class Submission(TypedDict):
    job: str
    id: str


class Attempt(TypedDict):
    """One process's attempt at the run: the first, then one per resume."""

    status: str  # running, done, failed, interrupted, died (killed before it could say)
    attempt: NotRequired[int]
    pid: NotRequired[int]
    started: NotRequired[str]
    ended: NotRequired[str | None]
    session: NotRequired[SessionRecord | None]
    sessions: NotRequired[list[SessionRecord]]
    submissions: NotRequired[list[Submission]]


class SpecRecord(TypedDict, total=False):
    """Which spec a run ran: its file, its hash, the variables and overrides it was given, and the code's state."""

    file: str | None
    sha256: str
    variables: dict[str, object]
    overrides: dict[str, object]
    git: dict[str, object] | None
    python: dict[str, object]


class RunMetadata(TypedDict):
    """metadata.json: the run's one summary, which the journal's lines bring up to date (store/journal.py)."""

    name: str
    status: str
    jobs: list[JobEntry]
    attempts: list[Attempt]
    format: NotRequired[int]
    error: NotRequired[str | None]
    journal: NotRequired[int]  # how many journal lines it already holds
    session: NotRequired[SessionRecord | None]
    spec: NotRequired[SpecRecord]
    usage_estimates: NotRequired[dict[str, object] | None]
    versions: NotRequired[dict[str, str | None]]


class LearnedRate(TypedDict):
    """What an earlier run of a job with the same content hash teaches its estimate (store/reader.History)."""

    per_unit: float  # seconds per unit of the job's work (units: a loop's evaluations, a sweep's points)
    run: str  # the run folder it was learned from


Finished = dict[str, list[float] | None]  # the jobs a resumed run keeps, by name: a minimize job's optimum, else None


class Carried(TypedDict, total=False):
    """What a resumed run hands its runner (store/writer.RunWriter.reopen, then the service's read-back in
    app/pipeline): the jobs it keeps, the submissions so far, and the runtime jobs to read back instead of paying
    for them again (`fetch` gets one by id from the service)."""

    finished: Finished
    submissions: int
    pending: dict[str, list[str]]
    batched: dict[str, tuple[str, int]]
    fetch: Callable[[str], "RuntimeJobV2"]


def seconds_each(jobs: Sequence[object]) -> list[float | None]:
    """Each job's own seconds (shares() without the batches)."""
    return shares(jobs)[0]


def shares(jobs: Sequence[object]) -> tuple[list[float | None], list[str | None]]:
    """Each job's own seconds, and the PUB-batched runtime job it went out in (batch_of). A job's own seconds are
    its `actual`, or for a job of a PUB-batched runtime job (each of whose jobs records that runtime job's whole time)
    its share, that time over the jobs the runtime job carried; None where a job has no time. Entries are read as
    untrusted dicts: a stored run's metadata, or an earlier qrun's."""
    batches = [batch_of(job) for job in jobs]
    carried = Counter(batches)
    seconds: list[float | None] = []
    for job, batch in zip(jobs, batches, strict=True):
        actual = number(job.get("actual")) if isinstance(job, dict) else None
        seconds.append(None if actual is None else actual / (carried[batch] if batch is not None else 1))
    return seconds, batches


def batch_of(job: object) -> str | None:
    """The id of the PUB-batched runtime job a job went out in, as its metadata entry records it; None if alone."""
    batched = job.get("batched") if isinstance(job, dict) else None
    batch = batched.get("id") if isinstance(batched, dict) else None
    return batch if isinstance(batch, str) else None
