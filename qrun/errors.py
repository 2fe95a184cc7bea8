"""Every error class of qrun, each carrying the exit code the CLI maps it to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1  # a job, the run, the service or the environment failed
EXIT_USAGE = 2  # a bad spec or command line
EXIT_INTERNAL = 3  # a bug in qrun
EXIT_INTERRUPTED = 130


class QrunError(Exception):
    """Base of every error qrun reports to a user without a traceback."""

    exit_code = EXIT_FAILED


class UsageError(QrunError, ValueError):
    """The command line asks for something that cannot be done."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True, order=True)
class Problem:
    """One located complaint about a spec: FILE:LINE:COL: PATH: message."""

    file: str
    line: int
    col: int
    path: str
    message: str

    @property
    def where(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.col}" if self.col else f"{self.file}:{self.line}"

    def __str__(self) -> str:
        return f"{self.where}: {self.path}: {self.message}" if self.path else f"{self.where}: {self.message}"


SHOWN_PROBLEMS = 50  # a spec error's report stops here (SpecError.report)
ALIKE = 3  # this many problems alike from one place in the file (a template's loop) are reported as one
_RENDERED_LINE = re.compile(r" \(line \d+ of the rendered text\)$")


# A value a message quotes: a loop's items each quote their own (`-1 is less than`, `-2 is less than`)
_VALUE = r"'[^']*'|\"[^\"]*\"|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?"  # compiled where first used: a valid run never needs it


def _said_once(problems: list[Problem]) -> list[tuple[str, int]]:
    """Each problem's report line, or for problems alike (the same message, but for the values it quotes, from one
    place of a template, which a loop repeats for each of its items), the first one's and a line naming the others'
    paths, each with its own values; with how many problems each entry stands for."""
    texts = [_RENDERED_LINE.sub("", p.message) for p in problems]
    keys = [(p.where, re.sub(_VALUE, "\0", t)) if p.line and p.path else (id(p),) for p, t in zip(problems, texts)]
    groups: dict[tuple[object, ...], list[Problem]] = {}
    for key, p in zip(keys, problems):
        groups.setdefault(key, []).append(p)
    entries: list[tuple[str, int]] = []
    for key, p in zip(keys, problems):  # in the problems' order; a group at its first
        alike = groups[key]
        if len(alike) < ALIKE:
            entries.append((str(p), 1))
        elif p is alike[0]:
            said = {id(q): t for q, t in zip(problems, texts) if q in alike}
            others = [_own(q.path, said[id(q)], said[id(p)]) for q in alike[1:]]
            # model.findings.first_of's words: errors sits below the model and imports none of it
            named = ", ".join(others[:3]) + (f" and {len(others) - 3:,} more" if len(others) > 3 else "")
            entries.append((f"{p}\n{p.where}: the same for {named}", len(alike)))
    return entries


def _own(path: str, message: str, first: str) -> str:
    """A path of a problem alike the first, with the values its message quotes where the first's differ: `jobs[2].shots
    (-3)`."""
    differ = [mine for mine, theirs in zip(re.findall(_VALUE, message), re.findall(_VALUE, first)) if mine != theirs]
    return f"{path} ({', '.join(differ)})" if differ else path


def _position(p: Problem) -> tuple[object, ...]:
    """Where a problem sits, for sorting: its place, then its path with each index as a number (jobs[2] before
    jobs[10], which a template's loop puts on one line of the file)."""
    path = [int(part) if part.isdecimal() else part for part in re.split(r"(\d+)", p.path)]
    return (p.file, p.line, p.col, path, p.message)


