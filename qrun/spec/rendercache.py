"""Rendered templates by the hash of what made them, so a template spec is rendered by Jinja2 once, not per command.

Rendering a template costs a run importing Jinja2 and forking the bounded child that renders it (template.py), where
the text it gives is a pure function of the template's source, its variables, and the code that renders it. So the
rendered text and the variables it used are kept in the cache folder, keyed by the SHA-256 of all of these:

- the source text and the variables, each value tagged with its type (a value given from outside, template.Scalar,
  renders otherwise than the same string from the spec's `vars:`);
- template.py's own file (its size and modification time: the sandbox and how values print), and Jinja2's and
  PyYAML's installed versions (PyYAML prints the values).

Not kept: a render that failed (it fails again, in the child, with its located error), one that drew random values
(Jinja2's `random` filter and `lipsum`), and one whose variables are not plain JSON data (a date, a set).
The folder is the user's own, as the parse cache's is (spec/parsecache.py), and the text still goes through YAML,
the schema and every check after.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from typing import TYPE_CHECKING

import orjson

from ..planning.cache import cache_dir
from . import parsecache
from .source import yaml_identity

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = 1  # bump when what an entry holds changes: older entries are then never read


def folder() -> Path:
    return cache_dir() / "renders"


def key(source: str, variables: dict[str, object], renderer: str) -> str | None:
    """The entry's name for rendering `source` with `variables` by the code in file `renderer`; None when the
    variables are not plain data, or Jinja2 is not where a render would import it from."""
    jinja = importlib.util.find_spec("jinja2")  # without importing it: that is what a hit saves
    if jinja is None or jinja.origin is None:
        return None
    try:
        tagged = _tagged(variables)
        code = [(stat.st_size, stat.st_mtime_ns) for stat in map(os.stat, (renderer, jinja.origin))]
        head = orjson.dumps([FORMAT, code, yaml_identity(), tagged])
    except (_NotPlain, OSError, TypeError):  # TypeError: an integer past 64 bits, which orjson refuses
        return None
    digest = hashlib.sha256(head)
    digest.update(b"\0")
    digest.update(source.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def lookup(name: str) -> tuple[str, set[str]] | None:
    """The rendered text and the variables it used, or None: nothing stored, or an entry that does not read."""
    entry = parsecache.load_entry(folder() / f"{name}.json")
    if not isinstance(entry, dict):  # MISS, or not what this cache writes
        return None
    text, used = entry.get("text"), entry.get("used")
    if not isinstance(text, str) or not isinstance(used, list) or not all(isinstance(u, str) for u in used):
        return None
    return text, set(used)


def keep(name: str, text: str, used: set[str]) -> None:
    """Store a render; a cache that cannot be written is only slower, never an error."""
    parsecache.write_entry(folder() / f"{name}.json", orjson.dumps({"text": text, "used": sorted(used)}))


class _NotPlain(Exception):
    """A variable's value is not plain data: its render is not kept."""


def _tagged(value: object) -> object:
    """`value` as JSON that tells apart every value a template sees differently; _NotPlain for anything else."""
    if isinstance(value, str):  # a str subclass is template.Scalar, a value given from outside: printed otherwise
        return value if type(value) is str else ["given", str(value)]
    if value is None or type(value) in (bool, int):
        return value
    if type(value) is float:
        return ["float", repr(value)]  # 1.0 apart from 1; NaN and infinity too
    if type(value) is list:
        return ["list", [_tagged(v) for v in value]]
    if type(value) is dict and all(type(k) is str for k in value):
        return ["dict", [[k, _tagged(v)] for k, v in value.items()]]
    raise _NotPlain
