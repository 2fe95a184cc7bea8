"""A swept job: chunk by chunk, one broadcast PUB per group of points, a Dask cluster's share in flight."""

from __future__ import annotations

import warnings
from collections import deque
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from ..backends.kind import OpenSession
from ..backends.service import job_id
from ..model import defaults
from ..model.outcomes import SweepOutcome
from ..model.plan import JobPlan
from ..model.words import counted
from ..planning import sweeps
from ..planning.work import sweep_chunks
from .base import RunnerBase
from .engines import sweep_estimator_pub
from .submission import cancel

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from ..jobs.kind import RuntimeJob


class Sweeping(RunnerBase):
    """Runs a swept job's chunks in order, and cancels what is queued of it when it fails."""

    def sweep(self, job: JobPlan, session: OpenSession) -> SweepOutcome:
        """Chunk by chunk, in order: one runtime job per group of a chunk's points that share shots/precision, each
        ONE broadcast PUB. Each chunk's results go to the sink as it ends, so memory holds one chunk, or the few a
        Dask cluster has in flight."""
        assert job.points is not None
        fixed = dict(zip(job.parameter_names, job.parameter_values[0])) if job.parameter_values is not None else {}
        # The plan's groups, with the unswept parameters' columns set to their (now known) values.
        unswept = [
            (k, fixed[p]) for k, p in enumerate(job.parameter_names) if p in fixed and p not in job.sweep_variables
        ]
        estimator = job.runs == "estimator"
        ops = dict(job.observables)
        keep = len(job.points) <= defaults.INLINE_POINTS  # a short sweep's results also go into its JSON file
        outcome = SweepOutcome([], 0, [])
        in_flight: deque[tuple[int, list[dict[str, object]], list[sweeps.Group], list[tuple[RuntimeJob, float]]]] = (
            deque()
        )
        # Chunks sent before the oldest is collected: a Dask cluster's share, whose workers are other processes.
        # In this process none: Aer already keeps every core busy with a chunk, and storing the last one beside it
        # slowed both (benchmarks/RESULTS.md, "A sweep's chunks one at a time"); on the service none either, so
        # that a failed chunk leaves nothing queued to pay for.
        ahead = self.cluster.in_flight if self.cluster is not None and self._on_cluster(job) else 0

        def finish() -> None:
            start, points, groups, sent = in_flight.popleft()
            results: list[PrimitiveResult] = []
            try:
                for handle, submitted in sent:
                    results.append(self.receive(job, handle, submitted))
            except Exception:
                # the sweep has failed: what is still queued of it would run, and be paid for, for nothing
                siblings = [h for h, _ in sent[len(results) + 1 :]] + [h for *_, more in in_flight for h, _ in more]
                self._cancel_siblings(job, siblings)
                raise
            outcome.add(groups, results if keep else [])
            self.sink.sweep_chunk(job, start, points, groups, results)

        for start, points, groups in sweep_chunks(job):
            sent = []
            for g in groups:
                rows = np.asarray(g.rows, dtype=float).reshape(len(g.rows), len(job.parameter_names))
                for k, value in unswept:
                    rows[:, k] = value
                if estimator:
                    pub = sweep_estimator_pub(job.circuit, [ops[o] for o in g.observables], rows, g)
                    make = partial(self.engines.estimator, job, session, self.next_seed(job))
                    sent.append(self.send(job, make, pub, precision=g.setting["precision"]))
                else:
                    pub = (job.circuit, rows) if job.parameter_names else (job.circuit,)
                    make = partial(self.engines.sampler, job, session, self.next_seed(job))
                    sent.append(self.send(job, make, pub, shots=g.setting["shots"]))
            in_flight.append((start, points, groups, sent))
            while len(in_flight) > ahead:
                finish()
        while in_flight:
            finish()
        return outcome

    def _cancel_siblings(self, job: JobPlan, handles: list[RuntimeJob]) -> None:
        """Cancel a failed sweep's runtime jobs still queued or running, keep them for the usage record (what ran
        before the cancel is billed), and say which were cancelled."""
        ids = []
        for handle in handles:
            cancel(handle)
            self.keep_for_usage(job, handle)
            ids.append(job_id(handle))
        if ids:  # a warning of the job's, recorded with it as library warnings are (run's catch_warnings)
            warnings.warn(
                f"cancelled {counted(len(ids), 'queued runtime job')} of this sweep after it failed: {', '.join(ids)}",
                UserWarning,
                stacklevel=2,
            )
