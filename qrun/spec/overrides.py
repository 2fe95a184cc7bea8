"""Overrides of a parsed spec, as Hydra's: KEY=VALUE sets (a key the schema knows), +KEY=VALUE adds, ~KEY removes.

KEY is a dotted path (options.seed, jobs.vqe.precision, backend); `jobs.NAME` finds a job by its name. An error
names the override as the user typed it, with the closest names, and where the spec holds that place."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator
from functools import cache
from importlib import resources

from ..errors import Problem, SpecError
from ..model.findings import JsonPath, close_matches
from ..model.raw import Yaml
from .source import MAX_DEPTH

REMOVE = None  # the value of a ~KEY override


def split(key: str) -> tuple[str, str]:
    """ "+jobs.a.shots" -> ("+", "jobs.a.shots"); "~options.seed" -> ("~", ...); "backend" -> ("", "backend")."""
    return (key[0], key[1:]) if key[:1] in ("+", "~") else ("", key)


def shown(key: str, value: object, swept: Collection[str] = ()) -> str:
    """The override as typed: --set +jobs.a.shots=100, --set ~options.seed; a multirun point's (`swept`) as
    -m options.seed=3, one of the values its -m gave."""
    op, _ = split(key)
    flag = "-m" if key in swept else "--set"
    return f"{flag} {key}" if op == "~" else f"{flag} {key}={_text(value)}"


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@cache
def _schema() -> dict[str, Yaml]:
    loaded: dict[str, Yaml] = json.loads(
        resources.files("qrun").joinpath("experiment.schema.json").read_text(encoding="utf-8")
    )
    return loaded


def top_level_keys() -> frozenset[str]:
    """The keys a spec may have at its top level (backend, max_time, options, ...)."""
    return frozenset(_schema()["properties"])


def _expand(node: object) -> Iterator[dict[str, Yaml]]:
    """A schema node with its $ref followed and its allOf/anyOf/oneOf/then/else branches flattened."""
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        target: Yaml = _schema()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        yield from _expand(target)
    yield node
    for combinator in ("allOf", "anyOf", "oneOf"):
        for branch in node.get(combinator, []):
            yield from _expand(branch)
    for branch in ("then", "else"):
        if branch in node:
            yield from _expand(node[branch])


def allowed_keys(path: JsonPath) -> set[str] | None:
    """The keys the schema allows in the mapping at `path`, or None where it allows any (a map of names)."""
    nodes: list[Yaml] = [_schema()]
    for part in path:
        following: list[Yaml] = []
        for node in (n for top in nodes for n in _expand(top)):
            if isinstance(part, int):
                following += [node["items"]] if isinstance(node.get("items"), dict) else []
            elif part in node.get("properties", {}):
                following.append(node["properties"][part])
            elif isinstance(node.get("additionalProperties"), dict):
                following.append(node["additionalProperties"])
        if not following:
            return None
        nodes = following
    keys: set[str] = set()
    for node in (n for top in nodes for n in _expand(top)):
        if node.get("type") == "object" or "properties" in node:
            # a typed object that allows more keys is a map of names; an untyped branch (if/then) only narrows
            if "patternProperties" in node or (
                node.get("type") == "object" and node.get("additionalProperties", True) is not False
            ):
                return None
            keys |= set(node.get("properties", {}))
    return keys or None


def apply(
    file: str,
    data: object,
    marks: Callable[[], dict[JsonPath, tuple[int, int]]],
    paths: dict[str, Yaml],
    swept: Collection[str] = (),
) -> tuple[dict[str, Yaml], dict[JsonPath, str]]:
    """Apply each override to the parsed spec in place. Returns the overrides applied, and the place each one set
    (its JSON path -> the override as typed), so a later error there names the override. `marks()` locates an
    error, and is called only then."""
    applied: dict[str, Yaml] = {}
    places: dict[JsonPath, str] = {}
    for key, value in paths.items():
        op, dotted = split(key)
        typed = shown(key, value, swept)
        places[_apply_one(file, data, marks, op, dotted, value, typed)] = typed
        applied[key] = value
    return applied, places


def _apply_one(
    file: str, data: object, marks: Callable[[], dict], op: str, dotted: str, value: object, typed: str
) -> JsonPath:
    parts = _split_path(dotted, data)
    node: Yaml = data
    where: JsonPath = ()

    def fail(why: str, choices: list[str] | None = None) -> SpecError:
        wanted = parts[len(where)] if len(parts) > len(where) else dotted
        close = close_matches(str(wanted), [str(c) for c in choices or []])
        hint = f"; did you mean {close[0]!r}?" if close else ""
        places = marks()
        # a mapping the override made (a job's `options:` the spec leaves out) is at the nearest place the spec has
        line, col = next((places[where[:k]] for k in range(len(where), -1, -1) if where[:k] in places), (1, 1))
        return SpecError([Problem(file, line, col, format_path(where), f"{typed}: {why}{hint}")])

    # what the spec would hold there, its keys and the value's own nesting, must read back (a rerun reads it): the
    # mappings this makes for a path (below) are nesting the spec's YAML never had to pass
    if len(parts) + _depth(value) > MAX_DEPTH:
        raise fail(
            f"nested more than {MAX_DEPTH} levels deep, its keys and its value's; a spec nests {MAX_DEPTH} at most"
        )
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list) and where == ("jobs",):
            names = [j.get("name") for j in node if isinstance(j, dict)]
            if part not in names:
                raise fail(f"no job named {part!r}", [str(n) for n in names])
            index = names.index(part)
            if last and op == "~":
                del node[index]
                return (*where, index)
            if last:
                raise fail(
                    "a whole job cannot be set; set its keys (jobs.NAME.KEY=VALUE), or remove it with ~jobs.NAME"
                )
            node, where = node[index], (*where, index)
        elif isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise fail(f"{part!r} is not an index of this list ({len(node)} items)")
            if last and op == "~":
                del node[int(part)]
            elif last:
                node[int(part)] = value
            else:
                node = node[int(part)]
            where = (*where, int(part))
        elif isinstance(node, dict):
            if not last:
                if part not in node:
                    allowed = allowed_keys(where)
                    # as Hydra's +a.b.c=V makes a.b: a mapping the schema knows here (or, for +, any name where the
                    # schema allows any) is made empty and filled, where the spec leaves it to its defaults
                    if op == "~" or not (part in (allowed or ()) or (op == "+" and allowed is None)):
                        raise fail(f"no key {part!r} here", list(node) if op == "~" or not allowed else sorted(allowed))
                    node[part] = {}
                node, where = node[part], (*where, part)
                continue
            allowed = allowed_keys(where)
            if op == "~":
                if part not in node:
                    raise fail(f"there is no {part!r} to remove", list(node))
                del node[part]
            elif op == "+":
                if part in node:
                    raise fail(f"{part!r} is set already; write --set {dotted}=VALUE to change it")
                node[part] = value
            elif part in node or allowed is None or part in allowed:
                node[part] = value  # a key the schema knows may be set where the spec leaves it to its default
            else:
                elsewhere = _elsewhere(where, part, dotted)
                raise fail(  # a key placed a level off is not also said to be close to another (`seed`, `sweep`)
                    f"no key {part!r} here, and the schema knows none by that name{elsewhere}",
                    None if elsewhere else sorted(allowed),
                )
            return (*where, part)
        else:
            raise fail("this value has no keys")
    return where


def _depth(value: object) -> int:
    """How deep `value` nests mappings and sequences (a scalar: 0). An override's value is read under the YAML
    limits, so this recursion is bounded by MAX_DEPTH."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _elsewhere(where: JsonPath, key: str, dotted: str) -> str:
    """Where a key of that name does belong, when it is written a level off (formhints.misplaced): at the top, `shots`
    is a job's key and `seed` an option; in a job, `seed` is in the job's options; among the spec's options, `shots`
    is `default_shots`."""
    from .formhints import misplaced  # only a refused override: formhints is imported for a spec with problems

    placed = misplaced(key, where, _schema()["$defs"])
    if placed is None:
        return ""
    kind, within = placed[0], dotted[: len(dotted) - len(key)]  # `within`: `jobs.NAME.` or `jobs.NAME.options.`
    if kind == "default":
        return f" (every job's default is default_{key}: --set options.default_{key}=VALUE)"
    if kind == "option":
        return f" (it is a key of options: --set {within}options.{key}=VALUE)"
    job = within.removesuffix("options.") if where[:1] == ("jobs",) else "jobs.NAME."
    return f" (it is a key of jobs: --set {job}{key}=VALUE)"


