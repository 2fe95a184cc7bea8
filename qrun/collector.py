"""The garbage collector paused while qrun builds many long-lived objects and frees none (a spec's values, its model,
its plan, the modules a command imports): the collector's passes over them would find nothing to collect."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_held = False  # whether hold() turned collection off, so that release() turns it back on and nothing else does
_left: list[object] | None = None  # what the qrun command leaves to its exit (keep()); None in any other process


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


def hold() -> None:
    """The `qrun` command, from its first line: collection off while it imports its modules and qiskit's and
    prepares a run, which allocate hundreds of thousands of objects that live to the end and make no garbage cycles
    of note: every pass over them finds nothing (benchmarks/RESULTS.md, "Collection held while qrun starts; every
    row re-measured").
    Library callers never get here: `import qrun` leaves their collector alone."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release() -> None:
    """Back on, once what hold() covered is built: what exists now is frozen (never walked again), so collections
    from here on walk only the garbage of the work that follows. Nothing if hold() did not turn collection off."""
    global _held
    if _held:
        gc.freeze()
        gc.enable()
        _held = False


def leave_to_exit() -> None:
    """The `qrun` command, which ends without Python's teardown (supervise.leave): from now on keep() holds what it is
    given until the process exits, which frees it all at once."""
    global _left
    _left = []


def keep(*objects: object) -> None:
    """Leave `objects` to the process's exit in the `qrun` command (leave_to_exit): a run's spec, plan and records
    were otherwise freed one by one as its last reference went, just before the exit, for nothing anyone can see
    (benchmarks/RESULTS.md, "A run's objects left to the exit"). Only the latest call's are held: a command that runs
    several (a multirun group's resumed points) frees each earlier run's as it would have, and holds one run's memory
    at most. Elsewhere (a library caller, the tests) nothing: they are freed as usual."""
    if _left is not None:
        _left[:] = objects


# While Aer's own primitives run a batch of jobs or a sweep's chunks, a young collection comes every RUN_YOUNG net
# allocations of containers rather than Python's 700: qrun makes a few small dicts and lists a job or point and
# frees them or keeps them to the run's end, and Aer returns plain arrays, so a pass every 700 found next to nothing
# to free. Other engines (qiskit's BackendEstimatorV2 on a fake device, the runtime's primitives, a minimize loop's
# evaluations) leave cyclic garbage each call, which Python's threshold frees sooner, in less memory
# (benchmarks/RESULTS.md, "Planned like the job before; sparser collections on Aer's batches" has both).
RUN_YOUNG = 20_000


@contextmanager
def sparse(when: bool) -> Iterator[None]:
    """Young collections every RUN_YOUNG allocations inside the block where `when`, Python's thresholds as they were
    after it."""
    before = gc.get_threshold()
    if when:
        gc.set_threshold(RUN_YOUNG, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
