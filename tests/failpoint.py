"""Fault injection for the resume tests, loaded only by them: `python tests/failpoint.py EVENT:JOB_INDEX ARGS...`
runs `qrun ARGS...` and kills its own process with SIGKILL at that event of that job; EVENT:JOB_INDEX:pause=S
sleeps S seconds there instead (to hold a run folder while another qrun tries it); EVENT:JOB_INDEX:after=N kills
at the N-th such event (a sweep's second chunk)."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


class FailPoint:
    """A sink placed after the results writer, so "job_done:2" dies with job 2's files already written and
    "jobs_submitted:2" dies with job 2 submitted but never read back."""

    def __init__(self, spec: str):
        self.event, index, *action = spec.split(":")
        self.index = int(index)
        self.pause = float(action[0].removeprefix("pause=")) if action and action[0].startswith("pause=") else None
        self.after = int(action[0].removeprefix("after=")) if action and action[0].startswith("after=") else 1
        self.seen = 0

    def __getattr__(self, event: str):
        def maybe_die(*args: Any) -> None:
            jobs = args[0] if args and isinstance(args[0], list) else args[:1]  # jobs_submitted names a list
            if event == self.event and self.index in [getattr(job, "index", None) for job in jobs]:
                self.seen += 1
                if self.seen < self.after:
                    return
                if self.pause is None:
                    os.kill(os.getpid(), signal.SIGKILL)
                import time

                time.sleep(self.pause)

        return maybe_die


def main() -> int:
    from qrun import cli
    from qrun.app import pipeline

    point = FailPoint(sys.argv[1])
    real = pipeline.Fanout

    def with_failpoint(*sinks: Any) -> Any:
        writer, *rest = sinks
        return real(writer, point, *rest)

    pipeline.Fanout = with_failpoint  # type: ignore[misc, assignment]
    return cli.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