def _split_path(dotted: str, data: object) -> list[str]:
    """`jobs.my.job.precision` -> ["jobs", "my.job", "precision"] when a job is called "my.job" (names may hold dots)."""
    parts = dotted.split(".")
    if parts[0] == "jobs" and isinstance(data, dict) and isinstance(data.get("jobs"), list):
        names = sorted((str(j.get("name")) for j in data["jobs"] if isinstance(j, dict)), key=len, reverse=True)
        rest = ".".join(parts[1:])
        for name in names:
            if rest == name or rest.startswith(name + "."):
                return ["jobs", name, *[p for p in rest[len(name) + 1 :].split(".") if p]]
    return parts


_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"  # compiled where first used


def format_path(path: JsonPath) -> str:
    """("jobs", 2, "shots") -> "jobs[2].shots"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(_IDENT, part) or re.fullmatch(r"[A-Za-z0-9_.-]+", part) and "." not in part:
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def owner(places: dict[JsonPath, str], path: JsonPath, message: str) -> str | None:
    """The override that set the place a problem is about: the problem's path is at or under a place an override
    set, or is its parent and the message names the key (a key the schema refuses, a required key removed)."""
    for place, typed in places.items():
        if tuple(path[: len(place)]) == place:
            return typed
        if place and tuple(path) == place[:-1] and repr(place[-1]).strip("'") in message:
            return typed
    return None
