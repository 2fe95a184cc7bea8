"""Read a spec file, render it as a sandboxed Jinja2 template, and parse its YAML keeping line/column marks."""

from __future__ import annotations

import functools
import gc
import json
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import bounded
from .errors import Problem, SpecError, UsageError
from .overrides import JsonPath, format_path, owner, top_level_keys
from .overrides import apply as apply_overrides
from .overrides import split as split_override

# Hostile-input limits, checked before anything is built. A 10,000-job spec is about 0.9 MB and 15 levels deep.
MAX_SPEC_BYTES = 4 * 1024 * 1024  # the spec file, and the text a template renders to
MAX_DEPTH = 64  # nesting of mappings and sequences
MAX_NODES = 2_000_000  # YAML nodes after alias expansion (a "billion laughs" spec has 10^9)
MAX_RENDER_SECONDS = 3.0
MAX_SET_CHARS = 64 * 1024  # one --set value; longer values belong in a --vars file
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The defaults block is read before rendering, so it must be plain YAML at the top level.


class _ReadableDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """safe_dump, with multi-line strings (inlined OpenQASM) written as literal blocks; through libyaml's emitter
    where PyYAML has it (the Python emitter took 0.7 s to write a 1,000-job spec into its run folder)."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not any(c in value for c in "\r\t") and value == value.rstrip(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReadableDumper.add_representer(str, _str_representer)


@dataclass(frozen=True)
class Spec:
    """A loaded spec: its text before and after rendering, the parsed data, and where each value sits."""

    file: str
    path: Path
    source: str
    text: str
    data: Any
    variables: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)  # --set paths applied after rendering
    override_places: dict[JsonPath, str] = field(default_factory=dict)  # where each override set, as typed
    # Where each value and key sits. None until first needed: a valid spec never needs them, and making them is
    # most of what parsing a 10,000-job spec costs, so they are made by parsing `text` again when a problem is found.
    given_marks: tuple[dict[JsonPath, tuple[int, int]], dict[JsonPath, tuple[int, int]]] | None = None

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

    def resolved(self) -> dict[str, Any]:
        """The spec as it ran, self-contained: overrides applied, `vars:` holding the values used, and every file:
        circuit inlined as qasm: (its includes too), so the run folder's copy runs anywhere."""
        import copy

        from . import circuits

        data = copy.deepcopy(self.data)
        if not isinstance(data, dict):
            return data
        if self.variables:
            data["vars"] = dict(self.variables)
        elif "vars" in data:
            data["vars"] = {}
        data.pop("multirun", None)  # a point of a multirun is one run; running its folder again runs that point
        for name, source in (data.get("circuits") or {}).items():
            if isinstance(source, dict) and "file" in source:
                data["circuits"][name] = {"qasm": circuits.qasm_text(source, self.base_dir)}
        for kind in ("circuits", "observables"):
            for source in (data.get(kind) or {}).values():
                if isinstance(source, dict) and isinstance(source.get("python"), str):
                    from . import pysource

                    source["python"] = pysource.repo_relative(source["python"], self.base_dir)
        return data

    def resolved_text(self) -> str:
        header = f"# {self.file} as qrun ran it: rendered, overrides applied, file circuits inlined.\n"
        if self._as_written:
            # nothing to apply or inline: the text itself is the resolved spec, comments and layout kept (and a
            # 10,000-job spec is not dumped again through PyYAML's Python representer, about a second)
            return header + self.text
        return header + yaml.dump(
            self.resolved(), Dumper=_ReadableDumper, sort_keys=False, allow_unicode=True, width=120
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
        return Problem(self.file, line, col, format_path(path), message)


# A dotted path into the spec, as --set and -m take one: options.seed, jobs.vqe.precision
DOTTED_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_.\-\[\]θ]+)+")


def parse_assignment(text: str) -> tuple[str, Any]:
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
    valid = bool(_IDENT.fullmatch(key) or DOTTED_KEY.fullmatch(key))
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
    try:  # with the spec's own nesting and alias limits
        typed = safe_yaml(f"--set {key}", value) if value.strip() else ""
    except SpecError as e:
        if flow:
            reason = e.problems[0].message.removeprefix("invalid YAML: ")
            raise UsageError(f"--set {key}: {_short(value)} is not a YAML value qrun accepts: {reason}") from None
        typed = value
    if not flow and isinstance(typed, (dict, list)):
        typed = value  # a scalar was promised; "[1, 2]" stays a string rather than surprising anyone
    return op + key, typed


