"""A spec problem before it is given a file position (a Finding), the path it sits at, and the words it is said in."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

JsonPath = tuple[str | int, ...]
Finding = tuple[JsonPath, str, bool]  # (path, message, at_key): at_key points at the key rather than its value


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def unknown_ref(what: str, name: str, defined: Iterable[str]) -> str:
    """ "unknown circuit 'bel'; did you mean 'bell'?", or the names defined."""
    names = list(defined)
    hint = difflib.get_close_matches(name, names, n=1)
    if hint:
        return f"unknown {what} '{name}'; did you mean '{hint[0]}'?"
    return f"unknown {what} '{name}'; defined: {', '.join(names) or 'none'}"
