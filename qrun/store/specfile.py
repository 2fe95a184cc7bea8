"""The resolved spec a run folder keeps (spec.yaml): read as text, and parsed with qrun's YAML limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import RunFolderError, SpecError
from ..spec import MAX_SPEC_BYTES
from ..spec.marks import read_yaml
from . import runfolder

if TYPE_CHECKING:
    from pathlib import Path

    from ..model.raw import Yaml


def read_spec_text(run_dir: Path) -> str:
    """The resolved spec saved in a run folder (spec.yaml), as text."""
    data = runfolder.read_bytes(run_dir, "spec.yaml", MAX_SPEC_BYTES)
    assert data is not None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RunFolderError(f"{run_dir / 'spec.yaml'}: is not UTF-8 text; the run folder is damaged") from None


def read_spec(run_dir: Path, text: str | None = None) -> Yaml:
    """The resolved spec saved in a run folder (spec.yaml), parsed with qrun's YAML limits (`text`: its text, read
    already)."""
    text = read_spec_text(run_dir) if text is None else text
    try:
        spec = read_yaml(str(run_dir / "spec.yaml"), text)
    except SpecError as e:
        raise RunFolderError(f"{e}; the run folder is damaged") from None
    if not isinstance(spec, dict):
        raise RunFolderError(f"{run_dir / 'spec.yaml'}: is not a spec; the run folder is damaged")
    return spec
