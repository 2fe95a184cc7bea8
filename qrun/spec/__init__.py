"""A spec from text to data: read it bounded, render it in the sandbox, parse its YAML with marks, apply --set."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problem, SpecError, UsageError
from ..model.raw import Yaml
from ..sources import circuits, pysource, valuefiles
from .diff import differences, short
from .marks import parse_yaml, plain_yaml, qasm_place
from .overrides import JsonPath, format_path, owner, top_level_keys
from .overrides import apply as apply_overrides
from .overrides import split as split_override
from .rendered import Lines, as_rendered, located
from .source import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_SPEC_BYTES,
    cli_number,
    guard_yaml,
    read_text_limited,
    safe_yaml,
    yaml,
)
from .template import MAX_RENDER_SECONDS, Scalar, is_template, render

__all__ = [
    "DOTTED_KEY",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_RENDER_SECONDS",
    "MAX_SPEC_BYTES",
    "JsonPath",
    "Spec",
    "declared_multirun",
    "declared_vars",
    "differences",
    "format_path",
    "guard_yaml",
    "load",
    "cli_number",
    "parse_assignment",
    "parse_yaml",
    "plain_yaml",
    "read_text_limited",
    "read_vars_file",
    "render",
    "safe_yaml",
]

MAX_SET_CHARS = 64 * 1024  # one --set value; longer values belong in a --vars file
# a run folder's spec.yaml, first line
RESOLVED_HEADER = " as qrun ran it: rendered, overrides applied, file circuits inlined.\n"
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"  # patterns here are compiled where first used (re caches them)


@functools.cache
def _readable_dumper() -> type:  # libyaml's CSafeDumper is no SafeDumper subclass
    """safe_dump, with multi-line strings (inlined OpenQASM) written as literal blocks; through libyaml's emitter
    where PyYAML has it (the Python emitter is the slower one: benchmarks/RESULTS.md). Made on first use, as PyYAML
    is imported then."""

    class ReadableDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
        pass

    ReadableDumper.add_representer(str, _str_representer)
    ReadableDumper.add_representer(list, _list_representer)
    return ReadableDumper


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not any(c in value for c in "\r\t") and value == value.rstrip(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list_representer(dumper: yaml.SafeDumper, value: list) -> yaml.SequenceNode:
    """A list of numbers and short names on one line, as a spec writes one ([0.1, 0.2], [ZZII, -0.5], [zz, xx]):
    rows and terms read from a file stay a line each."""
    flow = bool(value) and all(
        (isinstance(v, int | float) and not isinstance(v, bool))
        or (isinstance(v, str) and len(v) < 40 and "\n" not in v)
        for v in value
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow or None)


@dataclass(frozen=True)
class Spec:
    """A loaded spec: its text before and after rendering, the parsed data, and where each value sits."""

    file: str
    path: Path
    source: str
    text: str
    data: Yaml  # the spec as parsed: YAML values, checked by the schema (spec/schema.py), read by the meaning checks
    variables: dict[str, Yaml] = field(default_factory=dict)
    overrides: dict[str, Yaml] = field(default_factory=dict)  # --set paths applied after rendering
    override_places: dict[JsonPath, str] = field(default_factory=dict)  # where each override set, as typed
    # Where each value and key sits. None until first needed: a valid spec never needs them, and making them is
    # most of what parsing a 10,000-job spec costs, so they are made by parsing `text` again when a problem is found.
    given_marks: tuple[dict[JsonPath, tuple[int, int]], dict[JsonPath, tuple[int, int]]] | None = None
    read: Yaml = field(default=None, compare=False)  # `data` with what its files gave validate: none is read twice

    @functools.cached_property
    def _places(self) -> tuple[dict[JsonPath, tuple[int, int]], dict[JsonPath, tuple[int, int]]]:
        if self.given_marks is not None:
            return self.given_marks
        _, marks, key_marks = parse_yaml(self.file, self.text)
        return marks, key_marks

    @property
    def marks(self) -> dict[JsonPath, tuple[int, int]]:
        return self._places[0]

    @property
    def key_marks(self) -> dict[JsonPath, tuple[int, int]]:
        return self._places[1]

    def resolved(self) -> dict[str, Yaml]:
        """The spec as it ran, self-contained: overrides applied, `vars:` holding the values used, every file:
        circuit inlined as qasm: (its includes too), every file of parameter values as its rows and every file of an
        observable's terms as its terms, so the run folder's copy runs anywhere."""

        data = copy.deepcopy(self.data if self.read is None else self.read)
        if not isinstance(data, dict):
            return data
        if self.variables:
            data["vars"] = dict(self.variables)
        elif "vars" in data:
            data["vars"] = {}
        data.pop("multirun", None)  # a point of a multirun is one run; running its folder again runs that point
        for name, source in (data.get("circuits") or {}).items():
            if isinstance(source, dict) and "file" in source:  # the source inlined, its layout: kept
                rest = {k: v for k, v in source.items() if k != "file"}
                data["circuits"][name] = {"qasm": circuits.qasm_text(source, self.base_dir), **rest}
        for kind in ("circuits", "observables"):
            for source in (data.get(kind) or {}).values():
                if isinstance(source, dict) and isinstance(source.get("python"), str):
                    source["python"] = pysource.repo_relative(source["python"], self.base_dir)
        return valuefiles.inlined(data, self.base_dir)[0]  # files validate did not read (none, after a validate)

    def resolved_text(self, ran: bool = True) -> str:
        """The resolved spec's text, headed by where it came from: as a run folder keeps it, or (`ran` False, `qrun
        render`) as qrun would run it."""
        header = f"# {self.file}{RESOLVED_HEADER if ran else RESOLVED_HEADER.replace(' ran ', ' would run ', 1)}"
        if self._as_written:
            # nothing to apply or inline: the text itself is the resolved spec, comments and layout kept (and a
            # 10,000-job spec is not dumped again through PyYAML's Python representer, about a second); a run
            # folder's own spec (qrun rerun) says once where it came from, not once per rerun
            text = self.text
            while text.startswith("# ") and RESOLVED_HEADER in text[: text.find("\n") + 1]:
                text = text[text.find("\n") + 1 :]
            return header + text
        return header + yaml.dump(
            self.resolved(), Dumper=_readable_dumper(), sort_keys=False, allow_unicode=True, width=120
        )

    @property
    def _as_written(self) -> bool:
        """Whether the rendered text already is the resolved spec: plain YAML (read without the full parse), no
        variables, overrides or multirun, and no circuit read from a file."""
        data = self.data
        return (
            self.given_marks is None
            and isinstance(data, dict)
            and not self.variables
            and not self.overrides
            and "vars" not in data
            and "multirun" not in data
            and not any(isinstance(c, dict) and "file" in c for c in (data.get("circuits") or {}).values())
            and not _python_files(data)
            and not valuefiles.reads_files(data)
        )

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def locate(self, path: JsonPath, at_key: bool = False) -> tuple[int, int]:
        """Line and column of `path`, or of its nearest located ancestor."""
        if at_key and path in self.key_marks:
            return self.key_marks[path]
        p = tuple(path)
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (1, 1))

    def problem(self, path: JsonPath, message: str, at_key: bool = False) -> Problem:
        typed = owner(self.override_places, path, message) if self.override_places else None
        if typed is not None:  # the value came from the command line, not from a line of the file
            return Problem(self.file, 0, 0, format_path(path), f"{typed}: {message}")
        line, col = self.locate(path, at_key)
        if path[-1:] == ("qasm",):  # an OpenQASM error's own line and column, where the spec writes it inline
            line, col = qasm_place(self.text, line, col, message) or (line, col)
        if self.source is not self.text and self.source != self.text:  # a template: its own lines are the file's
            line, col, message = located(self._lines, line, col, message)
        return Problem(self.file, line, col, format_path(path), message)

    @functools.cached_property
    def _lines(self) -> Lines:
        return Lines(self.source, self.text)


# A dotted path into the spec, as --set and -m take one: options.seed, jobs.vqe.precision
DOTTED_KEY = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_.\-\[\]θ]+)+"


def parse_assignment(text: str) -> tuple[str, Yaml]:
    """Parse a --set KEY=VALUE argument. A bare KEY is a template variable (or a top-level key of a plain spec)
    and VALUE a YAML scalar; a dotted KEY (options.seed, jobs.vqe.precision) is a path into the rendered spec and
    VALUE a scalar or flow collection. +KEY=VALUE adds a key the spec does not set; ~KEY removes one."""
    op = text[0] if text[:1] in ("+", "~") else ""
    key, sep, value = text[len(op) :].partition("=")
    key = key.strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes the terminal could not decode arrive as lone surrogates
        raise UsageError(f"--set {key.encode('utf-8', 'replace').decode()}: the value is not UTF-8 text") from None
    valid = bool(re.fullmatch(_IDENT, key) or re.fullmatch(DOTTED_KEY, key))
    if op == "~":
        if sep or not valid:
            raise UsageError(f"--set {text!r}: expected ~KEY, a key to remove (e.g. --set ~options.seed)")
        return f"~{key}", None
    if not sep or not valid:
        raise UsageError(
            f"--set {text!r}: expected KEY=VALUE with KEY a variable name (e.g. --set field=0.5) or a "
            "dotted path into the spec (e.g. --set options.seed=3, --set jobs.vqe.precision=0.01); "
            "+KEY=VALUE adds a key, ~KEY removes one"
        )
    if len(value) > MAX_SET_CHARS:
        raise UsageError(f"--set {key}: the value is longer than {MAX_SET_CHARS:,} characters; use --vars FILE")
    if any(c in value for c in "\n\r\x00"):
        raise UsageError(f"--set {key}: a value is one line; it may not contain a line break or a NUL")
    flow = bool(op) or "." in key  # a path into the spec may take a flow collection; a variable takes a scalar
    try:
        typed = _yaml_value(key, value) if value.strip() else ""
    except UsageError:
        if flow:
            raise
        typed = value
    if not flow and isinstance(typed, (dict, list)):
        typed = value  # a scalar was promised; "[1, 2]" stays a string rather than surprising anyone
    return op + key, cli_number(value, typed)


def read_vars_file(path: str | Path) -> dict[str, Yaml]:
    """Variables from a --vars YAML file: a mapping of names to values."""
    p = Path(path)
    text = read_text_limited(p, f"--vars {path}", MAX_SPEC_BYTES, "variables")
    data = safe_yaml(str(path), text)
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) and re.fullmatch(_IDENT, k) for k in data):
        raise UsageError(f"--vars {path}: expected a mapping of variable names to values")
    return data


def load(
    path: str | Path,
    overrides: dict[str, Yaml] | None = None,
    vars_files: list[str] | None = None,
    swept: Collection[str] = (),
) -> Spec:
    """Read, render and parse the spec at `path`. Variables: the spec's `vars:` < each vars file < overrides, of
    which `swept` are a multirun point's (an error in one names it as `-m KEY=VALUE`)."""
    p = Path(path)
    display = str(path)
    source = read_text_limited(p, display, MAX_SPEC_BYTES, "specs")
    variables = dict(declared_vars(display, source))
    given: dict[str, Yaml] = {}
    for vf in vars_files or []:
        given.update(read_vars_file(vf))
    paths: dict[str, Yaml] = {}
    named: dict[str, Yaml] = {}
    templated = is_template(source)
    for key, value in (overrides or {}).items():
        op, name = split_override(key)
        if name.startswith("vars.") and name.count(".") == 1:  # the vars: block is the variables' defaults
            if op == "~":
                raise UsageError(f"--set {key}: a template variable is set, not removed: {name[5:]}=VALUE")
            op, name = "", name[5:]  # vars.NAME=V sets the variable, as NAME=V does (it was dropped unread)
            key = name
        # a name is a template variable where the spec declares or (a template) may use it; else a key of the spec
        variable = not op and "." not in name and (name in variables or (templated and name not in top_level_keys()))
        if variable:
            named[key] = _as_declared(key, value, variables.get(name))
        else:
            paths[key] = value
    given.update(named)
    # A value given from outside goes in as ONE scalar: it can never add keys to the spec.
    variables.update({k: Scalar(v) if isinstance(v, str) else v for k, v in given.items()})
    text, used = render(display, source, variables, set(given))
    data = plain_yaml(text)
    places = None
    if data is None:  # not plain (or not valid): the full parse, which also makes the marks and locates errors
        try:
            data, marks, key_marks = parse_yaml(display, text)
        except SpecError as e:
            raise as_rendered(e, source, text) if templated else e from None
        places = (marks, key_marks)
    applied, override_places = apply_overrides(
        display, data, lambda: places[0] if places else parse_yaml(display, text)[1], paths, swept
    )
    # Provenance records only what the rendered spec really used, and exactly the overrides applied.
    used_vars = {k: str(v) if isinstance(v, Scalar) else v for k, v in variables.items() if k in used}
    if not templated and isinstance(data, dict) and isinstance(data.get("vars"), dict):
        # a resolved spec (a run folder's spec.yaml, which `qrun rerun` runs) keeps the values it was made with
        used_vars = dict(data["vars"])
    return Spec(display, p, source, text, data, used_vars, applied, override_places, places)


def _as_declared(name: str, value: Yaml, declared: object) -> Yaml:
    """A variable's value from the command line, read as a list or mapping where `vars:` declares one (as Hydra reads
    `angles=[0.5,0.7]`): read as a string, a template's loop went over its characters."""
    if not isinstance(value, str) or not isinstance(declared, (list, dict)):
        return value
    parsed = _yaml_value(name, value)
    return parsed if isinstance(parsed, (list, dict)) else value


def _yaml_value(key: str, value: str) -> Yaml:
    """A command-line value read as YAML, with the spec's own nesting and alias limits; UsageError where it is not
    YAML qrun reads."""
    try:
        return safe_yaml(f"--set {key}", value)
    except SpecError as e:
        reason = e.problems[0].message.removeprefix("invalid YAML: ")
        raise UsageError(f"--set {key}: {short(value)} is not a YAML value qrun accepts: {reason}") from None


def declared_vars(file: str, source: str) -> dict[str, Yaml]:
    """The defaults in the spec's top-level `vars:` block, read before the template is rendered."""
    return top_block(file, source, "vars", "a mapping of variable names to default values")


def declared_multirun(file: str, source: str) -> dict[str, Yaml]:
    """The spec's top-level `multirun:` block (variable -> list of values), read before rendering."""
    found = top_block(file, source, "multirun", "a mapping of variable names to lists of values")
    for name, values in found.items():
        if not isinstance(values, list) or not values:
            raise SpecError([Problem(file, 1, 1, f"multirun.{name}", "expected a non-empty list of values")])
    return found


def top_block(file: str, source: str, key: str, expected: str) -> dict[str, Yaml]:
    """A top-level block of plain YAML (no template syntax) read from the source before it is rendered."""
    if f"{key}:" not in source:  # one scan of the text, where matching each of a large spec's lines took longer
        return {}
    pattern = re.compile(rf"^{key}:[ \t]*(?:#.*)?$|^{key}:[ \t]*(\{{.*)$")
    lines = source.splitlines()
    for i, line in enumerate(lines):
        m = pattern.match(line)
        if not m:
            continue
        block = [line]
        if not m.group(1):
            for nxt in lines[i + 1 :]:
                if nxt.strip() and not nxt[0].isspace() and not nxt.lstrip().startswith("#"):
                    break
                block.append(nxt)
        text = "\n".join(block)
        if "{{" in text or "{%" in text:
            raise SpecError(
                [
                    Problem(
                        file,
                        i + 1,
                        1,
                        key,
                        f"the {key}: block holds {'defaults' if key == 'vars' else 'values'} "
                        "and cannot use template syntax",
                    )
                ]
            )
        data = safe_yaml(file, text, line_offset=i) or {}
        found = data.get(key) or {}
        if not isinstance(found, dict):
            raise SpecError([Problem(file, i + 1, 1, key, f"expected {expected}")])
        return found
    return {}


def _python_files(data: dict[str, Yaml]) -> bool:
    """Whether a Python source names a file: the run folder's copy rewrites it from the repository's top."""
    return any(
        isinstance(v, dict) and str(v.get("python", "")).split(":")[0].endswith(".py")
        for kind in ("circuits", "observables")
        for v in (data.get(kind) or {}).values()
    )
