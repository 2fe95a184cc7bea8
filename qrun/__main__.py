"""python -m qrun"""

from .cli import entry

if __name__ == "__main__":  # not when a process pool (e.g. Dask's workers) imports this module as __mp_main__
    entry()
