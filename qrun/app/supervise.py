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
_DEADLINE = "@deadline"  # a line the run writes to say when its max_time passes; run folders' lines are absolute paths
DEADLINE_GRACE = 5.0  # s past a local run's max_time before a job that holds the interpreter is stopped
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
    _tell(f"{Path(run_dir).resolve()}\n")


def announce_deadline(at: float | None, max_time: str = "") -> None:
    """Tell the supervisor (if any) when a local run's max_time passes (seconds since the epoch), or None when the
    session has closed (`max_time` as the spec would write it, for the message): a job still computing DEADLINE_GRACE
    after it is stopped there, since no handler in this process can stop a simulation that holds the interpreter (the
    service stops its own sessions)."""
    _tell(f"{_DEADLINE} {'-' if at is None else repr(at)} {max_time}\n")


def _tell(line: str) -> None:
    fd = os.environ.get(RUN_DIR_FD)
    if fd and fd.isdigit():
        try:
            os.write(int(fd), line.encode())
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
    A local run still computing DEADLINE_GRACE past the max_time it announced is killed and recorded so; exit 1.
    A child killed from outside, or crashed by a signal, is recorded so too, with the signal named; exit 1."""
    read_end, write_end = os.pipe()
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS | {signal.SIGCHLD})
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(main, write_end)
    os.close(write_end)
    os.set_blocking(read_end, False)
    told = Told()
    stops, kill_at, killed, overran = 0, float("inf"), False, False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        wait = min(1.0, max(0.0, kill_at - time.monotonic()))
        info = signal.sigtimedwait(_STOPS | {signal.SIGCHLD}, wait)
        told.drain(read_end)
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
        if told.deadline is not None and time.time() >= told.deadline + DEADLINE_GRACE and not killed:
            kill_at, overran = 0.0, True
        if time.monotonic() >= kill_at and not killed:
            os.kill(pid, signal.SIGKILL)
            killed = True
    told.drain(read_end)
    os.close(read_end)
    if not os.WIFSIGNALED(status):
        return os.waitstatus_to_exitcode(status)
    return _ended(os.WTERMSIG(status), killed, overran and stops == 0, told, record)


class Told:
    """What the run told its supervisor through the pipe: the run folders it opened, and its latest deadline."""

    def __init__(self) -> None:
        self.text = bytearray()
        self.deadline: float | None = None
        self.max_time = ""

    def drain(self, fd: int) -> None:
        before = len(self.text)
        try:
            while chunk := os.read(fd, 65536):
                self.text += chunk
        except BlockingIOError:
            pass
        if _DEADLINE.encode() in self.text[before:]:
            last = self.text.decode(errors="replace").rpartition(_DEADLINE)[2].split("\n", 1)[0].split(None, 1)
            if last:
                self.deadline = None if last[0] == "-" else float(last[0])
                self.max_time = last[1] if len(last) > 1 else ""

    @property
    def folders(self) -> list[str]:
        lines = self.text.decode(errors="replace").splitlines()
        return list(dict.fromkeys(line for line in lines if line and not line.startswith(_DEADLINE)))


def _child(main: Callable[[], int], write_end: int) -> NoReturn:
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


def _ended(ended: int, killed: bool, overran: bool, told: Told, record: Callable[[Path, str], None]) -> int:
    """Record and say how a run whose process died by signal `ended` ended; its exit code."""
    folders = told.folders
    last = folders[-1] if folders else None
    resume = f" (qrun SPEC --resume {last} runs the rest)" if last else ""
    if killed and ended == signal.SIGKILL and overran:
        reason = f"stopped: max_time ({told.max_time}) passed while a job computed"
        said, code = f"{reason}; it could not be stopped otherwise", 1
        resume = f" (raise max_time; qrun SPEC --resume {last} runs the rest)" if last else ""
    elif killed and ended == signal.SIGKILL:
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
    for run_dir in folders:
        record(Path(run_dir), reason)
    where = f"; finished jobs are kept in {last}" if last else ""
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
