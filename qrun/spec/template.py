"""The Jinja2 sandbox a spec template renders in: undefined names, loops, arithmetic, time and output all bounded."""

from __future__ import annotations

import json
import re
import sys
import time
import types
from typing import TYPE_CHECKING

from ..errors import Problem, SpecError, UsageError
from ..model.findings import close_matches
from . import bounded, rendercache
from .source import MAX_SPEC_BYTES, safe_yaml, yaml

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from jinja2.runtime import Context
    from jinja2.sandbox import SandboxedEnvironment

MAX_RENDER_SECONDS = 3.0
MAX_TEMPLATE_STEPS = 1_000_000  # range() items a template may iterate over, all loops together


class Scalar(str):
    """A string value given from outside the spec (--set, --vars, a keyword): rendered as one YAML scalar."""


# one scan for all three openings: three `in` tests each stopped at every `{` of a large spec's flow mappings
_MARKUP = re.compile(r"\{[{%#]")


def is_template(source: str) -> bool:
    """Whether the spec has Jinja2 markup ({{, {% or {#); a plain spec is YAML as written."""
    return _MARKUP.search(source) is not None


def render(file: str, source: str, variables: dict[str, object], given: set[str] | None = None) -> tuple[str, set[str]]:
    """Render `source` in a Jinja2 sandbox where an undefined name is an error; located errors, never a traceback.

    Returns the text and the names it uses. A name in `given` (set from outside) that the spec does not use is an
    error, template or not. Rendering is bounded: MAX_TEMPLATE_STEPS loop steps, MAX_RENDER_SECONDS, and
    MAX_SPEC_BYTES of output; `*` and `**` may not build huge values.
    """
    given = given or set()
    if not is_template(source):
        if given:
            raise UsageError(
                f"{file}: the spec does not use {_variables(sorted(given))} (it is not a template: it has no "
                "{{ ... }})"
            )
        return source, set()
    # A template rendered before with the same variables by the same code gives the same text: read back, it costs
    # neither Jinja2's import nor the child's fork (rendercache.py says what is not kept).
    name = rendercache.key(source, variables, __file__)
    stored = rendercache.lookup(name) if name is not None else None
    if stored is not None:
        _check_given(file, given, stored[1])
        return stored
    # Imported here, before the fork: each child would otherwise import Jinja2 itself, most of a render's time (a
    # multirun renders the template once a point). Importing reads no untrusted input.
    import jinja2.meta
    import jinja2.sandbox  # noqa: F401

    try:
        # In a child killed at the deadline: loop counters cannot bound a slow loop body, a long filter (wordwrap,
        # lipsum) or iteration over a long string; a hard wall-clock and memory limit can.
        text, used, drew = bounded.call(lambda: _render(file, source, variables, given), MAX_RENDER_SECONDS)
    except bounded.Exceeded as e:
        why = {
            "time": f"takes more than {MAX_RENDER_SECONDS:g} s to render",
            "memory": f"needs more than {bounded.EXTRA_MEMORY >> 30} GiB of memory to render",
        }.get(e.reason, f"rendering stopped unexpectedly ({e.detail})")
        raise SpecError([Problem(file, 0, 0, "template", why)]) from None
    if name is not None and not drew:
        rendercache.keep(name, text, used)
    return text, used


def _check_given(file: str, given: set[str], used: set[str]) -> None:
    """A variable set from outside that the template does not use is a mistake: say which, and what it uses."""
    unused = sorted(given - used)
    if unused:
        close = [f"{name}: did you mean {near[0]}?" for name in unused if (near := close_matches(name, sorted(used)))]
        raise UsageError(
            f"{file}: the template does not use {_variables(unused)}"
            f" (it uses: {', '.join(sorted(used)) or 'none'}){'; ' + '; '.join(close) if close else ''}"
        )


def _variables(names: list[str]) -> str:
    return f"variable{'s' * (len(names) > 1)} {', '.join(names)}"


def _render(file: str, source: str, variables: dict[str, object], given: set[str]) -> tuple[str, set[str], bool]:
    """The rendered text, the variables it used, and whether it drew random values (then it is not kept)."""
    from jinja2 import TemplateError, TemplateSyntaxError, meta

    env, drew = _bounded_sandbox()
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as e:
        raise SpecError([Problem(file, e.lineno or 1, 0, "template", e.message or str(e))]) from None
    used = meta.find_undeclared_variables(ast)
    _check_given(file, given, used)
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
        return "".join(pieces), set(used), drew[0]
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
        said = e.message or str(e)
        unset = re.fullmatch(r"'(\w+)' is undefined", said)
        if unset is not None and unset[1] in used and unset[1] not in variables:
            said += f": set {unset[1]}=VALUE after the spec, or give it in vars:"
        raise SpecError([Problem(file, _template_line(e), 0, "template", said)]) from None
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
        raise SpecError([Problem(file, _template_line(e), 0, "template", _type_error(e, variables, used))]) from None
    except Exception as e:  # anything a template expression raises (1/0, the sandbox's range cap) is the spec's fault
        raise SpecError([Problem(file, _template_line(e), 0, "template", f"{type(e).__name__}: {e}")]) from None
    finally:
        sys.setrecursionlimit(limit)


