"""One qrun per run folder (a flock on the folder), and clean stops on SIGINT and SIGTERM."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ResultsError, UsageError
from ..store.catalog import MANIFEST
from ..store.journal import read_metadata
from .supervise import FORWARDED, STOPS, on_stop

if TYPE_CHECKING:
    from collections.abc import Callable


class RunLock:
    """One qrun per run folder: an exclusive flock on the folder itself.

    The OS releases it when its process ends, however it ends, so a stale lock from a killed run is taken over
    safely, and no lock file is left in or beside the folder. (filelock needs a file of its own, which would sit
    among the results; a flock on the directory needs none.) The holder's pid is in its attempt's metadata.
    """

    # A view asks whether a run is held (store.runfolder.held) by taking a shared lock for an instant: a lock refused
    # is tried again for this long before the folder counts as in use, so such a probe never turns a qrun away.
    PATIENCE = 0.2

    def __init__(self, run_dir: Path):
        import fcntl  # POSIX only: imported where the lock is taken

        self.fd: int | None = os.open(run_dir, os.O_RDONLY)
        give_up = time.monotonic() + self.PATIENCE
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= give_up:
                    break
                time.sleep(0.01)
        os.close(self.fd)
        self.fd = None
        raise UsageError(
            f"{run_dir} is in use by another qrun (pid {_holder(run_dir)}); wait for it to end, or stop it first"
        )

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None


def _holder(run_dir: Path) -> str:
    """The pid of the qrun holding the folder: its last attempt's; a multirun group's, its running points' (the
    metadata alone is read, not every job's file)."""
    points = sorted(p.parent for p in run_dir.glob("*/metadata.json")) if (run_dir / MANIFEST).is_file() else []
    for folder in points or [run_dir]:
        try:
            attempt = read_metadata(folder)["attempts"][-1]
        except (ResultsError, LookupError, AttributeError):
            continue
        if attempt.get("pid") and (not points or attempt.get("status") == "running"):
            return str(attempt["pid"])
    return "unknown"


def stop_on_signals() -> Callable[[], None]:
    """First SIGINT/SIGTERM: stop cleanly (cancel, close the session, record the state). Second: leave at once. A
    stop the supervisor passes on counts once with the same stop had directly (supervise.on_stop).

    Leaving at once is safe for the files: every write is a rename of a complete temp file.
    """
    STOPS.reset()  # a run's own count: an in-process caller runs many
    try:
        old = {sig: signal.signal(sig, on_stop) for sig in (signal.SIGINT, signal.SIGTERM, FORWARDED)}
    except ValueError:  # not the main thread (e.g. a notebook worker): leave the default handling alone
        return lambda: None

    def restore() -> None:
        for sig, previous in old.items():
            signal.signal(sig, previous)

    return restore
