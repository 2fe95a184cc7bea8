"""python -m qrun, and the `qrun` command."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from . import collector
from .app import supervise  # the standard library only: nothing of qrun's, qiskit's or click's

if TYPE_CHECKING:
    from pathlib import Path


def entry() -> None:
    """The `qrun` command: garbage collection held from its first line (collector.hold), a run's objects left to its
    exit (collector.leave_to_exit: it ends in os._exit either way), then the CLI (cli.entry).

    A run (where fork is available) forks its supervisor here, before the CLI's imports: the child imports and runs
    everything, and the parent stays a bare interpreter, so the child's first writes to what it imported are not
    copies of the parent's pages (benchmarks/RESULTS.md, "The supervisor forks first; templates and specs read
    once").

    Importing this module does neither: a process pool's worker that imports it (Dask's, as `__mp_main__`, or the
    `qrun` script's own import of it) runs tasks, and its collector stays as Python set it."""
    collector.hold()
    collector.leave_to_exit()
    if supervise.available() and supervise.runs_jobs(sys.argv[1:]):
        supervise.leave(supervise.supervise(_run, _record_killed))
    from .cli import entry as command  # after the hold: importing qrun, qiskit and Aer allocates what it covers

    command()


def _run() -> int:
    from .cli import main  # in the forked child: the parent never imports the CLI

    return main()


def _record_killed(run_dir: Path, reason: str) -> None:
    """Mark `run_dir` as ended by a kill: the supervisor's (a job that would not return in time), or another's."""
    from .errors import QrunError  # only after a kill, which is rare: the parent stays bare until then
    from .store.journal import record_stop  # (the same)

    try:
        record_stop(run_dir, reason)
    except (QrunError, OSError) as e:
        print(f"qrun: {run_dir}: could not record how the run ended ({e})", file=sys.stderr)


if __name__ == "__main__":  # not when a process pool (e.g. Dask's workers) imports this module as __mp_main__
    entry()
