"""What is wrong in a value the schema refused, said in the spec's terms where jsonschema's own words would not help:
inside an observable that fits none of its forms, a word among a few words or a number, an item a list repeats, an
unknown key. Imported only for a spec with problems."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from ..model.findings import Finding, JsonPath, close_matches
from ..model.raw import Yaml
from .source import as_yaml_number

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

OBSERVABLE = (
    'expected a Pauli label ("IY", or by qubit "Z0 Z3"), a list of [label, coefficient] pairs, a sum like '
    '"0.5*XI - ZZ", or {terms: one of those, unit: Ha}'
)
# An observable's mapping: one source key, and the keys that may go with it
_WITH = {"terms": ("unit",), "file": ("unit",), "python": ("args", "unit")}
_FORMS = "{terms: ..., unit: ...}, {file: ..., unit: ...} or {python: ..., args: ...}"
_SOURCE = {
    "terms": 'expected a Pauli label, a list of [label, coefficient] pairs, or a sum like "0.5*XI - ZZ"',
    "file": "expected the name of a .csv or .txt file of terms",
    "python": "expected package.module:function",
}
_NUMBERS = {"number": "a number", "integer": "an integer"}
# The schema's $defs.pauli_label (tests/test_schema.py holds them equal)
PAULI_LABEL = re.compile(r"(?:[IXYZ]+|[XYZ][0-9]+(?: *[XYZ][0-9]+)*)")


def not_a_label(label: object) -> str:
    return f"{label!r} is not a Pauli label: use the letters I, X, Y and Z"


def as_text(value: object, integer: bool = False) -> str:
    """The message for a number YAML 1.1 reads as text (PyYAML's, which qrun reads specs with)."""
    return (
        f"{value!r} is read as text, not a number (YAML 1.1 wants a decimal point and a signed exponent): write "
        + str(as_yaml_number(value, integer))
    )


def observable(value: object, path: JsonPath) -> list[Finding]:
    """The first thing wrong in an observable the schema refused: an unknown or misplaced key of its mapping, or the
    first term that is not a [label, coefficient] pair of a Pauli label and a number; else what the forms are."""
    if isinstance(value, dict):
        return _mapping(value, path)
    if isinstance(value, list) and value:
        return _terms(value, path) or [(path, OBSERVABLE, False)]
    return [(path, OBSERVABLE, False)]


def _mapping(value: dict[str, object], path: JsonPath) -> list[Finding]:
    allowed = sorted({"unit", "args", *_WITH})
    unknown = [k for k in value if k not in allowed]
    if unknown:
        return [(path + (k,), unknown_key(str(k), allowed, f" in an observable: {_FORMS}"), True) for k in unknown]
    sources = [k for k in _WITH if k in value]
    if not sources:
        return [(path, f"an observable's mapping needs terms, file or python: {_FORMS}", False)]
    if len(sources) > 1:
        return [
            (
                path + (sources[1],),
                f"an observable takes one of terms, file and python, not both {sources[0]} and {sources[1]}",
                True,
            )
        ]
    source = sources[0]
    stray = [k for k in value if k != source and k not in _WITH[source]]
    if stray:
        return [(path + (stray[0],), f"'{stray[0]}' goes with python, not with {source}", True)]
    inner = value[source]
    if source == "terms" and isinstance(inner, list) and inner:
        found = _terms(inner, path + ("terms",))
        if found:
            return found
    elif not (isinstance(inner, str) and inner):
        return [(path + (source,), _SOURCE[source], False)]
    unit = value.get("unit")
    if "unit" in value and not (isinstance(unit, str) and len(unit) <= 20):
        return [(path + ("unit",), f"{unit!r} is not a unit: use a name of at most 20 characters, like Ha", False)]
    if "args" in value and not isinstance(value["args"], dict):
        return [(path + ("args",), "expected a mapping of the function's keyword arguments", False)]
    return [(path, OBSERVABLE, False)]


def _terms(terms: list[object], path: JsonPath) -> list[Finding]:
    for i, term in enumerate(terms):
        if not (isinstance(term, list) and len(term) == 2):
            # a list of labels meant as their sum: written as one, in the user's own labels where every item is one
            words = terms if all(isinstance(t, str) for t in terms) and len(terms) <= 8 else ["ZZ", "XX"]
            hint = f'; a sum of labels is one string: "{" + ".join(map(str, words))}"' if isinstance(term, str) else ""
            return [(path + (i,), f"expected a [label, coefficient] pair, like [ZZ, 0.5]{hint}", False)]
        label, coefficient = term
        if not (isinstance(label, str) and PAULI_LABEL.fullmatch(label)):
            return [(path + (i, 0), not_a_label(label), False)]
        if isinstance(coefficient, bool) or not isinstance(coefficient, int | float):
            said = as_text(coefficient) if as_yaml_number(coefficient) else f"{coefficient!r} is not a number"
            return [(path + (i, 1), f"the coefficient: {said}", False)]
    return []


def choice(error: ValidationError) -> str:
    """For a word where the schema takes one of a few words or a number ("auto" or an integer; statevector,
    stabilizer or a number), the words and the number together, with the word it is close to; else ""."""
    words: list[str] = []
    numbers: list[str] = []
    for form in error.validator_value:
        if not isinstance(form, dict):
            return ""
        if "const" in form or "enum" in form:
            words += [str(w) for w in form.get("enum", [form.get("const")])]
        elif form.get("type") in _NUMBERS:
            numbers.append(_NUMBERS[form["type"]])
        else:
            return ""
    if not words:
        return ""
    named = f"one of {', '.join(words)}" if len(words) > 1 else words[0]
    also = f" or {numbers[0]}" if numbers else ""
    return f"{error.instance!r} is not {named}{also}{did_you_mean(str(error.instance), words)}"


def did_you_mean(word: str, options: list[str]) -> str:
    """ "; did you mean 'X'?" for the option `word` is close to, or the same but for case; else ""."""
    lowered = {o.lower(): o for o in options}
    close = [lowered[word.lower()]] if word.lower() in lowered else close_matches(word, options)
    return f"; did you mean '{close[0]}'?" if close else ""


def repeated(items: object) -> object | None:
    """The first item of a list that an earlier one repeats (by its JSON text: hashable or not, and in linear time,
    for a list as long as a hostile spec makes it), or None."""
    if not isinstance(items, list):
        return None
    seen: set[str] = set()
    for item in items:
        key = json.dumps(item, sort_keys=True, default=repr)
        if key in seen:
            return item
        seen.add(key)
    return None


def misplaced(key: str, path: JsonPath, definitions: Yaml) -> tuple[str, JsonPath] | None:
    """What a key unknown at `path` is, where it is written a level off: "option" (`seed` in a job or at the top),
    "default" (`shots` among the spec's options, which take `default_shots`), "job" (`estimate` at the top or among
    options) or "job, default" (`shots` at the top); None for any other key or place. Checked before a close
    spelling: `seed` in a job is not `sweep`. `definitions` is the schema's `$defs`; the kind comes with `path`."""
    options, job = _keys(definitions, "options"), _keys(definitions, "job")
    kind = _misplaced(key, path, options, job)
    return None if kind is None else (kind, path)


def _keys(definitions: Yaml, name: str) -> Collection[str]:
    node = definitions.get(name) if isinstance(definitions, dict) else None
    keys = node.get("properties") if isinstance(node, dict) else None
    return keys if isinstance(keys, dict) else ()


def _misplaced(key: str, path: JsonPath, options: Collection[str], job: Collection[str]) -> str | None:
    in_job = len(path) == 2 and path[0] == "jobs"
    among_options = path == ("options",) or len(path) == 3 and path[0] == "jobs" and path[2] == "options"
    if key in options and (in_job or not path):
        return "option"
    if path == ("options",) and f"default_{key}" in options:
        return "default"
    if key in job and not path:
        return "job, default" if f"default_{key}" in options else "job"
    if key in job and among_options:
        return "job"
    return None


def _placed(key: str, kind: str, path: JsonPath, value: object) -> str:
    """The message for a key `misplaced` placed: what it is and where to write it, with its value where short."""
    shown = f"{key}: {value}" if isinstance(value, int | float | str) and len(str(value)) <= 20 else ""
    if kind == "default":
        return f"; did you mean 'default_{key}'? (a job's own {key} is written in the job)"
    if kind == "option" and path:
        example = f" ({{{shown}}})" if shown else ""
        return f": it is an option; write it under the job's options{example}, or the spec's options for every job"
    if kind == "option":
        return ": it is an option; write it under options:"
    if not path:
        every = f", or default_{key} under options for every job" if kind == "job, default" else ""
        return f": it is a job's key; write it in a job{every}"
    where = "the job itself" if path[0] == "jobs" else "a job"
    return f": it is a job's key, not an option; write it in {where}" + (f" ({shown})" if shown else "")


def unknown_key(
    key: str,
    allowed: list[str],
    forms: str = "",
    value: object = None,
    sub: object = None,
    placed: tuple[str, JsonPath] | None = None,
) -> str:
    """An unknown key's message: where a key written a level off belongs (`placed`: `misplaced`'s answer), the
    allowed key it is close to, or the one whose words its `value` is (`kind: ladder` is `primitive: ladder`, by the
    mapping's schema `sub`), else what is allowed (`forms`, or the keys)."""
    if placed is not None:
        return f"unknown key '{key}'{_placed(key, *placed, value)}"
    hint = close_matches(key, allowed)
    if hint:
        return f"unknown key '{key}'; did you mean '{hint[0]}'?"
    properties = sub.get("properties") if isinstance(sub, dict) else None
    if isinstance(value, str) and isinstance(properties, dict):
        meant = [name for name, rule in properties.items() if value in ((rule or {}).get("enum") or ())]
        if len(meant) == 1:
            return f"unknown key '{key}'; did you mean '{meant[0]}: {value}'?"
    return f"unknown key '{key}'{forms or '; allowed here: ' + ', '.join(allowed)}"


def derived(error: ValidationError, path: JsonPath, inner: Callable[[ValidationError], list[Finding]]) -> list[Finding]:
    """A derived: entry that is neither an expression nor a fit: what is wrong inside a fit (a mapping), else the two
    forms it may take."""
    if isinstance(error.instance, dict):
        from jsonschema.exceptions import best_match

        within = [e for e in error.context if e.schema_path and e.schema_path[0] == 1]  # the fit's branch
        if within:
            best = best_match(within)
            where = tuple(best.absolute_path)
            if where[len(path) : len(path) + 1] == ("x",) and best.validator not in ("minItems", "maxItems"):
                return [
                    (
                        (*path, "x"),
                        f"{_x_said(error.instance.get('x'))} is neither a list of numbers nor a job's parameter "
                        "(job.parameter, as rabi.theta)",
                        False,
                    )
                ]
            if best.validator == "pattern":  # a parameter's name, or value's: the model reads it as a name
                return [
                    (
                        where,
                        f"{best.instance!r} is not a parameter's name: letters, digits and _, no digit first",
                        False,
                    )
                ]
            return inner(best)
    return [
        (
            path,
            f"{error.instance!r} is neither an expression (as text: t50.z / t0.z) nor a fit "
            "({fit: a * exp(-x / T) + b, x: [...], y: [...], start: {T: 100, a: 1, b: 0}})",
            False,
        )
    ]


def _x_said(x: object) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."