def read_text_limited(p: Path, display: str, limit: int, what: str) -> str:
    """A regular UTF-8 file's text, refusing FIFOs, devices, directories and anything over `limit` bytes.

    The size is checked on what is read, not only on stat(), so a file that grows while read cannot get past it.
    A leading byte-order mark is dropped.
    """
    import stat

    try:
        info = p.stat()
    except FileNotFoundError:
        raise UsageError(f"{display}: no such file") from None
    except OSError as e:
        raise UsageError(f"{display}: cannot read: {e.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{display}: is a directory; qrun reads {what} from files")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{display}: is not a regular file (a pipe or a device?); qrun reads {what} from files")
    if info.st_size > limit:
        raise SpecError(
            [
                Problem(
                    display, 1, 1, "", f"the file is {info.st_size:,} bytes, more than the {limit:,} allowed for {what}"
                )
            ]
        )
    try:
        with open(p, "rb") as f:
            raw = f.read(limit + 1)
    except OSError as e:
        raise UsageError(f"{display}: cannot read: {e.strerror}") from None
    if len(raw) > limit:
        raise SpecError([Problem(display, 1, 1, "", f"the file is more than the {limit:,} bytes qrun reads as {what}")])
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise SpecError([Problem(display, 1, 1, "", "not a UTF-8 text file")]) from None


def safe_yaml(file: str, text: str, line_offset: int = 0) -> Any:
    """yaml.safe_load after the nesting and alias-expansion limits are checked (see guard_yaml)."""
    guard_yaml(file, text, line_offset)
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        problem = _yaml_problem(file, e)
        raise SpecError(
            [Problem(file, problem.line + line_offset, problem.col, problem.path, problem.message)]
        ) from None


def guard_yaml(file: str, text: str, line_offset: int = 0) -> None:
    """Refuse YAML nested deeper than MAX_DEPTH, whose aliases (merge keys included) expand past MAX_NODES, or with an
    alias inside the node it names (recursive data).

    Events come from libyaml's state machine, which does not recurse, and the walk stops at the first excess; so
    neither a 50,000-level nesting nor a billion-laughs alias bomb is ever composed.
    """
    _guard_events(file, text, line_offset, getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _guard_events(file: str, text: str, line_offset: int, loader: Any) -> None:
    nodes = 0
    sizes: dict[str, int] = {}
    frames: list[tuple[str | None, int]] = []  # per open collection: its anchor, the node count at its start
    scalar, alias = yaml.ScalarEvent, yaml.AliasEvent
    starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    events: Any = yaml.parse(text, Loader=loader)  # typeshed's Event has no anchor; its subclasses do
    try:
        for event in events:
            kind = type(event)  # one type test per event, the commonest first: this loop sees every event
            if kind is scalar:
                nodes += 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif kind in starts:
                nodes += 1
                if len(frames) >= MAX_DEPTH:
                    raise _limit(file, event, line_offset, f"nested more than {MAX_DEPTH} levels deep")
                frames.append((event.anchor, nodes))
            elif kind in ends:
                anchor, start = frames.pop()
                if anchor is not None:
                    sizes[anchor] = nodes - start + 1
            elif kind is alias:
                if any(anchor == event.anchor for anchor, _ in frames):
                    # an alias inside the node it names: recursive data, which no spec needs and no walk survives
                    raise _limit(
                        file,
                        event,
                        line_offset,
                        f"alias *{event.anchor} is inside the node &{event.anchor} it refers to: recursive data is refused",
                    )
                nodes += sizes.get(event.anchor or "", 1)
            if nodes > MAX_NODES:
                raise _limit(
                    file,
                    event,
                    line_offset,
                    f"aliases expand this document to more than {MAX_NODES:,} values; write the values out instead",
                )
    except yaml.YAMLError as e:
        if loader is not yaml.SafeLoader and _NESTING_LIMIT in str(getattr(e, "problem", "")):
            # libyaml (PyYAML 6.0.4's wheels) has a nesting limit of its own, met by its scanner before any event
            # reaches this walk. PyYAML's own scanner and parser are iterative too, and have no such limit: they
            # find the level where qrun's limit is passed, so the message is the same whichever library is in.
            _guard_events(file, text, line_offset, yaml.SafeLoader)
            raise _limit(file, e, line_offset, f"nested more than {MAX_DEPTH} levels deep") from None
        return  # a syntax error: the parser proper reports it, located


_NESTING_LIMIT = "maximum nesting depth"


def _limit(file: str, event: Any, line_offset: int, message: str) -> SpecError:
    mark = getattr(event, "start_mark", None) or event.problem_mark
    return SpecError([Problem(file, mark.line + 1 + line_offset, mark.column + 1, "", message)])


def read_vars_file(path: str | Path) -> dict[str, Any]:
    """Variables from a --vars YAML file: a mapping of names to values."""
    p = Path(path)
    text = read_text_limited(p, f"--vars {path}", MAX_SPEC_BYTES, "variables")
    data = safe_yaml(str(path), text)
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) and _IDENT.fullmatch(k) for k in data):
        raise UsageError(f"--vars {path}: expected a mapping of variable names to values")
    return data


