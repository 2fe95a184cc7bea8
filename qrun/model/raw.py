"""The spec as YAML parsed it, before spec/build.py makes the typed model of it: the one boundary typed by origin.

Everything past spec/build.py reads the frozen dataclasses of model/experiment.py. Before it, the parser, the
overrides, the JSON Schema's checks and the meaning checks read what YAML (or JSON, or a --set) built. No static
type says more about that than the JSON Schema does at run time, so these two names mark every place that reads
it; the code there narrows each value it uses (isinstance) or relies on the schema having checked it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A value YAML, JSON or an override built: None, bool, int, float, str, a date, or a list or mapping of them.
Yaml = Any
# A mapping of the spec (the whole spec, a job, a circuit's or an observable's source) that the JSON Schema has
# checked: its keys and their types are qrun/experiment.schema.json's.
Raw = Mapping[str, Any]
