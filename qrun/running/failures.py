"""A failed job's reason as its record and the run's error give it: the library's exception on one line, redacted,
with what to change where qrun knows the cause."""

from __future__ import annotations

from ..backends.service import redact
from ..errors import ServiceJobError

# Exceptions of the runtime's client-side mitigation whose own words name its internals, by type name: what a user can
# change. samplomatic builds the twirled circuits; it cannot yet carry measurement twirling past a measurement that a
# two-qubit gate on its qubit follows.
HINTS = {
    "SamplexBuildError": (
        "the runtime's twirling could not be built around this circuit, as for a two-qubit gate after a mid-circuit "
        "measurement on its qubit: run the job at resilience_level: 0 (measurement mitigation twirls), without "
        "twirling"
    ),
}


def failure(e: BaseException) -> str:
    """`e` as one redacted line: a service job's own error as the service gave it, anything else with its type and,
    where HINTS knows it, what to change."""
    text = " ".join(str(e).split())
    if isinstance(e, ServiceJobError):
        return redact(text)
    hint = HINTS.get(type(e).__name__)
    return redact(f"{type(e).__name__}: {text}" + (f" ({hint})" if hint else ""))
