"""YAML with marks: safe_load's values plus the line and column of every value and key, and a one-pass plain path."""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from .. import collector
from ..errors import Problem, SpecError
from ..model.raw import Yaml
from . import parsecache
from .overrides import JsonPath, format_path
from .source import MAX_DEPTH, MAX_SPEC_BYTES, guard_yaml, safe_yaml, yaml, yaml_problem

Marks = dict[JsonPath, tuple[int, int]]  # (line, column) of each value, or of each key, by where it sits
# A loader is PyYAML's SafeLoader or libyaml's CSafeLoader: two classes with no common type in PyYAML's stubs, so
# `loader` stays Any; the values it builds are Yaml (model/raw.py) until the schema has checked them.

_NO_VALUE = object()
_JSON_SCALARS = (str, int, float, bool, type(None))


class _OpenMap:
    """A mapping being read: its values so far, the key read and waiting for its value, the keys as written."""

    __slots__ = ("key", "raw", "value")

    def __init__(self) -> None:
        self.value: dict[Yaml, Yaml] = {}
        self.key: Yaml = _NO_VALUE
        self.raw: set[str] = set()


def plain_yaml(text: str) -> Yaml:
    """The values of a plain YAML document, exactly as the full parse makes them, from libyaml's events in one pass
    with no nodes and no marks; None if the text is anything else, for the full parse to judge and locate.

    Plain: one document of mappings, sequences and scalars, with scalar keys, no key twice, no anchor, alias or
    explicit tag, nested at most MAX_DEPTH deep. That is every spec qrun ships and nearly every one users write.
    Each scalar gets PyYAML's own tag resolution and constructor; a test holds the values equal to the full parse.
    A text is parsed once: its values are kept by the text's hash (spec/parsecache.py), and read back without PyYAML.
    """
    if not text:
        return None
    data = text.encode("utf-8")
    if len(data) > MAX_SPEC_BYTES:
        return None  # the full parse says it is too long
    hit = parsecache.lookup(data)  # before PyYAML is needed: a hit never imports it
    if hit is not parsecache.MISS:
        return hit
    tools = _plain_tools()
    if tools is None:
        return None
    loader_class, resolve, constructor = tools
    loader = loader_class(text)
    try:
        with collector.paused():  # one object per value and none freed
            values, as_json = _plain_values(loader, resolve, constructor)
    except (yaml.YAMLError, ValueError):  # ValueError: an integer past Python's digit limit; the full parse says so
        return None
    finally:
        loader.dispose()
    if as_json:
        parsecache.keep(data, values)
    return values


