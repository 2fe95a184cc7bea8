"""The job kinds qrun knows, by the `primitive:` name a spec gives them. A new kind is one file in jobs/ and a line here
(and its schema entry): see docs/contributing.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import JobKindError
from .estimator import Estimator
from .kind import JobKind
from .ladder import Ladder
from .minimize import Minimize
from .sampler import Sampler

if TYPE_CHECKING:
    from ..model.experiment import Job

KINDS: dict[str, JobKind] = {kind.name: kind for kind in (Estimator(), Sampler(), Minimize(), Ladder())}


def known(name: str) -> bool:
    return name in KINDS


def kind_of(name: str) -> JobKind:
    """The kind a job names. A spec's is checked by the schema; a stored job's is untrusted input."""
    try:
        return KINDS[name]
    except KeyError:
        raise JobKindError(f"unknown job kind {name!r}: this qrun knows {', '.join(KINDS)}") from None


def units(job: Job, num_parameters: int) -> int:
    """What one declared estimate counts: a loop's evaluations, a sweep's points, else the whole job (1)."""
    return kind_of(job.primitive).evaluations(job, num_parameters) * job.points


def declared(job: Job, num_parameters: int) -> float | None:
    """The declared estimate for the whole job in seconds, or None."""
    return None if job.estimate is None else float(job.estimate * units(job, num_parameters))
