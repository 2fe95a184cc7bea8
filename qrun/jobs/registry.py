"""The job kinds qrun knows, by the `primitive:` name a spec gives them. A new kind is one file in jobs/ and a line here
(and its schema entry): see docs/contributing.md."""

from __future__ import annotations

from ..errors import JobKindError
from .estimator import Estimator
from .kind import JobKind
from .ladder import Ladder
from .minimize import Minimize
from .sampler import Sampler

KINDS: dict[str, JobKind] = {kind.name: kind for kind in (Estimator(), Sampler(), Minimize(), Ladder())}


def known(name: str) -> bool:
    return name in KINDS


def kind_of(name: str) -> JobKind:
    """The kind a job names. A spec's is checked by the schema; a stored job's is untrusted input."""
    try:
        return KINDS[name]
    except KeyError:
        raise JobKindError(f"unknown job kind {name!r}: this qrun knows {', '.join(KINDS)}") from None
