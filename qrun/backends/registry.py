"""The backend kinds qrun knows, asked in order which one a spec's `backend:` name is. A new kind is one file in
backends/ and a line here: see docs/contributing.md."""

from __future__ import annotations

from .aer import Aer
from .fake import Fake
from .ibm import Service
from .kind import BackendKind

KINDS: list[BackendKind] = [Aer(), Fake(), Service()]  # the service last: it takes every name the others do not


def kind_for(name: str) -> BackendKind:
    """The kind of the backend a spec names."""
    return next(kind for kind in KINDS if kind.claims(name))


def traits(kind: str) -> BackendKind:
    """A kind by its name (a plan's backend_kind)."""
    return next(k for k in KINDS if k.name == kind)