def load(path: str | Path, overrides: dict[str, Any] | None = None, vars_files: list[str] | None = None) -> Spec:
    """Read, render and parse the spec at `path`. Variables: the spec's `vars:` < each vars file < overrides."""
    p = Path(path)
    display = str(path)
    source = read_text_limited(p, display, MAX_SPEC_BYTES, "specs")
    variables = dict(declared_vars(display, source))
    given: dict[str, Any] = {}
    for vf in vars_files or []:
        given.update(read_vars_file(vf))
    paths: dict[str, Any] = {}
    named: dict[str, Any] = {}
    templated = is_template(source)
    for key, value in (overrides or {}).items():
        op, name = split_override(key)
        # a name is a template variable where the spec declares or (a template) may use it; else a key of the spec
        variable = not op and "." not in name and (name in variables or (templated and name not in top_level_keys()))
        (named if variable else paths)[key] = value
    given.update(named)
    # A value given from outside goes in as ONE scalar: it can never add keys to the spec.
    variables.update({k: Scalar(v) if isinstance(v, str) else v for k, v in given.items()})
    text, used = render(display, source, variables, set(given))
    data = plain_yaml(text)
    places = None
    if data is None:  # not plain (or not valid): the full parse, which also makes the marks and locates errors
        data, marks, key_marks = parse_yaml(display, text)
        places = (marks, key_marks)
    applied, override_places = apply_overrides(
        display, data, lambda: places[0] if places else parse_yaml(display, text)[1], paths
    )
    # Provenance records only what the rendered spec really used, and exactly the overrides applied.
    used_vars = {k: str(v) if isinstance(v, Scalar) else v for k, v in variables.items() if k in used}
    if not templated and isinstance(data, dict) and isinstance(data.get("vars"), dict):
        # a resolved spec (a run folder's spec.yaml, which `qrun rerun` runs) keeps the values it was made with
        used_vars = dict(data["vars"])
    return Spec(display, p, source, text, data, used_vars, applied, override_places, places)


def declared_vars(file: str, source: str) -> dict[str, Any]:
    """The defaults in the spec's top-level `vars:` block, read before the template is rendered."""
    return top_block(file, source, "vars", "a mapping of variable names to default values")


def declared_multirun(file: str, source: str) -> dict[str, Any]:
    """The spec's top-level `multirun:` block (variable -> list of values), read before rendering."""
    found = top_block(file, source, "multirun", "a mapping of variable names to lists of values")
    for name, values in found.items():
        if not isinstance(values, list) or not values:
            raise SpecError([Problem(file, 1, 1, f"multirun.{name}", "expected a non-empty list of values")])
    return found


def top_block(file: str, source: str, key: str, expected: str) -> dict[str, Any]:
    """A top-level block of plain YAML (no template syntax) read from the source before it is rendered."""
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


class Scalar(str):
    """A string value given from outside the spec (--set, --vars, a keyword): rendered as one YAML scalar."""


MAX_TEMPLATE_STEPS = 1_000_000  # range() items a template may iterate over, all loops together


def is_template(source: str) -> bool:
    """Whether the spec has Jinja2 markup; a plain spec is YAML as written."""
    return "{{" in source or "{%" in source or "{#" in source