@functools.cache
def _plain_tools() -> tuple[Any, Any, Any] | None:
    """libyaml's loader, PyYAML's tag resolver and its safe constructor; None without libyaml (the full parse then)."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return None
    return loader, yaml.resolver.Resolver().resolve, yaml.constructor.SafeConstructor()


def read_yaml(file: str, text: str) -> Yaml:
    """yaml.safe_load's values of `text` with qrun's limits: by the one-pass plain path where the text is plain (every
    file qrun writes), else by the guarded full parse (safe_yaml); SpecError where the text is refused."""
    plain = plain_yaml(text)
    return plain if plain is not None else safe_yaml(file, text)


def _plain_values(loader: Any, resolve: Any, constructor: Any) -> tuple[Yaml, bool]:
    """plain_yaml's one pass over the events (None at the first thing that is not plain), and whether JSON keeps the
    values exactly: no key that is not a string, no date, NaN or infinity (then the parse cache keeps them)."""
    scalar_event, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    constructors = constructor.yaml_constructors
    # A plain scalar's value depends on its text alone, and is immutable (str, int, float, bool, None, a date):
    # each distinct text is resolved and built once (a 10,000-job spec repeats its keys and most values).
    plain: dict[str, object] = {}
    stack: list[Yaml] = []  # the open collections: a list, or an _OpenMap
    result: Yaml = _NO_VALUE
    documents = 0
    as_json = True
    while True:
        event = loader.get_event()
        kind = type(event)
        if kind is scalar_event:
            if event.anchor is not None or event.tag not in (None, "!"):
                return None, False
            value = event.value
            if event.implicit[0]:  # a plain scalar: resolved as PyYAML resolves it (anything else is a str)
                made = plain.get(value, _NO_VALUE)
                if made is _NO_VALUE:
                    tag = resolve(yaml.ScalarNode, value, event.implicit)
                    if tag == _MERGE or (tag != _STR and tag not in constructors):
                        return None, False
                    made = plain[value] = (
                        value if tag == _STR else constructors[tag](constructor, yaml.ScalarNode(tag, value))
                    )
                    if type(made) not in _JSON_SCALARS or (type(made) is float and not math.isfinite(made)):
                        as_json = False  # a date, or NaN or infinity, which JSON has no value for
                value = made
            top = stack[-1] if stack else None
            if type(top) is _OpenMap and top.key is _NO_VALUE:  # a key
                if event.value in top.raw:
                    return None, False  # a key given twice: the full parse says where
                top.raw.add(event.value)
                if type(value) is not str:
                    as_json = False
                top.key = value
                continue
        elif kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH:
                return None, False
            if stack and type(stack[-1]) is _OpenMap and stack[-1].key is _NO_VALUE:
                return None, False  # a collection as a key
            stack.append(_OpenMap() if kind is mapping_start else [])
            continue
        elif kind in ends:
            top = stack.pop()
            value = top.value if type(top) is _OpenMap else top
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                return None, False
            continue
        elif kind is yaml.StreamEndEvent:
            break
        elif kind is yaml.AliasEvent:
            return None, False
        else:  # the stream's start and the document's end
            continue
        if not stack:
            result = value
        elif type(stack[-1]) is _OpenMap:
            top = stack[-1]
            try:
                top.value[top.key] = value
            except TypeError:  # an unhashable key
                return None, False
            top.key = _NO_VALUE
        else:
            stack[-1].append(value)
    return (None, False) if result is _NO_VALUE else (result, as_json)


def parse_yaml(file: str, text: str) -> tuple[Yaml, Marks, Marks]:
    """yaml.safe_load semantics (merge keys included), plus the line/column of every value and key; duplicate keys
    refused, and the nesting and alias limits checked before anything is composed."""
    if len(text.encode("utf-8")) > MAX_SPEC_BYTES:
        raise SpecError([Problem(file, 1, 1, "template", f"renders to more than {MAX_SPEC_BYTES:,} bytes")])
    guard_yaml(file, text)
    # libyaml where present (the faster parser): the same safe_load semantics and the same marks.
    fast = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    marks: Marks = {}
    key_marks: Marks = {}
    problems: list[Problem] = []
    # Composing and marking build one Python object per YAML node and free none (RESULTS.md: the collector's passes
    # more than doubled validate's time at 10,000 jobs).
    try:
        with collector.paused():
            loader, node, data = _compose(fast, text, file, marks, key_marks, problems)
    except yaml.YAMLError as first:
        error = first
        if fast is not yaml.SafeLoader:
            error = _better_yaml_error(text, first)
        raise SpecError([yaml_problem(file, error)]) from None
    if problems:
        raise SpecError(problems)
    return data, marks, key_marks


def _better_yaml_error(text: str, error: yaml.YAMLError) -> yaml.YAMLError:
    """The pure-Python parser's wording of a YAML error ("... but found '-'"), which is better than libyaml's.

    Its event stream is read first: it is iterative. PyYAML's composer recurses once per level, so it runs only on a
    document whose events all parsed and stay within MAX_DEPTH (its errors: an undefined alias, named)."""
    depth = deepest = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                deepest = max(deepest, depth)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        if deepest <= MAX_DEPTH:
            _compose(yaml.SafeLoader, text, "", {}, {}, [])
    except yaml.YAMLError as better:
        return better
    except ValueError:  # PyYAML's own constructors (merge keys) on a too-long integer: keep the first wording
        pass
    return error


def _compose(
    loader_class: Any, text: str, file: str, marks: Marks, key_marks: Marks, problems: list[Problem]
) -> tuple[Yaml, yaml.Node | None, Yaml]:
    """(loader, node, data): libyaml composes the nodes; _build makes the values and the marks in one walk."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        data = _build(file, node, (), marks, key_marks, problems, loader) if node is not None else None
        return loader, node, data
    finally:
        loader.dispose()