_QUOTED_SCALAR, _QUOTED_STR = "'Scalar'", "'str'"  # how a TypeError names a value's class


def _type_error(error: TypeError, variables: dict[str, object], used: set[str]) -> str:
    """A TypeError in the user's words: an undefined variable where Python wanted a number (range(count)) is named,
    and a value given from outside as text is called text, not by qrun's class for it."""
    said = str(error)
    if "Undefined'" in said:
        missing = sorted(used - set(variables))
        if missing:
            names = ", ".join(f"'{n}'" for n in missing)
            if len(missing) == 1:
                return f"{names} is undefined: set {missing[0]}=VALUE after the spec, or give it in vars:"
            return f"{names} are undefined: set each as NAME=VALUE after the spec, or give them in vars:"
    if _QUOTED_SCALAR in said:
        text = [f"{k}={str(v)!r}" for k, v in variables.items() if k in used and isinstance(v, Scalar)]
        verb = "is" if len(text) == 1 else "are"
        return f"TypeError: {said.replace(_QUOTED_SCALAR, _QUOTED_STR)} ({', '.join(text)} {verb} text, given from outside)"
    return f"TypeError: {said}"


def _stack_depth() -> int:
    frame: types.FrameType | None = sys._getframe()
    depth = 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


class _TemplateLimit(Exception):
    """A template went past one of render()'s bounds (internal to spec.py; reported as a located SpecError)."""


class _Steps:
    """A template's range(): each value any loop takes counts as a step of render()'s bound, and, as Jinja2's own
    range, it can be looped over again, measured and indexed (a generator was spent by its first loop, so a second
    loop over `{% set delays = range(0, 300, 3) %}` rendered nothing, and `|length` failed)."""

    def __init__(self, values: range, step: Callable[[], None]):
        self._values, self._step = values, step

    def __iter__(self) -> Iterator[int]:
        for value in self._values:
            self._step()
            yield value

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, at: int | slice) -> int | _Steps:
        got = self._values[at]
        return _Steps(got, self._step) if isinstance(got, range) else got

    def __reversed__(self) -> Iterator[int]:
        return iter(self[::-1])  # type: ignore[arg-type]


def _bounded_sandbox() -> tuple[SandboxedEnvironment, list[bool]]:
    """A SandboxedEnvironment whose loops, arithmetic and time are bounded, and a flag set once the template draws a
    random value (Jinja2's `random` filter, `lipsum`): such a render is not kept (rendercache.py)."""

    from jinja2 import StrictUndefined
    from jinja2.sandbox import MAX_RANGE, SandboxedEnvironment

    deadline = time.monotonic() + MAX_RENDER_SECONDS
    steps = [0]

    def step() -> None:
        steps[0] += 1
        if steps[0] > MAX_TEMPLATE_STEPS:
            raise _TemplateLimit(f"loops take more than {MAX_TEMPLATE_STEPS:,} steps")
        if steps[0] % 4096 == 0 and time.monotonic() > deadline:
            raise _TemplateLimit(f"takes more than {MAX_RENDER_SECONDS:g} s to render")

    def bounded_range(*args: int) -> _Steps:
        if len(range(*args)) > MAX_RANGE:
            raise OverflowError(f"Range too big. The sandbox blocks ranges larger than MAX_RANGE ({MAX_RANGE}).")
        return _Steps(range(*args), step)

    class Bounded(SandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context: Context, operator: str, left: object, right: object) -> object:
            big = isinstance(left, int) and isinstance(right, int) and right > 0 and left.bit_length() * right > 4096
            if operator == "**" and big:
                raise _TemplateLimit(f"{left} ** {right} is too large a number")
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_SPEC_BYTES:
                        raise _TemplateLimit(f"repeating a value {n:,} times makes it too long")
                if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > 4096:
                    raise _TemplateLimit("the product is too large a number")
            return super().call_binop(context, operator, left, right)

    drew = [False]

    def noting(draw: Callable[..., object]) -> Callable[..., object]:
        def noted(*args: object, **kwargs: object) -> object:
            drew[0] = True
            return draw(*args, **kwargs)

        noted.__dict__.update(draw.__dict__)  # Jinja2's mark that the filter takes the context
        return noted

    env = Bounded(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False, finalize=yaml_value)
    env.globals["range"] = bounded_range
    lipsum = env.globals["lipsum"]
    if callable(lipsum):
        env.globals["lipsum"] = noting(lipsum)
    env.filters["random"] = noting(env.filters["random"])
    return env, drew


def yaml_value(value: object) -> object:
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
