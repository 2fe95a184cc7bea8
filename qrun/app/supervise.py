"""Run commands under a parent that can always stop them: Aer simulates holding the GIL, so in the process running a
job no Python signal handler runs until the simulation returns; this parent runs no job and is never stuck."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

GRACE = 4.0  # s a SIGTERM leaves the run to stop cleanly before it is killed (the bound is 5 s)
RUN_DIR_FD = "QRUN_SUPERVISOR_FD"  # the child writes each run folder it opens here, one line each
_STOPS = {signal.SIGINT, signal.SIGTERM}
# How this parent passes a stop on to the run: a signal of its own, so that the run tells a stop it had twice (sent
# to the whole process group, as Slurm's scancel, systemd and `kill -- -PGID` do) from two stops
FORWARDED = signal.SIGUSR1
# The CLI group's command names (cli.py; a test holds the two equal). `qrun` decides from them, before importing the
# CLI, whether a command line runs jobs and so runs under supervise().
COMMANDS = frozenset(
    (
        "diff",
        "export",
        "list",
        "plan",
        "plot",
        "qubits",
        "render",
        "report",
        "rerun",
        "run",
        "schema",
        "show",
        "status",
        "validate",
    )
)


def runs_jobs(args: list[str]) -> bool:
    """Whether the command line runs jobs (qrun SPEC, run, rerun): those run under supervise."""
    first = next((a for a in args if not a.startswith("-")), None)
    return first is not None and (first in ("run", "rerun") or first not in COMMANDS)


def available() -> bool:
    return hasattr(os, "fork") and hasattr(signal, "sigtimedwait")


def leave(code: int) -> NoReturn:
    """Exit with `code` without Python's teardown: every file qrun wrote is complete and closed by then, and freeing
    every object and module one by one is for nothing anyone can see; only the standard streams need flushing."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`qrun list | head`): nothing more can reach it
            pass
    os._exit(code)


def announce(run_dir: Path) -> None:
    """Tell the supervisor (if any) which run folder this process writes, so it can record a kill there."""
    fd = os.environ.get(RUN_DIR_FD)
    if fd and fd.isdigit():
        try:
            os.write(int(fd), f"{Path(run_dir).resolve()}\n".encode())
        except OSError:
            pass  # no supervisor listening any more: nothing to tell


