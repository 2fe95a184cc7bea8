"""The garbage collector paused while qrun builds many long-lived objects and frees none (a spec's values, its model,
its plan): the collector's passes over them would find nothing to collect."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Collection off inside the block, and back as it was after (a caller may have turned it off itself)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