class SpecError(QrunError, ValueError):
    """A spec is invalid; carries every problem found, sorted by position."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: list[Problem], within: str = ""):
        self.problems = sorted(problems, key=_position)
        self.within = within  # what the problems are of, where the spec alone does not say (a multirun's point)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[SpecError], tuple[list[Problem], str]]:
        return (type(self), (self.problems, self.within))  # pickled back from a bounded child (bounded.call)

    def report(self, limit: int = SHOWN_PROBLEMS) -> str:
        """What a terminal shows: problems alike from one place of a template said once (_said_once), the first
        `limit` of those entries, then how many problems more. One mistake repeated by a template over 10,000 jobs
        would otherwise print 10,000 lines, and the first ones are what a user fixes first."""
        entries = _said_once(self.problems)
        head = f"{self.within}:\n" if self.within else ""
        if len(entries) <= limit:
            return head + "\n".join(text for text, _ in entries)
        told = sum(n for _, n in entries[:limit])
        more = len(self.problems) - told
        shown = "\n".join(text for text, _ in entries[:limit])
        return f"{head}{shown}\n... and {more:,} more problems ({len(self.problems):,} in all; the first {told:,} are shown)"


class SpecsInvalid(QrunError):
    """`qrun validate` found at least one invalid spec (each was already reported)."""

    exit_code = EXIT_USAGE


class DurationError(ValueError):
    """A value that is not a duration qrun accepts (reported as a located SpecError)."""


class _Located(ValueError):
    """A ValueError that knows where inside its spec entry it belongs (`subpath`)."""

    def __init__(self, message: str, subpath: tuple = ()):
        super().__init__(message)
        self.subpath = subpath


class SourceError(_Located):
    """A circuit or observable could not be built; `subpath` points inside its spec entry."""


class SweepError(_Located):
    """A sweep block that cannot be expanded; `subpath` points inside it."""


class BackendError(QrunError, ValueError):
    """A backend name that cannot be resolved."""

    exit_code = EXIT_USAGE


class ClusterError(QrunError):
    """A Dask cluster that cannot be reached or started, or Dask missing: the environment failed, not the spec."""

    exit_code = EXIT_FAILED


class RunError(QrunError):
    """A job or the session failed while running."""

    exit_code = EXIT_FAILED
    run_dir: Path | None = None


class ServiceError(QrunError):
    """The service could not be reached or refused; nothing ran on a QPU."""

    exit_code = EXIT_FAILED


class PreflightError(QrunError):
    """A check before the session opens failed; no session was opened and no QPU time used."""

    exit_code = EXIT_FAILED


class OpenPlanError(PreflightError):
    """The spec asks an Open Plan instance for a session, which the service refuses: change the spec."""

    exit_code = EXIT_USAGE


class ServiceJobError(RunError):
    """A runtime job ended in ERROR or was cancelled: names the backend, the job id and the service's reason."""

    def __init__(self, backend: str, job_id: str, cause: BaseException):
        reason = " ".join(str(cause).split()).strip("'\"") or type(cause).__name__
        self.backend, self.job_id, self.reason = backend, job_id, reason
        super().__init__(f"runtime job {job_id} on {backend}: {reason}")


class ResultsError(QrunError):
    """A run folder that cannot be written or read."""


class RunFolderError(ResultsError):
    """A folder given as a run that is not one, or whose files are damaged or tampered with: names the file and the
    problem. The input is bad, not the run: exit 2, from every command and from qrun.load."""

    exit_code = EXIT_USAGE


class JobKindError(RunFolderError):
    """A job names a kind this qrun does not have (a run folder written by another version, or tampered with)."""


class PlotError(QrunError):
    """Nothing to plot, or no matplotlib."""

    exit_code = EXIT_USAGE


class MissingExtraError(QrunError):
    """A command needs a package that is not installed (an optional extra): the environment is short, not the
    input, so exit 1; the message is the pip line that fixes it."""


class DerivedError(ValueError):
    """A `derived:` expression qrun cannot read or evaluate; validate locates it, views print it beside its name."""


class ExportError(QrunError):
    """An export could not be made: MLflow is not installed, or its tracking store refused or failed (exit 1)."""


class Interrupted(QrunError):
    """The user interrupted the run (Ctrl-C or SIGTERM)."""

    exit_code = EXIT_INTERRUPTED
