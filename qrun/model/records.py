"""What a run records as it goes, typed where it is made: a session, a minimize loop's evaluations and optimum, and a
service job's usage. The run folder stores them as JSON; readers take them back as untrusted data (store/runfolder)."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class SessionRecord(TypedDict, total=False):
    """One session or batch as qrun opened it: what was asked, what the service granted, and when it ran."""

    backend: str
    mode: str  # session or batch
    mode_reason: str
    block: int  # which block of a mode: auto plan (modes.blocks), and its jobs [start, stop)
    jobs: list[int]
    engine: str
    max_time: int
    session_id: str | None  # None in local mode: the runtime keeps no session there
    requested: str
    dask: dict[str, object]  # the cluster a sweep ran on (running/cluster.py)
    started: str | None
    deadline: str | None
    closed: str | None
    calibration: str | None  # a fake device's, once per run (backends/calibration.py)
    granted_max_time: int  # where the service granted less than max_time
    execution_seconds: float


class Evaluation(TypedDict):
    """One evaluation of a minimize loop: an estimator job at these parameters."""

    evaluation: int
    parameters: list[float]
    value: float
    stderr: float
    seconds: float


class Optimum(TypedDict):
    """Where a minimize loop ended, estimated again there unless the session had no time left."""

    parameters: list[float]
    value: float
    stderr: float
    final_evaluation: bool


class Usage(TypedDict):
    """A service job's usage from its metrics: quantum seconds, the QPU time charged once final, and the service's
    own estimate at submission beside it; or, where its metrics could not be read, why (status "unknown")."""

    job_id: str
    status: str  # final, pending or unknown
    quantum_seconds: NotRequired[float | None]
    qpu_charge_time_seconds: NotRequired[float | None]
    estimated_quantum_seconds: NotRequired[float | None]
    timestamps: NotRequired[dict[str, str] | None]
    error: NotRequired[str]
    calibration: NotRequired[str | None]  # the device's calibration when the job ran (backends/calibration.py)
