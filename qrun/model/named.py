"""Parameter values by name (`{theta: [0.1, 0.2], phi: 0}`): how many sets they give, and their rows in a circuit's
parameter order, where qiskit's order (sorted by name) made a positional row easy to get wrong."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TypeGuard

from .findings import Finding, JsonPath, close_matches, first_of

SOURCES = ("from", "file")  # parameter_values' other mappings: an earlier job's optimum, a file of rows


def is_named(values: object) -> TypeGuard[Mapping[str, object]]:
    """Whether a job's parameter_values gives its values by parameter name."""
    return isinstance(values, Mapping) and not any(key in values for key in SOURCES)


def sets(values: Mapping[str, object]) -> int:
    """How many parameter sets: a list's length (each list has as many); a number alone is one value in every set."""
    return max((len(v) for v in values.values() if isinstance(v, list)), default=1)


def rows(values: Mapping[str, object], names: Sequence[str], swept: Collection[str] = ()) -> list[list[object]]:
    """The sets as rows of the circuit's parameters, in `names`' order; a swept parameter not given is 0.0 (each of
    the sweep's points replaces its column)."""
    n = sets(values)

    def column(name: str) -> list[object]:
        value = values.get(name, 0.0) if name in swept else values[name]
        return list(value) if isinstance(value, list) else [value] * n

    columns = [column(name) for name in names]
    return [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in range(n)]


def problems(
    values: Mapping[str, object], names: Sequence[str], circuit: str, swept: Collection[str] | None, at: JsonPath
) -> list[Finding]:
    """What is wrong with values by name (at `at`, a job's parameter_values) for a circuit with parameters `names`;
    `swept`: a sweep's variables, where the job has a sweep."""
    out: list[Finding] = []
    for key in values:
        if key not in names:
            near = close_matches(str(key), list(names))
            hint = f"did you mean {near[0]!r}? " if near else ""
            said = f"circuit '{circuit}' has no parameter {key!r}; {hint}(its parameters: {first_of(list(names), 8)})"
            out.append((at + (key,), said, True))
    missing = [name for name in names if name not in values and name not in (swept or ())]
    if missing:
        which = "a swept one excepted" if swept is not None else "one value or one list each"
        message = f"circuit '{circuit}' has {first_of(missing, 5)} too: give every parameter a value ({which})"
        out.append((at, message, False))
    lengths = {key: len(value) for key, value in values.items() if isinstance(value, list)}
    most = max(lengths.values(), default=1)
    longest = next((key for key, n in lengths.items() if n == most), "")
    for key, n in lengths.items():
        if swept is not None and n != 1:
            message = "with a sweep, a parameter's value is one number (the sweep varies the others)"
            out.append((at + (key,), message, False))
        elif swept is None and n != most:
            message = f"{n} values, where '{longest}' has {most}: each list gives one value per set"
            out.append((at + (key,), message, False))
    return out
