"""Dask for local simulation past one machine: a client for a scheduler address or a LocalCluster of N workers,
to which a sweep's chunks go as tasks (each runs one PUB on the worker's own Aer primitive)."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from ..errors import ClusterError, UsageError

if TYPE_CHECKING:
    from distributed import Future
    from qiskit.primitives import PrimitiveResult

    from ..jobs.kind import Primitive, Pub

SCHEDULER_ENV = "QRUN_DASK_SCHEDULER"
# The engines whose primitives are plain Aer or qiskit objects that pickle whole; the runtime's client primitives
# in local mode run in-process. (Aer's own `executor` backend option is documented but ignored since Aer dropped
# qobj in 0.15, so qrun hands the work to Dask itself.)
ENGINES = ("aer-primitives", "backend-primitives")
PER_WORKER = 2  # chunks in flight per worker: one running, one queued behind it


def run_pub(primitive: Primitive, pub: Pub, kwargs: dict[str, object]) -> tuple[PrimitiveResult, float, int]:
    """On a worker: run one PUB; (PrimitiveResult, seconds it took there, the worker's pid)."""
    t0 = time.perf_counter()
    result = primitive.run([pub], **kwargs).result()
    return result, time.perf_counter() - t0, os.getpid()


class Task:
    """A chunk sent to Dask, as the runner sees a runtime job: job_id() and result()."""

    def __init__(self, cluster: Cluster, future: Future):
        self.cluster = cluster
        self.future = future

    def job_id(self) -> str:
        return str(self.future.key)

    def status(self) -> object:
        return self.future.status

    def result(self) -> PrimitiveResult:
        result, seconds, pid = self.future.result()
        self.cluster.done(seconds, pid)
        return result

    def cancel(self) -> None:
        self.future.cancel()


class Cluster:
    """A Dask client qrun opened (and closes), with what the run's metadata records about it."""

    def __init__(self, address: str | None = None, workers: int | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ClusterError("--dask and --workers need Dask: pip install 'qrun[dask]'") from None
        self.local = None
        if address:
            try:
                self.client = Client(address, timeout="10s")
            except (OSError, TimeoutError, ValueError) as e:  # ValueError: an address Dask cannot parse
                raise ClusterError(f"--dask {address}: cannot reach the Dask scheduler ({e})") from None
        else:
            self.local = LocalCluster(
                n_workers=workers or 1, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = Client(self.local)
        info = self.client.scheduler_info()
        workers = len(info.get("workers", {}))
        self.record: dict[str, object] = {
            "scheduler": str(info.get("address") or address or ""),
            "workers": workers,
            "local": self.local is not None,
            "tasks": 0,
        }
        self.in_flight = PER_WORKER * max(workers, 1)
        self._seconds: list[float] = []
        self._pids: set[int] = set()

    def submit(self, primitive: Primitive, pub: Pub, kwargs: dict[str, object]) -> Task:
        """Send one PUB to a worker (pure=False: two chunks with equal inputs are still two tasks)."""
        return Task(self, self.client.submit(run_pub, primitive, pub, kwargs, pure=False))

    def done(self, seconds: float, pid: int) -> None:
        """Count a finished task: the record gains tasks, the median and total task seconds, and how many distinct
        worker processes ran them (the per-chunk cost a speedup projection needs)."""
        import statistics

        self._seconds.append(seconds)
        self._pids.add(pid)
        self.record.update(
            tasks=len(self._seconds),
            task_seconds_median=round(statistics.median(self._seconds), 4),
            task_seconds_total=round(sum(self._seconds), 3),
            worker_processes=len(self._pids),
        )

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()


def from_options(address: str | None, workers: int | None) -> Cluster | None:
    """The cluster the command line asks for: --dask ADDRESS (or $QRUN_DASK_SCHEDULER), --workers N, or none."""
    address = address or os.environ.get(SCHEDULER_ENV) or None
    if address and workers:
        raise UsageError("give --dask ADDRESS or --workers N, not both")
    if workers is not None and workers < 1:
        raise UsageError("--workers takes a number of at least 1")
    limit = 4 * (os.cpu_count() or 1)  # each worker is a process running Aer: past the CPUs, only memory grows
    if workers is not None and workers > limit:
        raise UsageError(f"--workers takes at most {limit} on this machine (4 per CPU); use --dask for more")
    return Cluster(address, workers) if address or workers else None
