"""python -m qrun, and the `qrun` command."""

from . import collector


def entry() -> None:
    """The `qrun` command: garbage collection held from its first line (collector.hold), then the CLI (cli.entry).

    Importing this module does neither: a process pool's worker that imports it (Dask's, as `__mp_main__`, or the
    `qrun` script's own import of it) runs tasks, and its collector stays as Python set it."""
    collector.hold()
    from .cli import entry as command  # after the hold: importing qrun, qiskit and Aer allocates what it covers

    command()


if __name__ == "__main__":  # not when a process pool (e.g. Dask's workers) imports this module as __mp_main__
    entry()
