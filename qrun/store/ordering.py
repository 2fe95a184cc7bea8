"""The order a derived: block's values are computed in, each after the values it names, and why a value that names
itself (or one that does) has none."""

from __future__ import annotations


def ordered(names: dict[str, list[str]]) -> list[str]:
    """The values in an order where each comes after every value it names (Kahn's); one in a circle never comes."""
    waiting = {name: len([n for n in named if n in names]) for name, named in names.items()}
    readers: dict[str, list[str]] = {}
    for name, named in names.items():
        for n in named:
            readers.setdefault(n, []).append(name)
    ready = [name for name, count in waiting.items() if count == 0]
    out = []
    while ready:
        name = ready.pop()
        out.append(name)
        for reader in readers.get(name, []):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                ready.append(reader)
    return out


def circles(unordered: list[str], names: dict[str, list[str]]) -> dict[str, str]:
    """Why each value could not be ordered: the circle it is on, or the one the values it names lead to. Each value
    is walked once, and a circle is shown by its first names and its size (a 10,000-value circle is not spelt out
    10,000 times)."""
    left = set(unordered)
    why: dict[str, str] = {}
    leads_to: dict[str, str] = {}  # each value's circle, as shown from where the walk met it
    for start in unordered:
        path: list[str] = []
        at: dict[str, int] = {}
        node = start
        while node not in leads_to and node not in at:
            at[node] = len(path)
            path.append(node)
            node = next(n for n in names[node] if n in left)  # an unordered value names another unordered one
        if node in at:  # a circle not met before
            circle = path[at[node] :]
            for i, member in enumerate(circle):
                why[member] = f"'{member}' is defined by itself: {shown(circle, i)}"
                leads_to[member] = shown(circle, 0)
            path = path[: at[node]]
            node = circle[0]
        for member in path:
            why[member] = f"it names a derived value defined by itself: {leads_to[node]}"
            leads_to[member] = leads_to[node]
    return why


def shown(circle: list[str], i: int) -> str:
    """The circle from its i-th value round to it again: "a -> b -> c -> a", or its first four, its size and its
    last where it is longer than six."""
    n = len(circle)
    names = [circle[(i + k) % n] for k in range(n)] if n <= 6 else [circle[(i + k) % n] for k in range(4)]
    if n > 6:
        names += [f"... ({n:,} values)", circle[(i + n - 1) % n]]
    return " -> ".join([*names, circle[i]])
