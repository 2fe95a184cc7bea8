"""Read a spec file, render it as a sandboxed Jinja2 template, and parse its YAML keeping line/column marks."""

from __future__ import annotations

import re
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, SpecError, UsageError

JsonPath = tuple[str | int, ...]
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The defaults block is read before rendering, so it must be plain YAML at the top level.
_VARS_LINE = re.compile(r"^vars:[ \t]*(?:#.*)?$|^vars:[ \t]*(\{.*)$")


@dataclass(frozen=True)
class Spec:
    """A loaded spec: its text before and after rendering, the parsed data, and where each value sits."""

    file: str
    path: Path
    source: str
    text: str
    data: Any
    variables: dict[str, Any] = field(default_factory=dict)
    marks: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)

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
        line, col = self.locate(path, at_key)
        return Problem(self.file, line, col, format_path(path), message)


def format_path(path: JsonPath) -> str:
    """("jobs", 2, "shots") -> "jobs[2].shots"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.fullmatch(part) or re.fullmatch(r"[A-Za-z0-9_.-]+", part) and "." not in part:
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse a --set KEY=VALUE argument, typing VALUE as a YAML scalar."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not _IDENT.fullmatch(key):
        raise UsageError(f"--set {text!r}: expected KEY=VALUE with KEY a variable name, e.g. --set field=0.5")
    try:
        typed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        typed = value
    if isinstance(typed, (dict, list)):
        typed = value  # a scalar was promised; "[1, 2]" stays a string rather than surprising anyone
    return key, typed


def read_vars_file(path: str | Path) -> dict[str, Any]:
    """Variables from a --vars YAML file: a mapping of names to values."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"--vars {path}: cannot read: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise SpecError([_yaml_problem(str(path), e)]) from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) and _IDENT.fullmatch(k) for k in data):
        raise UsageError(f"--vars {path}: expected a mapping of variable names to values")
    return data


def load(path: str | Path, overrides: dict[str, Any] | None = None, vars_files: list[str] | None = None) -> Spec:
    """Read, render and parse the spec at `path`. Variables: the spec's `vars:` < each vars file < overrides."""
    p = Path(path)
    display = str(path)
    try:
        source = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{display}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{display}: is a directory, not a spec file") from None
    except UnicodeDecodeError:
        raise SpecError([Problem(display, 1, 1, "", "not a UTF-8 text file")]) from None
    variables = dict(declared_vars(display, source))
    for vf in vars_files or []:
        variables.update(read_vars_file(vf))
    variables.update(overrides or {})
    text = render(display, source, variables)
    data, marks, key_marks = parse_yaml(display, text)
    return Spec(display, p, source, text, data, variables, marks, key_marks)


def declared_vars(file: str, source: str) -> dict[str, Any]:
    """The defaults in the spec's top-level `vars:` block, read before the template is rendered."""
    lines = source.splitlines()
    for i, line in enumerate(lines):
        m = _VARS_LINE.match(line)
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
                [Problem(file, i + 1, 1, "vars", "the vars: block holds defaults and cannot use template syntax")]
            )
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            problem = _yaml_problem(file, e)
            raise SpecError([Problem(file, problem.line + i, problem.col, "vars", problem.message)]) from None
        found = data.get("vars") or {}
        if not isinstance(found, dict):
            raise SpecError([Problem(file, i + 1, 1, "vars", "expected a mapping of variable names to default values")])
        return found
    return {}


def render(file: str, source: str, variables: dict[str, Any]) -> str:
    """Render `source` in a Jinja2 sandbox where an undefined name is an error; located errors, never a traceback."""
    if "{{" not in source and "{%" not in source and "{#" not in source:
        return source
    from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
    from jinja2.sandbox import SandboxedEnvironment, SecurityError

    env = SandboxedEnvironment(
        undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False, finalize=yaml_value
    )
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as e:
        raise SpecError([Problem(file, e.lineno or 1, 0, "template", e.message or str(e))]) from None
    unused = sorted(set(variables) - meta.find_undeclared_variables(ast) - set(declared_vars(file, source)))
    if unused:
        raise UsageError(
            f"{file}: the template does not use variable(s) {', '.join(unused)}"
            f" (it uses: {', '.join(sorted(meta.find_undeclared_variables(ast))) or 'none'})"
        )
    try:
        return env.from_string(ast).render(**variables)
    except SecurityError as e:
        raise SpecError([Problem(file, _template_line(e), 0, "template", f"refused by the sandbox: {e}")]) from None
    except TemplateError as e:
        raise SpecError([Problem(file, _template_line(e), 0, "template", e.message or str(e))]) from None
    except Exception as e:  # anything a template expression raises (1/0, the sandbox's range cap) is the spec's fault
        raise SpecError([Problem(file, _template_line(e), 0, "template", f"{type(e).__name__}: {e}")]) from None


def yaml_value(value: Any) -> Any:
    """How a non-string value prints into the YAML text: as YAML reads it back (1e-05 -> 1.0e-05, None -> null)."""
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


def parse_yaml(file: str, text: str) -> tuple[Any, dict, dict]:
    """yaml.safe_load semantics, plus the line/column of every value and key, and duplicate keys refused."""
    # libyaml where present (5x faster on a 1,000-job spec): the same safe_load semantics and the same marks.
    fast = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        loader, node, data = _compose(fast, text)
    except yaml.YAMLError as first:
        error = first
        if fast is not yaml.SafeLoader:
            try:  # the pure-Python parser words its errors better ("... but found '-'"); errors are rare
                _compose(yaml.SafeLoader, text)
            except yaml.YAMLError as better:
                error = better
        raise SpecError([_yaml_problem(file, error)]) from None
    marks: dict[JsonPath, tuple[int, int]] = {}
    key_marks: dict[JsonPath, tuple[int, int]] = {}
    problems: list[Problem] = []
    if node is not None:
        _walk(file, node, (), marks, key_marks, problems, loader)
    if problems:
        raise SpecError(problems)
    return data, marks, key_marks


def _compose(loader_class, text: str):
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return loader, node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _walk(file, node, path, marks, key_marks, problems, loader) -> None:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag.endswith(":int"):
                key = str(key)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(
                        file,
                        line,
                        key_node.start_mark.column + 1,
                        format_path(path + (key,)),
                        f"duplicate key (first given on line {seen[key]})",
                    )
                )
                continue
            seen[key] = line
            key_marks[path + (key,)] = (line, key_node.start_mark.column + 1)
            _walk(file, value_node, path + (key,), marks, key_marks, problems, loader)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(file, item, path + (i,), marks, key_marks, problems, loader)
