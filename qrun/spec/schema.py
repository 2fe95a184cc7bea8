"""The spec's JSON Schema: load it, check a parsed spec against it, and say each violation in plain words."""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import orjson

from ..errors import DurationError
from ..jobs.registry import KINDS
from ..model import durations
from ..model.findings import Finding, JsonPath, article
from ..model.raw import Yaml
from ..planning.cache import cache_dir
from ..store.provenance import package_version
from ..version import __version__
from . import parsecache
from .source import as_yaml_number

if TYPE_CHECKING:
    from pathlib import Path

    import jsonschema.protocols
    import jsonschema_rs
    from jsonschema.exceptions import ValidationError


@lru_cache(maxsize=1)
def schema() -> dict[str, Yaml]:
    """The JSON Schema shipped inside the package (schemas/experiment.schema.json in the repo)."""
    return json.loads(_schema_text())


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("qrun").joinpath("experiment.schema.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _fast_validator() -> jsonschema_rs.Validator | None:
    """jsonschema-rs, compiled once; None where it is not installed."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.validator_for(schema())


def _plain_json(data: object) -> str | None:
    """The spec as strict JSON, if it is that exactly (the usual case, checked at C speed): no NaN, infinity, non-JSON
    value or non-string key. orjson refuses a non-string key, an integer past 64 bits, bytes, a set and (passed
    through to no default) a date, which the slower checks then judge; it writes a NaN or an infinity as null. So a
    text with no null in it holds the values exactly, and only one with a null is read back and compared: that round
    trip was most of this check's time on a 10,000-job spec."""
    try:
        text = orjson.dumps(data, option=orjson.OPT_PASSTHROUGH_DATETIME)
        return text.decode() if b"null" not in text or orjson.loads(text) == data else None
    except (TypeError, ValueError, RecursionError):  # orjson's errors are TypeError and ValueError
        return None


# How a whole-number float starts or ends as orjson writes one (as json.dumps does): `2.0,`, `[1.0]`, `{"a":1.0}`, or
# past 1e16 `1e+20`. Substrings, not a regular expression: str's search is several times faster over a 10,000-job
# spec's megabyte. A string that merely holds such text only sends the spec to the slower, exact check.
_WHOLE_FLOAT = (".0,", ".0]", ".0}", "e+")


def value_findings(data: object, path: JsonPath = ()) -> list[Finding]:
    """Values no spec holds: NaN and ±inf (YAML's .nan, .inf), which JSON Schema's bounds cannot see, and values of
    non-JSON types (bytes, sets, dates) or non-string keys, which would confuse the validators.

    Iterative, so a deeply nested spec cannot exhaust the stack (spec.py also limits the nesting)."""
    if _plain_json(data) is not None:
        return []
    out: list[Finding] = []
    stack: list[tuple[JsonPath, Yaml]] = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            out.append((where, f"{value} is not a finite number", False))
        elif not isinstance(value, (dict, list, str, int, float, bool, type(None))):
            # YAML's !!binary, !!set, !!timestamp (an unquoted 2026-01-01) build values a spec never holds
            out.append(
                (
                    where,
                    f"a {type(value).__name__} (from a YAML tag or an unquoted date) is not a spec value; "
                    "quote it if a string is meant",
                    False,
                )
            )
        elif isinstance(value, dict):
            out.extend((where, f"key {k!r} is not a string; quote it", False) for k in value if not isinstance(k, str))
            stack.extend((where + (k,), v) for k, v in value.items() if isinstance(k, str))
        elif isinstance(value, list):
            stack.extend((where + (i,), v) for i, v in enumerate(value))
    return sorted(out, key=lambda f: [str(p) for p in f[0]])


def schema_findings(data: object) -> list[Finding]:
    """Structural problems, each turned into a message that says what to do."""
    if not isinstance(data, dict):
        return [
            ((), "a spec must be a YAML mapping with keys version, name, backend, max_time, circuits and jobs", False)
        ]
    text = _plain_json(data)
    odd = value_findings(data) if text is None else []
    if odd:
        return odd  # a NaN slips past every bound, so nothing else said about that value could be trusted
    verdict = _verdict_path(text)
    if verdict is not None and parsecache.read_entry(verdict) == VALID:
        return []
    fast = _fast_validator()
    whole = (any(mark in text for mark in _WHOLE_FLOAT) if text is not None else True) and _whole_float_at_integer(data)
    if fast is not None and fast.is_valid(data) and not whole:
        if verdict is not None:
            parsecache.write_entry(verdict, VALID)
        return []  # the common case, and the fast one; python-jsonschema below explains only what is wrong
    validator = _strict_validator()
    out: list[Finding] = []
    checked, index = _suspect_jobs(data) if fast is not None else (data, None)
    for error in validator.iter_errors(checked):
        out.extend(_translate(error, checked))
    if index is not None:  # back to the jobs' own places
        out = [
            ((p[0], index[p[1]], *p[2:]) if p[:1] == ("jobs",) and len(p) > 1 and isinstance(p[1], int) else p, m, k)
            for p, m, k in out
        ]
    return sorted(set(out), key=lambda f: (tuple(str(p) for p in f[0]), f[1]))


# A spec the schema passed is kept as passed, by the SHA-256 of its strict JSON, the schema's text, and qrun's and
# jsonschema-rs's versions: `qrun validate` and the run, or a re-run, judge the same values once, and a hit imports
# no validator and compiles no schema (RESULTS.md, "Fewer imports, a kept schema verdict"). Only a pass is kept: a
# failing spec's findings are worked out each time, as they are explained. Entries share the parse cache's store
# and its eviction.
VERDICT_FORMAT = 1  # bump when what passes changes outside the schema file (the checks in schema_findings)
VALID = b"true"  # JSON, as every entry of the store is


def _verdict_path(text: str | None) -> Path | None:
    """Where a pass of `text` is kept; None when nothing is kept (no strict JSON, or no jsonschema-rs)."""
    head = _verdict_head()
    if text is None or head is None:
        return None
    digest = head.copy()
    digest.update(text.encode())
    return cache_dir() / "verdicts" / f"{digest.hexdigest()}.json"


@lru_cache(maxsize=1)
def _verdict_head() -> hashlib._Hash | None:
    """The verdicts' key hashed up to the spec's text, once a process (a multirun checks each point); None without
    jsonschema-rs."""
    validator = package_version("jsonschema-rs")
    if validator is None:
        return None
    return hashlib.sha256(f"{VERDICT_FORMAT}\0{__version__}\0{validator}\0{_schema_text()}\0".encode())


def _suspect_jobs(data: dict[str, Yaml]) -> tuple[dict[str, Yaml], list[int] | None]:
    """The spec with only the jobs python-jsonschema must judge, and their indices in the spec (None: all kept).

    It judges the whole spec at about a millisecond a job, so one typo in a 10,000-job spec took 8 s to explain.
    A job jsonschema-rs finds valid, with no whole-number float where the schema may want an integer, has nothing to
    explain; the schema says nothing about one job that depends on another, so leaving it out changes no finding."""
    jobs = data.get("jobs")
    job_check = _fast_job_validator()
    if not isinstance(jobs, list) or len(jobs) < 2 or job_check is None:
        return data, None
    index = [i for i, job in enumerate(jobs) if not job_check.is_valid(job) or _whole_float_at_integer(job)]
    index = index or [0]  # a valid job keeps `jobs` non-empty, as it is: its problems are elsewhere
    return {**data, "jobs": [jobs[i] for i in index]}, index


@lru_cache(maxsize=1)
def _fast_job_validator() -> jsonschema_rs.Validator | None:
    """jsonschema-rs for one job entry (the schema's $defs/job), compiled once; None where it is not installed."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    whole = schema()
    return jsonschema_rs.validator_for({"$schema": whole["$schema"], "$defs": whole["$defs"], "$ref": "#/$defs/job"})


@lru_cache(maxsize=1)
def _strict_validator() -> jsonschema.protocols.Validator:
    """python-jsonschema, where an integer is an int: JSON Schema calls 2.0 an integer, but qiskit and numpy do not
    (a circuit of 2.0 qubits fails deep inside them). jsonschema-rs follows JSON Schema, so the fast path defers to
    this one whenever the spec holds a whole-number float."""
    from jsonschema import Draft202012Validator, validators

    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    return validators.extend(Draft202012Validator, type_checker=checker)(schema())


def _whole_float_at_integer(data: object) -> bool:
    """Whether a whole-number float (2.0) sits under a key the schema may type as an integer, where python-jsonschema
    must judge it. Elsewhere (a parameter value of 0.0, a coefficient of 1.0) jsonschema-rs's verdict is the strict
    one's, and importing python-jsonschema for it cost a run about 0.1 s (benchmarks/RESULTS.md)."""
    integers = _integer_keys()
    stack: list[tuple[object, Yaml]] = [(None, data)]
    while stack:
        key, value = stack.pop()
        if type(value) is float and value.is_integer() and key in integers:
            return True
        if type(value) is dict:
            stack.extend(value.items())
        elif type(value) is list:
            stack.extend((key, v) for v in value)  # a list's items count as under its key (linspace's num)
    return False


@lru_cache(maxsize=1)
def _integer_keys() -> frozenset[str]:
    """Every property name whose schema, or any schema inside it ($refs followed), allows an integer."""
    defs = schema()["$defs"]

    def allows_integer(node: object, seen: frozenset[str]) -> bool:
        if isinstance(node, list):
            return any(allows_integer(v, seen) for v in node)
        if not isinstance(node, dict):
            return False
        if node.get("type") == "integer" or (isinstance(node.get("type"), list) and "integer" in node["type"]):
            return True
        ref = node.get("$ref", "").rsplit("/", 1)[-1]
        if ref in defs and ref not in seen and allows_integer(defs[ref], seen | {ref}):
            return True
        return any(allows_integer(v, seen) for k, v in node.items() if k != "$ref")

    found: set[str] = set()
    stack: list[Yaml] = [schema()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.update(n for n, sub in (node.get("properties") or {}).items() if allows_integer(sub, frozenset()))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(found)


def _translate(error: ValidationError, data: object) -> list[Finding]:
    from . import formhints  # the messages of a spec with problems: a valid one, a run's usual, never needs them

    path = tuple(error.absolute_path)
    kind = error.validator
    sub = error.schema if isinstance(error.schema, dict) else {}
    if "dependentSchemas" in error.schema_path:
        circuit = path[:-1] if path[-1:] == ("library",) else path
        return [(circuit + ("args",), "args goes with a library circuit named as library: NAME", True)]
    if kind == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return [(path, f"missing required key '{k}'", False) for k in missing]
    if kind in ("additionalProperties", "unevaluatedProperties"):
        allowed = sorted(sub.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        placed = {k: formhints.misplaced(k, path, schema()["$defs"]) for k in extra}
        return [
            (path + (k,), formhints.unknown_key(k, allowed, value=error.instance[k], sub=sub, placed=placed[k]), True)
            for k in extra
        ]
    if kind == "not" and isinstance(error.validator_value, dict) and "required" in error.validator_value:
        if not isinstance(error.instance, dict):
            return []  # `required` holds of anything that is no mapping: its type is the error, said on its own
        key = error.validator_value["required"][0]
        what = str(error.instance.get("primitive"))
        hint = KINDS[what].hints.get(key, "") if what in KINDS else ""
        return [(path + (key,), f"'{key}' does not apply to {article(what)} {what} job{hint}", True)]
    if kind == "maxItems" and path[-1:] == ("observables",):
        return [(path, "a minimize job takes exactly one observable", False)]
    if kind == "minItems":
        n = error.validator_value
        return [(path, f"needs at least {n} item{'s' * (n != 1)}", False)]
    if kind == "oneOf" and "random" in sub.get("properties", {}):
        return [(path, "a circuit needs exactly one source: random, qasm, file, library or python", False)]
    if sub.get("title") == "duration":
        try:
            durations.parse(error.instance)
        except DurationError as e:
            return [(path, str(e), False)]
    if kind == "anyOf" and len(path) == 2 and path[0] == "derived":
        return formhints.derived(error, path, lambda inner: _translate(inner, data))
    if kind in ("anyOf", "oneOf") and len(path) == 2 and path[0] == "observables":
        return formhints.observable(error.instance, path)
    if kind in ("anyOf", "oneOf") and path[-1:] == ("parameter_values",):
        texts = [v for row in error.instance for v in row] if _rows(error.instance) else []
        hint = next((f"; {formhints.as_text(v)}" for v in texts if as_yaml_number(v)), "")
        return [
            (
                path,
                "expected rows of numbers, one per parameter set ([[0.1, 0.2], [0.3, 0.4]]), values by name "
                f"({{theta: [0.1, 0.3], phi: 0.2}}), {{file: values.csv}} or {{from: <an earlier minimize job>}}{hint}",
                False,
            )
        ]
    if sub.get("description", "").startswith("Time kept free"):
        return [(path, f"{error.instance!r} is not a margin: use a duration (30s, 2m), a percentage (10%) or 0", False)]
    if sub.get("description", "").startswith("A list, {range"):
        return [
            (path, "expected a list of values, {range: [start, stop, step]} or {linspace: [start, stop, num]}", False)
        ]
    return _translate_value(error, data, path, kind, sub)


def _translate_value(
    error: ValidationError, data: object, path: tuple, kind: str, sub: dict[str, Yaml]
) -> list[Finding]:
    """A value of the wrong form: a bad name or label, an unknown choice, a float for an integer."""
    from . import formhints  # as in _translate, which calls this

    if kind == "pattern" and sub.get("pattern") == schema()["$defs"]["name"]["pattern"]:
        message = f"{error.instance!r} is not a valid name: use ASCII letters, digits, '.', '_' and '-'"
        holder = _get(data, path)
        if isinstance(holder, dict) and error.instance in holder:  # a bad key, reported via propertyNames
            return [(path + (error.instance,), message, True)]
        return [(path, message, False)]
    if kind == "pattern" and sub.get("pattern") == schema()["$defs"]["pauli_label"]["pattern"]:
        return [(path, formhints.not_a_label(error.instance), False)]
    if kind == "const" and path == ("version",):
        return [(path, f"{error.instance!r} is not a supported version; this qrun reads version: 1", False)]
    if kind == "anyOf" and path[-1:] == ("library",):
        # Two spellings: a name (explain the name) or {name, args} (explain what is wrong inside it).
        if isinstance(error.instance, str):
            return _translate(next(e for e in error.context if e.validator == "enum"), data)
        from jsonschema.exceptions import best_match

        inner = [e for e in error.context if e.relative_path]
        if inner:
            return _translate(best_match(inner), data)
    if kind == "enum":
        options = [str(v) for v in error.validator_value]
        tail = formhints.did_you_mean(str(error.instance), options)
        return [(path, f"{error.instance!r} is not one of {', '.join(options)}{tail}", False)]
    if kind in ("anyOf", "oneOf") and isinstance(error.instance, str) and (said := formhints.choice(error)):
        return [(path, said, False)]
    if kind in ("anyOf", "oneOf") and error.context:
        from jsonschema.exceptions import best_match

        return _translate(best_match(error.context), data)
    if kind == "type" and error.validator_value in ("number", "integer") and as_yaml_number(error.instance):
        return [(path, formhints.as_text(error.instance, error.validator_value == "integer"), False)]
    if kind == "uniqueItems" and (twice := formhints.repeated(error.instance)) is not None:
        if path[-1:] == ("layout",):
            return [(path, f"qubit {twice!r} is named twice: each of the circuit's qubits needs one of its own", False)]
        return [(path, f"{twice!r} is named twice", False)]
    if kind == "type" and error.instance is None:  # `jobs:` and nothing, or a template's loop that rendered none
        words = {"object": "a mapping", "array": "a list", "string": "text", "number": "a number"}
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        takes = " or ".join(words.get(str(t), f"{article(str(t))} {t}") for t in wanted if t != "null")
        return [(path, f"has no value (YAML reads a key with nothing after it as null); it takes {takes}", False)]
    if kind == "type" and error.validator_value == "array" and isinstance(error.instance, str | int | float):
        return [(path, f"{error.message}; a list: [{error.instance}]", False)]
    low, high = error.schema.get("minimum"), error.schema.get("maximum")  # a level: a word where 0, 1 or 2 goes
    level = low is not None and high is not None and high - low <= 5
    if kind == "type" and error.validator_value == "integer" and isinstance(error.instance, str) and level:
        return [(path, f"{error.instance!r} is not one of {', '.join(map(str, range(low, high + 1)))}", False)]
    if kind == "type" and error.validator_value == "integer" and isinstance(error.instance, float):
        whole = error.instance.is_integer()
        hint = f"; write {int(error.instance)}" if whole and math.isfinite(error.instance) else ""
        return [(path, f"{error.instance!r} is not an integer{hint}", False)]
    return [(path, _shorten(error.message, error.instance), False)]


def _rows(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(row, list) for row in value)


def _shorten(message: str, instance: object) -> str:
    """jsonschema quotes the offending value in full; a 160-number list makes a useless error line."""
    text = repr(instance)
    if len(text) <= 80 or text not in message:
        return message
    return message.replace(text, text[:60] + " ... " + text[-10:])


def _get(data: object, path: JsonPath) -> object:
    """The value at `path` (one the validator reported, so it is there)."""
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        else:
            data = data[part] if isinstance(data, list) and isinstance(part, int) else None
    return data