_STR, _SEQ, _MAP, _MERGE = (f"tag:yaml.org,2002:{t}" for t in ("str", "seq", "map", "merge"))


def _build(
    file: str, node: yaml.Node, path: JsonPath, marks: Marks, key_marks: Marks, problems: list[Problem], loader: Any
) -> Yaml:
    """A node's value as yaml.safe_load makes it, and the line/column of it and of its keys (duplicate keys are
    problems). Plain mappings, sequences and scalars are built here, each scalar by PyYAML's own constructor for
    its tag; anything else (merge keys, sets, ordered maps, non-scalar keys) by PyYAML's constructor itself. One walk
    instead of PyYAML's construction and then a walk for the marks: a third of validate's time at 10,000 jobs."""
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    tag = node.tag
    if type(node) is yaml.ScalarNode:
        return _scalar(node, loader)
    if type(node) is yaml.SequenceNode and tag == _SEQ:
        return [
            _build(file, item, path + (i,), marks, key_marks, problems, loader) for i, item in enumerate(node.value)
        ]
    if node in loader.constructed_objects:
        # an alias to a node PyYAML built below: the same object, as safe_load shares it. PyYAML flattened its merge
        # keys into it, so its keys were checked when it was first walked, and are not checked again.
        _walk(file, node, path, marks, key_marks, [], loader)
        return loader.constructed_objects[node]
    plain = type(node) is yaml.MappingNode and tag == _MAP
    if not plain or any(type(k) is not yaml.ScalarNode or k.tag == _MERGE for k, _ in node.value):
        # walked before PyYAML builds it: building flattens merge keys into the node, and a key that overrides a
        # merged one would then look like a duplicate
        _walk(file, node, path, marks, key_marks, problems, loader)
        return loader.construct_object(node, deep=True)
    out: dict[Yaml, Yaml] = {}  # YAML's keys: any scalar PyYAML builds
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        name = key_node.value  # the key as written: marks and duplicates go by it (`1` and `'1'` are one key)
        if _first(file, path, name, key_node, seen, key_marks, problems):
            out[_scalar(key_node, loader)] = _build(
                file, value_node, path + (name,), marks, key_marks, problems, loader
            )
    return out


def _scalar(node: yaml.Node, loader: Any) -> Yaml:
    """A scalar node's value, by PyYAML's own constructor for its tag."""
    if node.tag == _STR:
        return node.value
    make = loader.yaml_constructors.get(node.tag)
    try:
        return make(loader, node) if make is not None else loader.construct_object(node)
    except ValueError:  # int() past sys.get_int_max_str_digits(): no spec needs such a number
        raise yaml.constructor.ConstructorError(
            None, None, f"the number {node.value[:12]}... has {len(node.value):,} digits, too many", node.start_mark
        ) from None


def _first(
    file: str,
    path: JsonPath,
    name: str,
    key_node: yaml.Node,
    seen: dict[str, int],
    key_marks: Marks,
    problems: list[Problem],
) -> bool:
    """True for a key's first appearance in its mapping, whose place is recorded; a repeat is a problem."""
    line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
    if name in seen:
        problems.append(
            Problem(
                file, line, column, format_path(path + (name,)), f"duplicate key (first given on line {seen[name]})"
            )
        )
        return False
    seen[name] = line
    key_marks[path + (name,)] = (line, column)
    return True


