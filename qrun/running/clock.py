"""The one place running reads time and waits: a Clock the runner is given (tests hand it the stand-in's)."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds for deadlines, and a wait."""

    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The machine's monotonic clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM = SystemClock()


class DeviceTime:
    """A rehearsal's session time: the device's seconds for the work done so far (each finished job's estimate, which
    on a fake device is the real device's time), not this machine's. A fake device's noisy simulation can take this
    machine minutes where the device takes seconds; a deadline kept on this machine's clock stopped the rehearsal at
    max_time where the real run would go on."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def spend(self, seconds: float) -> None:
        self.seconds += max(seconds, 0.0)
