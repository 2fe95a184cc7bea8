"""Resume's reconciliation with the service: adopt each runtime job of the run that the service has but the journal
never recorded, so a resume reads it back instead of paying for it twice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..backends.service import sentence
from ..errors import ServiceError
from ..model.plan import JobPlan
from ..model.records import Finished
from .submission import JOB_TAG, PUBS_TAG, stream_of

if TYPE_CHECKING:
    from qiskit_ibm_runtime import QiskitRuntimeService, RuntimeJobV2

_NAMED = re.compile(re.escape(JOB_TAG) + r"(?P<stream>.+)#(?P<k>\d+)\Z")


@dataclass(frozen=True)
class Found:
    """A runtime job of this run on the service: which submission of which job it is, and how many jobs it holds."""

    job_id: str
    stream: str
    k: int
    pubs: int


def listed(service: QiskitRuntimeService, run_tag: str, session_ids: list[str]) -> list[RuntimeJobV2]:
    """Every runtime job the service holds for this run: those carrying its tag, and those in the sessions its
    earlier attempts opened. A listing that fails stops the resume: submitting blind could pay twice."""
    found: dict[str, object] = {}
    queries: list[dict[str, object]] = [{"job_tags": [run_tag]}]
    queries += [{"session_id": s} for s in session_ids]
    for query in queries:
        try:
            for handle in service.jobs(limit=None, **query):
                found.setdefault(str(handle.job_id()), handle)
        except Exception as e:  # the runtime raises several types here; all mean the listing is unknown
            raise ServiceError(
                f"--resume: cannot list this run's jobs on the service ({sentence(e)}); nothing was submitted, so "
                "no job is paid for twice: try again"
            ) from None
    return list(found.values())


def candidates(handles: list[RuntimeJobV2], known: set[str]) -> list[Found]:
    """The service's jobs the journal does not know, named by qrun's tags, that finished well or may still: a
    failed or cancelled one has nothing to adopt (its job is submitted again)."""
    out = []
    for handle in handles:
        job_id = str(handle.job_id())
        if job_id in known:
            continue
        tags = list(getattr(handle, "tags", None) or [])
        named = [m for m in (_NAMED.match(t) for t in tags) if m]
        if not named:
            continue  # not one of qrun's submissions (or from a qrun that did not name them)
        try:
            state = handle.status()  # one REST call per job
            status = str(getattr(state, "name", state)).upper()
        except Exception:
            continue
        if status.startswith(("ERROR", "CANCELLED", "FAILED")):
            continue
        pubs = next(
            (int(t[len(PUBS_TAG) :]) for t in tags if t.startswith(PUBS_TAG) and t[len(PUBS_TAG) :].isdigit()), 1
        )
        out.append(Found(job_id, named[0]["stream"], int(named[0]["k"]), pubs))
    return out


def adopt(
    jobs: list[JobPlan],
    found: list[Found],
    finished: Finished,
    pending: dict[str, list[str]],
    batched: dict[str, tuple[str, int]],
) -> list[str]:
    """Add each found job to `pending` (and `batched`) where the resumed run will reach it: the k-th submission of
    a job follows the k recorded before it. Returns the adopted ids."""
    position = {stream_of(j): i for i, j in enumerate(jobs)}
    adopted = []
    for f in sorted((f for f in found if f.stream in position), key=lambda f: (position[f.stream], f.k)):
        at = position[f.stream]
        head = jobs[at]
        if head.name in finished or len(pending.get(head.name, [])) != f.k:
            continue
        if f.pubs > 1:
            members = jobs[at : at + f.pubs]
            if len(members) < f.pubs or any(m.name in finished or pending.get(m.name) for m in members):
                continue
            for i, member in enumerate(members):
                pending[member.name] = [f.job_id]
                batched[member.name] = (f.job_id, i)
        else:
            pending.setdefault(head.name, []).append(f.job_id)
        adopted.append(f.job_id)
    return adopted