def _walk(
    file: str, node: yaml.Node, path: JsonPath, marks: Marks, key_marks: Marks, problems: list[Problem], loader: Any
) -> None:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        if node in loader.constructed_objects:
            problems = []  # built already, its merge keys flattened into it: its keys were checked the first time
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            if _first(file, path, key, key_node, seen, key_marks, problems):
                _walk(file, value_node, path + (key,), marks, key_marks, problems, loader)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(file, item, path + (i,), marks, key_marks, problems, loader)


# Compiled where first used (re caches them): only a spec with a problem needs them.
_QASM_PLACE = r"invalid OpenQASM: [\"']?(?:<input>:)?(\d+),(\d+): "
_INCLUDE = r'include\s+"([^"]+)"'


def qasm_place(text: str, line: int, col: int, message: str) -> tuple[int, int] | None:
    """Where in the spec an OpenQASM error's "LINE,COLUMN" falls, for a source written inline (found at `line`,
    `col`): a literal block (`qasm: |`), whose lines start on the next line, each indented alike, or a scalar on one
    line of the spec, quoted or not (its `\\n` escapes start new lines of the source). None for any other source, and
    for one with a custom include (qrun inlines it, which moves the lines)."""
    found = re.match(_QASM_PLACE, message)
    lines = text.splitlines()
    if found is None or not 0 < line <= len(lines):
        return None
    at, column = int(found[1]), int(found[2])
    if lines[line - 1][col - 1 :].rstrip() not in ("|", "|-", "|+"):
        return _in_scalar(lines[line - 1], line, col, at, column)
    body = lines[line:]
    indent = next((len(x) - len(x.lstrip(" ")) for x in body if x.strip()), 0)
    size = next((k for k, x in enumerate(body) if x.strip() and len(x) - len(x.lstrip(" ")) < indent), len(body))
    if any(i not in ("stdgates.inc", "qelib1.inc") for x in body[:size] for i in re.findall(_INCLUDE, x)):
        return None
    return (line + at, indent + column + 1) if 0 < at <= size else None


# the characters a double-quoted YAML escape takes in the spec's text, by the letter after its backslash
_ESCAPE_WIDTH = {"x": 4, "u": 6, "U": 10}
_ESCAPED_INCLUDE = r'include\s+\\?"([^"\\]+)\\?"'  # include "x.inc", or include \"x.inc\" in a "..."
_FOR = r"\bfor\b"


def _in_scalar(spec_line: str, line: int, col: int, at: int, column: int) -> tuple[int, int] | None:
    """The spec's place of the source's line `at`, column `column` (from 0) in a scalar that starts at `col` of
    `spec_line` and ends on it; None where it goes on past the line or holds a custom include."""
    raw = spec_line[col - 1 :]
    quote = raw[0] if raw[:1] in ("'", '"') else ""
    if any(i not in ("stdgates.inc", "qelib1.inc") for i in re.findall(_ESCAPED_INCLUDE, raw)) or re.search(_FOR, raw):
        return None  # an inlined include moves what follows it, a loop written out the columns after it
    i, source_line, source_column = (1 if quote else 0), 1, 0
    while i < len(raw):
        if (source_line, source_column) == (at, column):
            return line, col + i
        if quote and raw[i] == quote and not (quote == "'" and raw[i : i + 2] == "''"):
            return None  # the scalar closed first
        step = 2 if quote == "'" and raw[i : i + 2] == "''" else 1
        if quote == '"' and raw[i] == "\\":
            step = _ESCAPE_WIDTH.get(raw[i + 1 : i + 2], 2)
            if raw[i + 1 : i + 2] == "n":
                i, source_line, source_column = i + 2, source_line + 1, 0
                continue
        i, source_column = i + step, source_column + 1
    return None
