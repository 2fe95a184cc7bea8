"""Fault injection for the resume tests, loaded only by them: `python tests/failpoint.py EVENT:JOB_INDEX ARGS...`
runs `qrun ARGS...` and kills its own process with SIGKILL at that event of that job; EVENT:JOB_INDEX:pause=S
sleeps S seconds there instead (to hold a run folder while another qrun tries it); EVENT:JOB_INDEX:after=N kills
at the N-th such event (a sweep's second chunk)."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from qrun.running.events import EVENTS, NullSink


class FailPoint(NullSink):
    """A sink main() places after the results writer, so "job_done:2" dies with job 2's files already written and
    "jobs_submitted:2" dies with job 2 submitted but never read back."""

    def __init__(self, spec: str):
        self.event, index, *action = spec.split(":")
        self.index = int(index)
        self.pause = float(action[0].removeprefix("pause=")) if action and action[0].startswith("pause=") else None
        self.after = int(action[0].removeprefix("after=")) if action and action[0].startswith("after=") else 1
        self.seen = 0

    def at(self, event: str, *args: Any) -> None:
        jobs = args[0] if args and isinstance(args[0], list) else args[:1]  # jobs_submitted names a list
        if event == self.event and self.index in [getattr(job, "index", None) for job in jobs]:
            self.seen += 1
            if self.seen < self.after:
                return
            if self.pause is None:
                os.kill(os.getpid(), signal.SIGKILL)
            import time

            time.sleep(self.pause)


def _event(name: str) -> Any:
    def handler(self: FailPoint, *args: Any) -> None:
        self.at(name, *args)

    return handler


for _name in EVENTS:  # every event the runner reports; a batch's events reach it as each job's (NullSink's own)
    if _name not in ("jobs_started", "jobs_done"):
        setattr(FailPoint, _name, _event(_name))


def main() -> int:
    from qrun import cli

    return cli.main(sys.argv[2:], sinks=[FailPoint(sys.argv[1])])


if __name__ == "__main__":
    sys.exit(main())