def render(file: str, source: str, variables: dict[str, Any], given: set[str] | None = None) -> tuple[str, set[str]]:
    """Render `source` in a Jinja2 sandbox where an undefined name is an error; located errors, never a traceback.

    Returns the text and the names it uses. A name in `given` (set from outside) that the spec does not use is an
    error, template or not. Rendering is bounded: MAX_TEMPLATE_STEPS loop steps, MAX_RENDER_SECONDS, and
    MAX_SPEC_BYTES of output; `*` and `**` may not build huge values.
    """
    given = given or set()
    if not is_template(source):
        if given:
            raise UsageError(
                f"{file}: the spec does not use variable(s) {', '.join(sorted(given))} (it is not a "
                "template: it has no {{ ... }})"
            )
        return source, set()
    try:
        # In a child killed at the deadline: loop counters cannot bound a slow loop body, a long filter (wordwrap,
        # lipsum) or iteration over a long string; a hard wall-clock and memory limit can.
        return bounded.call(lambda: _render(file, source, variables, given), MAX_RENDER_SECONDS)
    except bounded.Exceeded as e:
        why = {
            "time": f"takes more than {MAX_RENDER_SECONDS:g} s to render",
            "memory": f"needs more than {bounded.EXTRA_MEMORY >> 30} GiB of memory to render",
        }.get(e.reason, f"rendering stopped unexpectedly ({e.detail})")
        raise SpecError([Problem(file, 0, 0, "template", why)]) from None


def _render(file: str, source: str, variables: dict[str, Any], given: set[str]) -> tuple[str, set[str]]:
    from jinja2 import TemplateError, TemplateSyntaxError, meta

    env = _bounded_sandbox()
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as e:
        raise SpecError([Problem(file, e.lineno or 1, 0, "template", e.message or str(e))]) from None
    used = meta.find_undeclared_variables(ast)
    unused = sorted(given - used)
    if unused:
        raise UsageError(
            f"{file}: the template does not use variable(s) {', '.join(unused)}"
            f" (it uses: {', '.join(sorted(used)) or 'none'})"
        )
    limit = sys.getrecursionlimit()
    # A macro that calls itself would recurse until memory runs out; cap the stack a template may use.
    sys.setrecursionlimit(_stack_depth() + 600)
    try:
        pieces, size = [], 0
        for piece in env.from_string(ast).generate(**variables):
            size += len(piece)
            if size > MAX_SPEC_BYTES:
                raise _TemplateLimit(f"renders to more than {MAX_SPEC_BYTES:,} characters")
            pieces.append(piece)
        return "".join(pieces), set(used)
    except _TemplateLimit as e:
        raise SpecError([Problem(file, _template_line(e), 0, "template", str(e))]) from None
    except RecursionError as e:
        raise SpecError(
            [
                Problem(
                    file,
                    _template_line(e),
                    0,
                    "template",
                    "macros call each other too deeply (is one calling itself without end?)",
                )
            ]
        ) from None
    except TemplateError as e:
        if type(e).__name__ == "SecurityError":
            raise SpecError([Problem(file, _template_line(e), 0, "template", f"refused by the sandbox: {e}")]) from None
        raise SpecError([Problem(file, _template_line(e), 0, "template", e.message or str(e))]) from None
    except TypeError as e:
        if "no loader" in str(e):  # {% include %}, {% import %}, {% extends %}: a spec is one self-contained file
            raise SpecError(
                [
                    Problem(
                        file,
                        _template_line(e),
                        0,
                        "template",
                        "a spec template cannot include, import or extend other templates",
                    )
                ]
            ) from None
        raise SpecError([Problem(file, _template_line(e), 0, "template", f"TypeError: {e}")]) from None
    except Exception as e:  # anything a template expression raises (1/0, the sandbox's range cap) is the spec's fault
        raise SpecError([Problem(file, _template_line(e), 0, "template", f"{type(e).__name__}: {e}")]) from None
    finally:
        sys.setrecursionlimit(limit)


def _stack_depth() -> int:
    frame: types.FrameType | None = sys._getframe()
    depth = 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


class _TemplateLimit(Exception):
    """A template went past one of render()'s bounds (internal to spec.py; reported as a located SpecError)."""


