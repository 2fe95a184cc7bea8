"""Run one computation on untrusted input in a forked child, under a hard wall-clock and address-space limit."""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Room the child may add to the address space it inherits: enough for a 4 MB spec rendered many times over, and far
# below what would make the machine swap.
EXTRA_MEMORY = 1 << 30


class Exceeded(Exception):
    """The child ran past its time or memory, or died; `reason` is 'time', 'memory' or 'crash'."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason, detail)
        self.reason, self.detail = reason, detail


def isolated() -> bool:
    """Whether call() really forks here (POSIX with fork), or only runs the function in this process."""
    return hasattr(os, "fork") and sys.platform != "emscripten"


def call(fn: Callable[[], T], seconds: float, memory: int = EXTRA_MEMORY) -> T:
    """fn() in a forked child: its value, or the exception it raised (both pickled back), or Exceeded.

    Loop counters inside the computation cannot bound a slow loop body or a C call that never returns; killing a
    child can. Where fork is missing, fn runs here, bounded only by its own checks.
    """
    if not isolated():
        return fn()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(fn, write_end, memory)
    os.close(write_end)
    try:
        data = _collect(read_end, seconds)
    except BaseException:
        _kill(pid)
        raise
    finally:
        os.close(read_end)
    if data is None:
        _kill(pid)
        raise Exceeded("time")
    _, status = os.waitpid(pid, 0)
    if not data:
        signum = -os.waitstatus_to_exitcode(status)
        raise Exceeded(
            "crash", signal.Signals(signum).name if signum > 0 else f"exit {os.waitstatus_to_exitcode(status)}"
        )
    kind, value = pickle.loads(data)
    if kind == "memory":
        raise Exceeded("memory")
    if kind == "error":
        raise value
    return value


def _child(fn: Callable[[], object], fd: int, memory: int) -> None:
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent handles Ctrl-C and kills this child
        _limit_memory(memory)
        try:
            out: tuple[str, object] = ("value", fn())
        except MemoryError:
            out = ("memory", None)
        except BaseException as e:  # noqa: BLE001 - every outcome goes back to the parent, which raises it
            out = ("error", e)
        try:
            payload = pickle.dumps(out)
        except Exception as e:  # an unpicklable value or exception: say what it was
            payload = pickle.dumps(("error", RuntimeError(f"{type(e).__name__}: {e}")))
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child into the parent's code
        code = 70
    finally:
        os._exit(code)


def _limit_memory(extra: int) -> None:
    import resource  # POSIX only: a bounded child sets its own limits

    try:
        with open("/proc/self/statm") as f:
            now = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return  # no /proc: the time limit still holds
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = now + extra
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft == resource.RLIM_INFINITY or want < soft:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _collect(fd: int, seconds: float) -> bytes | None:
    """Everything the child writes until it closes the pipe; None when the deadline passes first."""
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
