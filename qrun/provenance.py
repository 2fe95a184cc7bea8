"""Where a run came from: package versions, the spec's hash, and the spec file's git commit and dirty flag."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("qiskit", "qiskit-ibm-runtime", "qiskit-aer")


def versions() -> dict[str, str | None]:
    from . import __version__

    out: dict[str, str | None] = {"qrun": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git_state(path: Path) -> dict[str, Any] | None:
    """The HEAD commit of the repo holding `path`, and whether that file differs from it; None outside git."""
    folder = path.resolve().parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    head = git("rev-parse", "HEAD", "--show-toplevel")  # one call for both: each git process costs ~15 ms
    if head is None:
        return None
    commit, top = head.splitlines()
    status = git("status", "--porcelain", "--", path.resolve().name)
    tracked = status is not None and not status.startswith("??")
    relative = path.resolve().relative_to(Path(top).resolve()).as_posix()
    return {"commit": commit, "dirty": bool(status), "path": relative if tracked else None}
