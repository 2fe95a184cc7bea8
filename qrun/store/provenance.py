"""Where a run came from: package versions, the spec's hash, and the spec file's git commit and dirty flag."""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

from ..version import __version__

PACKAGES = ("qiskit", "qiskit-ibm-runtime", "qiskit-aer")


def versions() -> dict[str, str | None]:
    """The versions a run records: qrun's, Python's and the installed packages'."""
    out: dict[str, str | None] = {"qrun": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        out[name] = package_version(name)
    return out


@cache
def package_version(name: str) -> str | None:
    """An installed package's version (None if it is not installed), read once a process: a multirun's points and
    a plan's circuits ask again and again.

    Read from the package's `.dist-info/METADATA` as importlib.metadata reads it (the first on sys.path wins); only a
    package installed otherwise (an egg, a zip) goes to importlib.metadata, whose import (the email parser and more)
    every run paid otherwise (RESULTS.md, "Fewer imports, a kept schema verdict")."""
    found = _dist_infos().get(_normalized(name))
    if found is not None:
        try:
            with open(os.path.join(found, "METADATA"), encoding="utf-8") as f:
                for line in f:
                    if not line.strip():
                        break  # the headers end at the first blank line
                    if line.startswith("Version:"):
                        return line[len("Version:") :].strip()
        except (OSError, ValueError):  # unreadable, or not UTF-8: importlib.metadata says what it makes of it
            pass
    from importlib import metadata  # deferred: see the docstring

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _normalized(name: str) -> str:
    # a distribution's name as its .dist-info folder spells it (PEP 503 normalisation, then '_' for each run of -_.)
    return re.sub(r"[-_.]+", "_", name).lower()


@cache
def _dist_infos() -> dict[str, str]:
    """Every `.dist-info` folder on sys.path by normalised distribution name, the first on the path kept."""
    found: dict[str, str] = {}
    for entry in sys.path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except OSError:
            continue  # a zip, or gone
        for child in names:
            if child.endswith(".dist-info"):
                found.setdefault(
                    _normalized(child[: -len(".dist-info")].partition("-")[0]), os.path.join(folder, child)
                )
    return found


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Settings that make git run a program named by the repository itself. A spec's repository is not trusted: qrun
# runs only plumbing commands that read objects and refs, with these off as well.
_NO_REPO_COMMANDS = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "core.untrackedCache=false")


def _maybe_in_git(folder: Path) -> bool:
    """Whether git could find a repository for `folder`: a `.git` (folder, or file in a worktree or submodule) in it
    or above it, or the environment naming one."""
    if "GIT_DIR" in os.environ:
        return True
    return any(os.path.lexists(os.path.join(up, ".git")) for up in (folder, *folder.parents))


def git_state(path: Path) -> dict[str, object] | None:
    """The HEAD commit of the repo holding `path`, and whether that file differs from it; None outside git.

    `git status` would refresh the index, which runs a repository's fsmonitor hook and clean filters. Instead the
    file's blob id is computed here, from its bytes as they are, and compared with HEAD's entry (`git ls-tree`); a
    file that a clean filter would normalise therefore reads as dirty, which errs on the safe side."""
    resolved = path.resolve()
    folder = resolved.parent
    if not _maybe_in_git(folder):
        return None  # git would only say so, after two fork-and-execs
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}

    def start(*args: str) -> subprocess.Popen[str] | None:
        try:
            return subprocess.Popen(
                ["git", *_NO_REPO_COMMANDS, *args],
                cwd=folder,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=env,
            )
        except OSError:
            return None

    def output(process: subprocess.Popen[str] | None) -> str | None:
        if process is None:
            return None
        try:
            out, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return None
        return out.strip() if process.returncode == 0 else None

    # both at once (each is a fork and an exec): the commit and top folder, and the file's entry in HEAD
    head_process = start("rev-parse", "HEAD", "--show-toplevel")
    listed_process = start("ls-tree", "--full-name", "HEAD", "--", resolved.name)
    head, listed = output(head_process), output(listed_process) or ""
    if head is None:
        return None
    commit, top = head.splitlines()
    parts = listed.split(maxsplit=3)  # "<mode> blob <id>\t<path>"
    try:
        content = resolved.read_bytes()
    except OSError:
        content = None
    blob = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest() if content is not None else None
    tracked = len(parts) == 4 and parts[1] == "blob"
    relative = resolved.relative_to(Path(top).resolve()).as_posix()
    return {"commit": commit, "dirty": not tracked or parts[2] != blob, "path": relative if tracked else None}
