"""The one error hierarchy of qrun, each class carrying the exit code the CLI maps it to."""

from __future__ import annotations

from dataclasses import dataclass


class QrunError(Exception):
    """Base of every error qrun reports to a user without a traceback."""

    exit_code = 1


class UsageError(QrunError, ValueError):
    """The command line asks for something that cannot be done."""

    exit_code = 2


@dataclass(frozen=True, order=True)
class Problem:
    """One located complaint about a spec: FILE:LINE:COL: PATH: message."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.col}" if self.col else f":{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(QrunError, ValueError):
    """A spec is invalid; carries every problem found, sorted by position."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RunError(QrunError):
    """A job or the session failed while running."""

    exit_code = 1


class Interrupted(QrunError):
    """The user interrupted the run (Ctrl-C or SIGTERM)."""

    exit_code = 130
