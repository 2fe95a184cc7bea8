"""Where two parsed specs differ, path by path, as `qrun diff` and a rerun report it."""

from __future__ import annotations

from ..model.findings import first_of

ALIKE = 3  # this many paths changed alike (a template's loop of circuits) are said as one line


def differences(old: object, new: object, path: str = "") -> list[str]:
    """Paths where two parsed specs differ, as "jobs[1].shots: 100 -> 200"."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(f"{sub} removed")
            elif key not in old:
                out.append(f"{sub} added")
            else:
                out += differences(old[key], new[key], sub)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in differences(a, b, f"{path}[{i}]")]
    if old == new:
        return []
    if isinstance(old, str) and isinstance(new, str) and short(old) == short(new):
        old, new = _around_difference(old, new)  # cut short, both would read alike
    return [f"{path}: {short(old)} -> {short(new)}"]


def _around_difference(old: str, new: str) -> tuple[str, str]:
    """Two long texts from a little before where they first differ ("...of qubit 0 of a noisy..."), as written."""
    at = next((k for k, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    start = max(at - 12, 0)
    return (("…" if start else "") + old[start:], ("…" if start else "") + new[start:])


def short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def said_once(changes: list[str]) -> list[str]:
    """`differences`' lines, those that change alike (the same values, or each removed or added) named on one line
    where there are ALIKE or more: a template's 30 circuits moved to another qubit are one change to read, not 30."""
    groups: dict[str, list[str]] = {}
    split = [_split(line) for line in changes]
    for path, change in split:
        groups.setdefault(change, []).append(path)
    out, said = [], set()
    for line, (_, change) in zip(changes, split):
        if len(groups[change]) < ALIKE:
            out.append(line)
        elif change not in said:  # at the first of them, the whole group once
            out.append(f"{first_of(groups[change])}{change}")
            said.add(change)
    return out


def _split(line: str) -> tuple[str, str]:
    """(path, what changed) of one of `differences`' lines: "a.b", ": 1 -> 2"; or "a.b", " removed"."""
    for tail in (" removed", " added"):
        if line.endswith(tail) and ": " not in line:
            return line[: -len(tail)], tail
    path, sep, change = line.partition(": ")
    return path, sep + change
