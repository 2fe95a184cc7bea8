"""Where two parsed specs differ, path by path, as `qrun diff` and a rerun report it."""

from __future__ import annotations


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
    return [] if old == new else [f"{path}: {short(old)} -> {short(new)}"]


def short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
