"""qrun: declarative YAML experiments for Qiskit Runtime."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .version import __version__

if TYPE_CHECKING:
    from .store.reader import Run
    from .views.listing import Runs


__all__ = ["__version__", "load", "run", "runs"]


def load(run_dir: str | Path) -> Run:
    """Read a finished run back: metadata, per-job JSON, and qiskit PrimitiveResults via .result(job)."""
    from .store.reader import load as _load  # `import qrun` (and so every `qrun` command) stays light

    return _load(run_dir)


def run(spec_path: str | Path, out: str | Path = "results", **variables: object) -> Path:
    """Run a spec from Python (template variables as keywords); returns the run folder, or the group folder of a
    spec with a multirun: block, whose points run as `qrun SPEC` runs them (a variable given here is held at its
    value; every swept one given, a run of its own)."""
    from .app import multirun  # `import qrun` (and so every `qrun` command) stays light
    from .app.pipeline import run as _run  # (the same: a run's modules when a run starts)
    from .app.pipeline import run_multirun  # (the same)

    grid = multirun.declared(spec_path, variables)
    if grid:
        return run_multirun(spec_path, grid, out, overrides=variables, progress="none")
    return _run(spec_path, out, overrides=variables, progress="none")


def runs(root: str | Path = "results", name: str | None = None, status: str | None = None) -> Runs:
    """The rows of `qrun list` for scripts (a list of dicts; .to_dataframe() with pandas installed)."""
    from .views.listing import runs as _runs  # `import qrun` (and so every `qrun` command) stays light

    return _runs(root, name, status)
