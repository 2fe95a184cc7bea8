"""One submission's pieces: its tags, PUB padding, a local session, a batched job's share, quiet calls."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from qiskit.primitives import PrimitiveResult
    from qiskit_ibm_runtime import RuntimeJobV2

    from ..backends.kind import OpenSession
    from ..jobs.kind import RuntimeJob


from ..backends.registry import traits
from ..model.plan import JobPlan, Plan


def stream_of(job: JobPlan) -> str:
    """The name a job's seeds are drawn under: a multirun's points are runs of their own (point 0 as a single run)."""
    return job.name if not job.run_key else f"{job.run_key}/{job.name}"


JOB_TAG = "qrun-job:"  # + the job's stream, "#", and which of its submissions: what resume adopts by
PUBS_TAG = "qrun-pubs:"  # + how many jobs a PUB-batched runtime job holds, from the tagged one on


def submission_tags(stream: str, k: int, pubs: int = 1) -> list[str]:
    """The tags naming one submission on the service: the k-th runtime job of a job's stream (and, for a PUB-batched
    runtime job, how many consecutive jobs it carries). A resume finds a job the service accepted before its id
    reached the journal by these, and reads it back instead of paying for it again."""
    return [f"{JOB_TAG}{stream}#{k}"] + ([f"{PUBS_TAG}{pubs}"] if pubs > 1 else [])


def padded(pub: tuple, length: int = 3) -> tuple:
    """A PUB with its parameter slot filled (None when the circuit has none), so a precision or shots can follow."""
    return pub + (None,) * (length - len(pub))


def quietly(call: Callable[[], object]) -> None:
    try:
        call()
    except Exception:  # closing is best effort: the service closes a session at max_time in any case
        pass


def metrics(handle: object) -> dict[str, object]:
    if not hasattr(handle, "metrics"):
        return {}
    try:
        return handle.metrics() or {}
    except Exception:
        return {}


def cancel(handle: RuntimeJob) -> None:
    try:
        handle.cancel()
    except Exception:  # a local job may have finished, or not support cancel(); either way nothing is queued
        pass


def distinct(caught: list[warnings.WarningMessage]) -> list[str]:
    """Each distinct warning once, with how often it came: "UserWarning: ... (x21)"."""
    counts: dict[str, int] = {}
    for w in caught:
        if issubclass(w.category, DeprecationWarning):
            continue  # about library internals, not about this experiment
        key = f"{w.category.__name__}: {' '.join(str(w.message).split())}"
        counts[key] = counts.get(key, 0) + 1
    return [f"{text} (x{n})" if n > 1 else text for text, n in counts.items()]


def open_session(plan: Plan, mode: str) -> OpenSession:
    """A session (or batch) for a block of jobs, as the plan's backend kind opens one."""
    return traits(plan.backend_kind).open_session(plan.device, mode, plan.max_time)


class OnePub:
    """One job's share of a PUB-batched runtime job, read back on resume: its own PUB's result, as though it had
    run alone. The batch's result is downloaded once for all its jobs (`results`, by runtime job id). Its usage
    and metrics go with the job of PUB 0 only, as when the batch ran, so the batch is not counted once per job."""

    def __init__(self, handle: RuntimeJobV2, index: int, results: dict[str, PrimitiveResult]):
        self.handle, self.index, self.results = handle, index, results
        if index == 0:
            self.metrics, self.usage = handle.metrics, handle.usage

    def job_id(self) -> str:
        return str(self.handle.job_id())

    def status(self) -> object:
        return self.handle.status()

    def cancel(self) -> None:
        self.handle.cancel()

    def result(self) -> PrimitiveResult:
        from qiskit.primitives import PrimitiveResult

        key = self.job_id()
        if key not in self.results:
            self.results[key] = self.handle.result()
        whole = self.results[key]
        return PrimitiveResult([whole[self.index]], metadata=whole.metadata)