class Stops:
    """The stops the run's process was asked for: those it had itself (SIGINT, SIGTERM) and those its supervisor
    passed on (FORWARDED) are counted apart, and the stops asked for are the larger count. One signal to the process
    group reaches the run both ways; counted as two, it was "stop at once", leaving the session open."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.own = self.passed = 0

    def note(self, signum: int) -> bool:
        """Count `signum`; whether it asks for one more stop than before."""
        before = self.count
        if signum == FORWARDED:
            self.passed += 1
        else:
            self.own += 1
        return self.count > before

    @property
    def count(self) -> int:
        return max(self.own, self.passed)


STOPS = Stops()  # the run's process's own; a run's signal handling (app/lock.py) starts it afresh


def on_stop(signum: int, frame: object) -> None:
    """The run's handler of SIGINT, SIGTERM and FORWARDED: the first stop is a KeyboardInterrupt (a clean stop: cancel,
    close the session, record the state), a second leaves at once (every write is a rename of a complete file); the
    same stop reaching the process a second way is nothing more."""
    if not STOPS.note(signum):
        return
    if STOPS.count > 1:
        os._exit(130)
    raise KeyboardInterrupt


def supervise(main: Callable[[], int], record: Callable[[Path, str], None]) -> int:
    """main() in a forked child; returns its exit code. Signals reach this parent at once:
    - a Ctrl-C from the terminal reaches the child too (same process group); one a process sends is passed on as
      FORWARDED (the child counts a stop it also had itself once: Stops);
    - SIGTERM: the child is asked to stop, and killed after GRACE seconds if it has not;
    - a second SIGINT or SIGTERM: the child is killed at once.
    After that kill, `record(run_dir, reason)` marks each run folder the child announced as interrupted; exit 130.
    A child killed from outside, or crashed by a signal, is recorded so too, with the signal named; exit 1."""
    read_end, write_end = os.pipe()
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS | {signal.SIGCHLD})
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _die_with_parent()
        for stop in (*_STOPS, FORWARDED):  # from the start: a SIGTERM while the spec is read is a stop, not a death
            signal.signal(stop, on_stop)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS | {signal.SIGCHLD})
        os.environ[RUN_DIR_FD] = str(write_end)
        code = 70
        try:
            code = main()
        finally:
            # main() has answered: a stop arriving now (the supervisor's copy of one the run had) must not raise
            # into the exit, which printed a traceback and ended the run's process by SIGINT
            signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS | {FORWARDED})
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError):
                    pass
            os._exit(code)
    os.close(write_end)
    os.set_blocking(read_end, False)
    announced = bytearray()
    stops, kill_at, killed = 0, float("inf"), False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        wait = min(1.0, max(0.0, kill_at - time.monotonic()))
        info = signal.sigtimedwait(_STOPS | {signal.SIGCHLD}, wait)
        _drain(read_end, announced)
        if info is not None and info.si_signo in _STOPS:
            stops += 1
            if stops == 1 and info.si_signo == signal.SIGINT:
                # said before the signal is passed on, so that the run's own last line ("interrupted; ...") comes
                # after it: forwarded first, a busy machine could run the whole clean stop before this print
                print("qrun: stopping after the current job; Ctrl-C again stops at once", file=sys.stderr, flush=True)
            if info.si_pid != 0:  # sent by a process (kill, a test, a batch system), not by the terminal to the group
                os.kill(pid, FORWARDED)
            if stops > 1:
                kill_at = 0.0
            elif info.si_signo == signal.SIGTERM:
                kill_at = time.monotonic() + GRACE
        if time.monotonic() >= kill_at and not killed:
            os.kill(pid, signal.SIGKILL)
            killed = True
    _drain(read_end, announced)
    os.close(read_end)
    if not os.WIFSIGNALED(status):
        return os.waitstatus_to_exitcode(status)
    ended = os.WTERMSIG(status)
    if killed and ended == signal.SIGKILL:
        reason, said, code = (
            "stopped by the user: a job did not return in time",
            "stopped; the job did not return in time",
            130,
        )
    else:
        # killed from outside (the kernel's out-of-memory killer sends SIGKILL, as kill -9 does) or crashed: the
        # run's folder would say "running" for ever, and the shell, given this parent's exit, would say nothing.
        # A real-time signal (SIGRTMIN+n) has no name in signal.Signals: its number names it.
        name = next((known.name for known in signal.Signals if known == ended), f"signal {ended}")
        why = " (the kernel's out-of-memory killer sends it, as kill -9 does)" if ended == signal.SIGKILL else ""
        reason = said = f"the run's process was killed by {name}{why}"
        code = 1
    folders = list(dict.fromkeys(line for line in announced.decode(errors="replace").splitlines() if line))
    for run_dir in folders:
        record(Path(run_dir), reason)
    announced_last = folders[-1] if folders else None
    where = f"; finished jobs are kept in {announced_last}" if announced_last else ""
    resume = f" (qrun SPEC --resume {announced_last} runs the rest)" if announced_last else ""
    print(f"qrun: {said}{where}{resume}", file=sys.stderr, flush=True)
    return code


def _die_with_parent() -> None:
    """Linux: the run is killed when its supervisor is (kill -9 qrun must not leave a simulation running on)."""
    try:
        import ctypes  # Linux only (prctl), and only for a supervised run

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the child outlives a killed supervisor, as a plain process would
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(130)


def _drain(fd: int, into: bytearray) -> None:
    try:
        while chunk := os.read(fd, 65536):
            into += chunk
    except BlockingIOError:
        pass