def _bounded_sandbox() -> Any:
    """A SandboxedEnvironment whose loops, arithmetic and time are bounded."""
    import time

    from jinja2 import StrictUndefined
    from jinja2.sandbox import MAX_RANGE, SandboxedEnvironment

    deadline = time.monotonic() + MAX_RENDER_SECONDS
    steps = [0]

    def bounded_range(*args: int) -> Any:
        if len(range(*args)) > MAX_RANGE:
            raise OverflowError(f"Range too big. The sandbox blocks ranges larger than MAX_RANGE ({MAX_RANGE}).")
        for i in range(*args):
            steps[0] += 1
            if steps[0] > MAX_TEMPLATE_STEPS:
                raise _TemplateLimit(f"loops take more than {MAX_TEMPLATE_STEPS:,} steps")
            if steps[0] % 4096 == 0 and time.monotonic() > deadline:
                raise _TemplateLimit(f"takes more than {MAX_RENDER_SECONDS:g} s to render")
            yield i

    class Bounded(SandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            big_power = operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0
            if big_power and left.bit_length() * right > 4096:
                raise _TemplateLimit(f"{left} ** {right} is too large a number")
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_SPEC_BYTES:
                        raise _TemplateLimit(f"repeating a value {n:,} times makes it too long")
                if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > 4096:
                    raise _TemplateLimit("the product is too large a number")
            return super().call_binop(context, operator, left, right)

    env = Bounded(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False, finalize=yaml_value)
    env.globals["range"] = bounded_range
    return env


def yaml_value(value: Any) -> Any:
    """How a value prints into the YAML text: as YAML reads it back (1e-05 -> 1.0e-05, None -> null). A string
    given from outside (Scalar) that YAML would not read back as itself is written double-quoted, so it stays
    one scalar: "x\nmode: batch" can never become a second key."""
    if isinstance(value, Scalar):
        try:  # guarded: a value nested thousands deep must not reach PyYAML's recursive composer
            plain = safe_yaml("", str(value)) == str(value) and "\n" not in value
        except SpecError:
            plain = False
        return str(value) if plain else json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, str) or not isinstance(value, (bool, int, float, list, tuple, dict, type(None))):
        return value
    text = yaml.safe_dump(value, default_flow_style=True, width=float("inf"))
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _template_line(error: BaseException) -> int:
    """The template line an exception was raised at; Jinja rewrites tracebacks to carry it."""
    line = 1
    tb: types.TracebackType | None = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _yaml_problem(file: str, error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    what = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    message = f"invalid YAML: {what}" + (f" ({context})" if context else "")
    if mark is None:
        return Problem(file, 1, 1, "", message)
    return Problem(file, mark.line + 1, mark.column + 1, "", message)


_PLAIN_LOADER = getattr(yaml, "CSafeLoader", None)
_RESOLVE = yaml.resolver.Resolver().resolve
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_NO_VALUE = object()


class _OpenMap:
    """A mapping being read: its values so far, the key read and waiting for its value, the keys as written."""

    __slots__ = ("key", "raw", "value")

    def __init__(self) -> None:
        self.value: dict[Any, Any] = {}
        self.key: Any = _NO_VALUE
        self.raw: set[str] = set()


def plain_yaml(text: str) -> Any:
    """The values of a plain YAML document, exactly as the full parse makes them, from libyaml's events in one pass
    with no nodes and no marks; None if the text is anything else, for the full parse to judge and locate.

    Plain: one document of mappings, sequences and scalars, with scalar keys, no key twice, no anchor, alias or
    explicit tag, nested at most MAX_DEPTH deep. That is every spec qrun ships and nearly every one users write.
    Each scalar gets PyYAML's own tag resolution and constructor; a test holds the values equal to the full parse.
    """
    if _PLAIN_LOADER is None or not text or len(text.encode("utf-8")) > MAX_SPEC_BYTES:
        return None  # (too long: the full parse says so)
    scalar_event, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    constructors = _CONSTRUCTOR.yaml_constructors
    # A plain scalar's value depends on its text alone, and is immutable (str, int, float, bool, None, a date):
    # each distinct text is resolved and built once (a 10,000-job spec repeats its keys and most values).
    plain: dict[str, Any] = {}
    stack: list[Any] = []  # the open collections: a list, or an _OpenMap
    result: Any = _NO_VALUE
    documents = 0
    loader = _PLAIN_LOADER(text)
    enabled = gc.isenabled()
    gc.disable()  # one object per value and none freed: the collector's passes would find nothing (as in parse_yaml)
    try:
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind is scalar_event:
                if event.anchor is not None or event.tag not in (None, "!"):
                    return None
                value = event.value
                if event.implicit[0]:  # a plain scalar: resolved as PyYAML resolves it (anything else is a str)
                    made = plain.get(value, _NO_VALUE)
                    if made is _NO_VALUE:
                        tag = _RESOLVE(yaml.ScalarNode, value, event.implicit)
                        if tag == _MERGE or (tag != _STR and tag not in constructors):
                            return None
                        made = plain[value] = (
                            value if tag == _STR else constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, value))
                        )
                    value = made
                top = stack[-1] if stack else None
                if type(top) is _OpenMap and top.key is _NO_VALUE:  # a key
                    if event.value in top.raw:
                        return None  # a key given twice: the full parse says where
                    top.raw.add(event.value)
                    top.key = value
                    continue
            elif kind is mapping_start or kind is sequence_start:
                if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH:
                    return None
                if stack and type(stack[-1]) is _OpenMap and stack[-1].key is _NO_VALUE:
                    return None  # a collection as a key
                stack.append(_OpenMap() if kind is mapping_start else [])
                continue
            elif kind in ends:
                top = stack.pop()
                value = top.value if type(top) is _OpenMap else top
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    return None
                continue
            elif kind is yaml.StreamEndEvent:
                break
            elif kind is yaml.AliasEvent:
                return None
            else:  # the stream's start and the document's end
                continue
            if not stack:
                result = value
            elif type(stack[-1]) is _OpenMap:
                top = stack[-1]
                try:
                    top.value[top.key] = value
                except TypeError:  # an unhashable key
                    return None
                top.key = _NO_VALUE
            else:
                stack[-1].append(value)
    except (yaml.YAMLError, ValueError):  # ValueError: an integer past Python's digit limit; the full parse says so
        return None
    finally:
        loader.dispose()
        if enabled:
            gc.enable()
    return None if result is _NO_VALUE else result


