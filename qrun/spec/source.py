"""Bounded reading: a spec-sized UTF-8 file, and YAML refused past its nesting and alias limits before it is built."""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import os
import re
import stat
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..errors import Problem, SpecError, UsageError
from ..model.raw import Yaml


def _on_first_use(name: str) -> ModuleType:
    """Module `name`, executed when one of its attributes is first read (importlib's LazyLoader): a spec whose
    values come from the parse cache never needs PyYAML, whose import costs more than a small spec's parse
    (benchmarks/RESULTS.md, "The supervisor forks first; templates and specs read once")."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    import yaml
else:
    yaml = _on_first_use("yaml")


@functools.cache
def yaml_identity() -> tuple[int, int]:
    """The installed PyYAML's package file, by size and modification time, found without importing it (an upgrade
    rewrites it): what the parse and render caches key on, as PyYAML decides how each scalar reads and prints."""
    found = importlib.machinery.PathFinder.find_spec("yaml")
    if found is None or found.origin is None:
        return (0, 0)
    try:
        info = os.stat(found.origin)
    except OSError:
        return (0, 0)
    return (info.st_size, info.st_mtime_ns)


# Hostile-input limits, checked before anything is built. A 10,000-job spec is about 0.9 MB and 15 levels deep.
MAX_SPEC_BYTES = 4 * 1024 * 1024  # the spec file, and the text a template renders to
MAX_DEPTH = 64  # nesting of mappings and sequences
MAX_NODES = 2_000_000  # YAML nodes after alias expansion (a "billion laughs" spec has 10^9)


SPEC_SUFFIXES = (".yaml", ".yml", ".yaml.j2", ".yml.j2")  # what `qrun validate DIR` reads, and a hint offers
NO_SPECS = "a folder with no specs in it (*.yaml, *.yml, *.yaml.j2)"


def no_specs(folder: Path, display: str) -> str:
    """A folder with no specs, and which of its subfolders hold some (a spec's folder is not searched below: circuit
    files and --vars files live there)."""
    from ..model.findings import first_of  # only a refusal needs it

    try:
        below = sorted(e.name + "/" for e in os.scandir(folder) if e.is_dir() and specs_in(Path(e.path)))
    except OSError:
        below = []
    if not below:
        return f"{display}: {NO_SPECS}"
    held = f"{first_of(below)} in it hold{'s' * (len(below) == 1)} some"
    return f"{display}: {NO_SPECS}; {held}: qrun validate {display.rstrip('/')}/*/"


def specs_in(folder: Path) -> list[str]:
    """The names of the specs in `folder` (its *.yaml, *.yml and their .j2 templates, not its subfolders', where
    circuit files and --vars files live), sorted; none where it cannot be read."""
    try:
        return sorted(e.name for e in os.scandir(folder) if e.is_file() and e.name.endswith(SPEC_SUFFIXES))
    except OSError:  # no such folder, or unreadable: nothing to offer
        return []


def _missing(p: Path, display: str, what: str) -> str:
    """ "experiments/tfim: no such file; did you mean experiments/tfim.yaml?": for a spec, the specs in its folder
    that it names without their suffix, else those its name is near."""
    names = specs_in(p.parent) if what == "specs" else []
    from ..model.findings import close_matches  # difflib: only a refusal needs it

    def stem(name: str) -> str:  # compared without the suffixes all of them share
        return name.removesuffix(".j2").rsplit(".", 1)[0]

    near = [n for n in names if n in {p.name + s for s in SPEC_SUFFIXES}]
    if not near:
        closest = close_matches(stem(p.name), sorted({stem(n) for n in names}), n=2)
        near = [n for n in names if stem(n) in closest]
    shown = " or ".join(str(p.parent / n) for n in near)
    return f"{display}: no such file" + (f"; did you mean {shown}?" if near else "")


def _folder(p: Path, display: str, what: str) -> str:
    if what != "specs":
        return f"{display}: is a directory; qrun reads {what} from files"
    from ..model.findings import first_of  # (the same)

    names = [str(p / n) for n in specs_in(p)]
    if not names:
        return no_specs(p, display)
    return f"{display} is a folder: name one of its specs ({first_of(names)}); qrun validate {display} checks them all"


def read_text_limited(p: Path, display: str, limit: int, what: str) -> str:
    """A regular UTF-8 file's text, refusing FIFOs, devices, directories and anything over `limit` bytes.

    The size is checked on what is read, not only on stat(), so a file that grows while read cannot get past it.
    A leading byte-order mark is dropped.
    """
    try:
        info = p.stat()
    except FileNotFoundError:
        raise UsageError(_missing(p, display, what)) from None
    except OSError as e:
        raise UsageError(f"{display}: cannot read: {e.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(_folder(p, display, what))
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


def safe_yaml(file: str, text: str, line_offset: int = 0) -> Yaml:
    """yaml.safe_load after the nesting and alias-expansion limits are checked (see guard_yaml)."""
    guard_yaml(file, text, line_offset)
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        problem = yaml_problem(file, e)
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
    """`event`: a PyYAML event, or the error libyaml raised at one (either carries a mark)."""
    mark = getattr(event, "start_mark", None) or event.problem_mark
    return SpecError([Problem(file, mark.line + 1 + line_offset, mark.column + 1, "", message)])


def yaml_problem(file: str, error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    what = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    message = f"invalid YAML: {what}" + (f" ({context})" if context else "")
    if mark is None:
        return Problem(file, 1, 1, "", message)
    return Problem(file, mark.line + 1, mark.column + 1, "", message)


# A number as YAML 1.2 and Python write it, which YAML 1.1 (PyYAML's) reads as text where it has an exponent with no
# decimal point or no sign: 1e-3, 1.5e3, 2E+8.
_TEXT_NUMBER = r"([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))[eE]([-+]?)([0-9]+)"  # compiled where first used


def cli_number(text: str, value: Yaml) -> Yaml:
    """A command-line value YAML 1.1 reads as text that anyone typing it means as a number (`precision=1e-3`, as
    Hydra reads it): that number. A quoted one (`'name="1e-3"'`) stays text."""
    if isinstance(value, str) and value == text.strip() and re.fullmatch(_TEXT_NUMBER, value):
        return float(value)
    return value


def as_yaml_number(value: object, integer: bool = False) -> str | None:
    """How to write `value`, a string the spec meant as a number, so that YAML reads it as one (1e-3 -> 1.0e-3, and
    1e5 -> 100000 where an integer is wanted); None for any other value."""
    found = re.fullmatch(_TEXT_NUMBER, value) if isinstance(value, str) else None
    if found is None:
        return None
    number = float(found[0])
    if integer and number.is_integer() and abs(number) < 1e18:
        return str(int(number))
    mantissa = found[1] if "." in found[1] else f"{found[1]}.0"
    return f"{mantissa}e{found[2] or '+'}{found[3]}"
