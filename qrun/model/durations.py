"""Strict parsing and formatting of durations such as "2h 30m 40s", and UTC timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ..errors import DurationError

UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
MAX_SECONDS = 30 * 86400  # no session or job is longer; larger numbers only overflow datetime arithmetic
_PART = re.compile(r"(\d+)([dhms])")
HELP = "use whole seconds (e.g. 90) or parts like 45s, 25m, 2h 30m 40s (units d h m s, in that order)"


def parse(value: object) -> int:
    """Return the number of seconds in `value`, an int of seconds or a string like "2h 30m"."""
    if isinstance(value, bool):
        raise DurationError(f"{value!r} is not a duration: {HELP}")
    if isinstance(value, int):
        if value < 1:
            raise DurationError(f"{value} is not a duration: it must be at least 1 second")
        if value > MAX_SECONDS:
            raise DurationError(
                f"{value} s is longer than {MAX_SECONDS // 86400} days, more than any session or job takes"
            )
        return value
    if value is None:  # `max_time:` and nothing after it
        raise DurationError(f"has no value (YAML reads a key with nothing after it as null); {HELP}")
    if not isinstance(value, str):
        raise DurationError(f"{value!r} is not a duration: {HELP}")
    parts = value.split(" ")
    total, seen = 0, list[str]()
    order = [u for u, _ in UNITS]
    for part in parts:
        m = _PART.fullmatch(part)
        if not m:
            meant = _meant(value)
            raise DurationError(f"{value!r} is not a duration: " + (f"write {meant!r}" if meant else HELP))
        unit = m.group(2)
        if seen and order.index(unit) <= order.index(seen[-1]):
            raise DurationError(f"{value!r} is not a duration: units must appear once each, in the order d h m s")
        seen.append(unit)
        total += int(m.group(1)) * dict(UNITS)[unit]
    if total < 1:
        raise DurationError(f"{value!r} is not a duration: it must be at least 1 second")
    if total > MAX_SECONDS:
        raise DurationError(f"{value!r} is longer than {MAX_SECONDS // 86400} days, more than any session or job takes")
    return total


# how people write durations: "2h30" or "2h30m" (parts run together), "2 hours", "1.5h", "90 sec"
_WORDS = r"(\d+(?:\.\d+)?)\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)?(?![a-z])"


def _meant(value: str) -> str | None:
    """The duration `value` means in qrun's form ("2h 30m" for "2h30"), where it reads as one; else None. A bare
    number after a unit counts in the next smaller one, as a clock's "2h30" does."""
    text, total, unit, at = value.strip().lower(), 0.0, None, 0
    for m in re.finditer(_WORDS, text):
        if text[at : m.start()].strip():
            return None  # something between the parts that is neither
        letter = m[2][0] if m[2] else None
        if letter is None:  # a bare number: the unit after the last one given
            order = [u for u, _ in UNITS]
            if unit is None or unit == "s":
                return None
            letter = order[order.index(unit) + 1]
        total += float(m[1]) * dict(UNITS)[letter]
        unit, at = letter, m.end()
    if at != len(text) or total < 1 or total != int(total) or total > MAX_SECONDS:
        return None
    return format(total)


def format(seconds: float) -> str:
    """Format seconds as the canonical duration string, e.g. 9040 -> "2h 30m 40s"; a time under half a second that is
    not nothing (an aer job's estimate) is "<1s", not "0s"."""
    rest = int(round(seconds))
    if rest <= 0:
        return "<1s" if seconds > 0 else "0s"
    parts = []
    for unit, size in UNITS:
        n, rest = divmod(rest, size)
        if n:
            parts.append(f"{n}{unit}")
    return " ".join(parts)


def parse_timestamp(text: object) -> datetime | None:
    """An ISO 8601 timestamp as the service writes it ("...Z" or with an offset), or None if there is none."""
    if not isinstance(text, str) or not text:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def timestamp(t: datetime | None = None) -> str:
    """A UTC ISO 8601 timestamp with milliseconds, e.g. 2026-11-22T19:01:02.345Z."""
    t = t or datetime.now(UTC)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
