"""A spec problem before it is given a file position (a Finding), the path it sits at, and the words it is said in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

JsonPath = tuple[str | int, ...]
Finding = tuple[JsonPath, str, bool]  # (path, message, at_key): at_key points at the key rather than its value


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def close_matches(word: str, options: Sequence[str], n: int = 1, cutoff: float = 0.6) -> list[str]:
    """difflib's closest `n` of `options` to `word`: the "did you mean" of a refusal."""
    import difflib  # only a refusal needs it (DEFERRED in tests/test_architecture.py)

    return difflib.get_close_matches(word, options, n=n, cutoff=cutoff)


def first_of(items: Sequence[str], keep: int = 3, sep: str = ", ", what: str = "") -> str:
    """The first `keep` of `items` and how many others there are: "a, b, c and 4 more", or with sep "; ", "a; b; c;
    and 4 more" (`what` names them: "and 4 more sets")."""
    shown = sep.join(items[:keep])
    if len(items) <= keep:
        return shown
    return f"{shown}{';' if sep == '; ' else ''} and {len(items) - keep:,} more" + (f" {what}" if what else "")


def by_key(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(names, key) for each key of (name, key) pairs, in the order keys first appear, the names as first_of says
    them: 48 circuits from one Python function are one entry, not 48."""
    groups: dict[str, list[str]] = {}
    for name, key in pairs:
        groups.setdefault(key, []).append(name)
    return [(first_of(names), key) for key, names in groups.items()]


def unknown_ref(what: str, name: str, defined: Iterable[str]) -> str:
    """ "unknown circuit 'bel'; did you mean 'bell'?", or the names defined."""
    names = list(defined)
    hint = close_matches(name, names)
    if hint:
        return f"unknown {what} '{name}'; did you mean '{hint[0]}'?"
    return f"unknown {what} '{name}'; defined: {', '.join(names) or 'none'}"
