"""python -m qrun, and the `qrun` command."""

from . import collector

if __name__ != "__mp_main__":  # a process pool's worker (Dask's) runs tasks: its collector stays as Python set it
    collector.hold()  # before the imports below: see collector.hold
from .cli import entry  # noqa: E402

__all__ = ["entry"]

if __name__ == "__main__":  # not when a process pool (e.g. Dask's workers) imports this module as __mp_main__
    entry()