def parse_yaml(file: str, text: str) -> tuple[Any, dict, dict]:
    """yaml.safe_load semantics (merge keys included), plus the line/column of every value and key; duplicate keys
    refused, and the nesting and alias limits checked before anything is composed."""
    if len(text.encode("utf-8")) > MAX_SPEC_BYTES:
        raise SpecError([Problem(file, 1, 1, "template", f"renders to more than {MAX_SPEC_BYTES:,} bytes")])
    guard_yaml(file, text)
    # libyaml where present (5x faster on a 1,000-job spec): the same safe_load semantics and the same marks.
    fast = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    marks: dict[JsonPath, tuple[int, int]] = {}
    key_marks: dict[JsonPath, tuple[int, int]] = {}
    problems: list[Problem] = []
    # Composing and marking build one Python object per YAML node and free none: the garbage collector's passes over
    # them find nothing to collect and more than doubled validate's time at 10,000 jobs, so it is paused meanwhile.
    enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            loader, node, data = _compose(fast, text, file, marks, key_marks, problems)
        except yaml.YAMLError as first:
            error = first
            if fast is not yaml.SafeLoader:
                error = _better_yaml_error(text, first)
            raise SpecError([_yaml_problem(file, error)]) from None
    finally:
        if enabled:
            gc.enable()
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
    loader_class: Any, text: str, file: str, marks: dict, key_marks: dict, problems: list[Problem]
) -> tuple[Any, Any, Any]:
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
    file: str, node: Any, path: JsonPath, marks: dict, key_marks: dict, problems: list[Problem], loader: Any
) -> Any:
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
    out: dict[Any, Any] = {}
    seen: dict[Any, int] = {}
    for key_node, value_node in node.value:
        name = key_node.value  # the key as written: marks and duplicates go by it (`1` and `'1'` are one key)
        if _first(file, path, name, key_node, seen, key_marks, problems):
            out[_scalar(key_node, loader)] = _build(
                file, value_node, path + (name,), marks, key_marks, problems, loader
            )
    return out


def _scalar(node: Any, loader: Any) -> Any:
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
    file: str, path: JsonPath, name: Any, key_node: Any, seen: dict, key_marks: dict, problems: list[Problem]
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


def _walk(file: Any, node: Any, path: Any, marks: Any, key_marks: Any, problems: Any, loader: Any) -> None:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        if node in loader.constructed_objects:
            problems = []  # built already, its merge keys flattened into it: its keys were checked the first time
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            if _first(file, path, key, key_node, seen, key_marks, problems):
                _walk(file, value_node, path + (key,), marks, key_marks, problems, loader)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(file, item, path + (i,), marks, key_marks, problems, loader)


def differences(old: Any, new: Any, path: str = "") -> list[str]:
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
    return [] if old == new else [f"{path}: {_short(old)} -> {_short(new)}"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _python_files(data: dict[str, Any]) -> bool:
    """Whether a Python source names a file: the run folder's copy rewrites it from the repository's top."""
    return any(
        isinstance(v, dict) and str(v.get("python", "")).split(":")[0].endswith(".py")
        for kind in ("circuits", "observables")
        for v in (data.get(kind) or {}).values()
    )
