"""Where a run came from: package versions, the spec's hash, and the spec file's git commit and dirty flag."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

from ..version import __version__

PACKAGES = ("qiskit", "qiskit-ibm-runtime", "qiskit-aer")


def versions() -> dict[str, str | None]:
    """The versions a run records: qrun's, Python's and the installed packages'."""
    out: dict[str, str | None] = {"qrun": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = package_version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@cache
def package_version(name: str) -> str:
    """An installed package's version, read once a process (a multirun's points and a plan's circuits ask again
    and again: reading them took 15 ms a run)."""
    return metadata.version(name)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Settings that make git run a program named by the repository itself. A spec's repository is not trusted: qrun
# runs only plumbing commands that read objects and refs, with these off as well.
_NO_REPO_COMMANDS = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "core.untrackedCache=false")


def git_state(path: Path) -> dict[str, object] | None:
    """The HEAD commit of the repo holding `path`, and whether that file differs from it; None outside git.

    `git status` would refresh the index, which runs a repository's fsmonitor hook and clean filters. Instead the
    file's blob id is computed here, from its bytes as they are, and compared with HEAD's entry (`git ls-tree`); a
    file that a clean filter would normalise therefore reads as dirty, which errs on the safe side."""
    resolved = path.resolve()
    folder = resolved.parent
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
