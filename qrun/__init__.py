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
    """Run a spec from Python (template variables as keywords); returns the run folder."""
    from .app.pipeline import run as _run  # `import qrun` (and so every `qrun` command) stays light

    return _run(spec_path, out, overrides=variables, progress="none")


def runs(root: str | Path = "results", name: str | None = None, status: str | None = None) -> Runs:
    """The rows of `qrun list` for scripts (a list of dicts; .to_dataframe() with pandas installed)."""
    from .views.listing import runs as _runs  # `import qrun` (and so every `qrun` command) stays light

    return _runs(root, name, status)
