"""Dask for local simulation past one machine: a client for a scheduler address or a LocalCluster of N workers,
handed to Aer as its executor (Aer splits each job into chunks the workers run)."""

from __future__ import annotations

import os
from typing import Any

from .errors import UsageError

SCHEDULER_ENV = "QRUN_DASK_SCHEDULER"
CHUNK = 1  # circuits per Aer sub-job: the finest split, so every circuit of a job can go to its own worker


class Cluster:
    """A Dask client qrun opened (and closes), with what the run's metadata records about it."""

    def __init__(self, address: str | None = None, workers: int | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UsageError("--dask and --workers need Dask: pip install 'qrun[dask]'") from None
        self.local = None
        if address:
            try:
                self.client = Client(address, timeout="10s")
            except (OSError, TimeoutError) as e:
                raise UsageError(f"--dask {address}: cannot reach the Dask scheduler ({e})") from None
        else:
            self.local = LocalCluster(
                n_workers=workers or 1, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = Client(self.local)
        info = self.client.scheduler_info()
        self.record = {
            "scheduler": str(info.get("address") or address or ""),
            "workers": len(info.get("workers", {})),
            "local": self.local is not None,
            "chunk": CHUNK,
        }

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
    return Cluster(address, workers) if address or workers else None


def aer_options(cluster: Any) -> dict[str, Any]:
    """AerSimulator options that send its work through the cluster."""
    return {} if cluster is None else {"executor": cluster.client, "max_job_size": CHUNK}
