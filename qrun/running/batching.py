"""PUB batching: consecutive small jobs on one circuit go out as ONE runtime job, each job still its own record."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence

import numpy as np
from qiskit.primitives import PrimitiveResult, PubResult
from qiskit.primitives.containers import DataBin

from ..backends.kind import OpenSession
from ..backends.registry import traits
from ..errors import RunError
from ..model.outcomes import StackedResults
from ..model.plan import JobPlan
from ..planning.batches import SERVICE_BATCH, gathered, joins, unbatched
from .base import RunnerBase
from .engines import estimator_pub, observables_array, sampler_pub
from .failures import failure
from .merging import (
    ROWS_PER_PUB,
    merged_sampler_pubs,
    rejoined,
    row_chunks,
    sampler_shares,
    stacked_rows,
    stacked_sampler_shares,
)
from .streams import Noise
from .submission import distinct, padded, stream_of, submission_tags

# Jobs per PUB-batched runtime job. Locally, 500: while a batch runs, Aer and qrun hold every job's bound rows, results
# and records, and Aer runs 500 rows as fast as more (RESULTS.md, "Batches and chunks of 500, a fake device's batches of
# 2,000", has the time and peak memory by batch size). On the service: planning.batches.SERVICE_BATCH.
LOCAL_BATCH = 500
# A fake device's plain jobs (planning.plan.engine_for: "backend-primitives") simulate each row with the device's noise,
# and each call of the simulator costs the same again however few rows it has: there a batch is 2,000 jobs, which still
# holds less than a hand script's one PUB of every row (RESULTS.md, "Batches and chunks of 500, a fake device's batches
# of 2,000").
SAMPLED_BATCH = 2_000


class Batching(RunnerBase):
    """Which jobs share a runtime job, and running them as one."""

    def batch_from(self, position: int, stop: int | None = None) -> list[JobPlan]:
        """The consecutive jobs from `position` that can go out as ONE PUB-batched runtime job, the runtime's own
        advice for many small jobs: plain estimator or sampler jobs with the same options, each a PUB of its own circuit
        (on the service, within its per-job limits: planning.batches.gathered). A job
        that takes an earlier minimize job's optimum (`from:`) may join once that optimum is in hand, which it is by
        the time the batch's first job is reached: a minimize job never joins a batch. Each job's PUB index is
        recorded with the runtime job's id, so a resume reads each job back alone (a job an earlier attempt
        submitted is read back, never batched again).
        `options.batch: false` turns it off."""
        jobs = self.plan.jobs
        backend = traits(self.plan.backend_kind)
        first = jobs[position]
        first_options = unbatched(first.options)

        def fits(j: JobPlan) -> bool:
            return (
                joins(j, first, first_options)  # as the plan foresaw (its overhead charged once)
                and not self.pending.get(j.name)
                and (j.parameter_source is None or (j.run_key, j.parameter_source) in self.optima)
                and j.name not in self.finished
            )

        if not fits(first):
            return [first]
        limit = (
            SERVICE_BATCH if backend.remote else SAMPLED_BATCH if first.engine == "backend-primitives" else LOCAL_BATCH
        )
        # never past the block (`stop`): the next one goes out in another session
        return gathered(jobs, position, len(jobs) if stop is None else stop, fits, limit, backend.remote)

    def rows_in_chunks(self, job: JobPlan) -> bool:
        """Whether a job that goes out alone still goes through run_batch, for its rows' sake: an estimator on Aer's
        own primitives with more parameter rows than one PUB carries there (ROWS_PER_PUB), which run_batch sends as
        several PUBs of exact values, with the job's noise drawn as Aer would draw it over all of them."""
        values = job.parameter_values
        return (
            job.primitive == "estimator"
            and job.engine == "aer-primitives"
            and job.points is None
            and job.parameter_source is None
            and values is not None
            and len(values) > ROWS_PER_PUB
            and not self.pending.get(job.name)
        )

    def run_batch(self, batch: list[JobPlan], session: OpenSession) -> None:
        """Submit `batch` as one runtime job of one PUB per job; each job gets its own result, record and file."""
        self.sink.jobs_started(batch)
        bound = [self.bind(job) for job in batch]
        head = bound[0]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                # Aer's own estimator draws every PUB's shot noise from one generator seeded alike, which would
                # give identical jobs identical noise: qrun asks it for exact values and adds each job's noise
                # from that job's own seed, exactly as an unbatched run of the job would.
                exact = head.runs == "estimator" and head.engine == "aer-primitives"
                seeds = self.next_seeds(bound) if exact else []
                parts: list[tuple[int, slice | None]] = []
                if head.runs == "estimator":
                    if exact or head.engine == "backend-primitives":
                        # jobs that share circuit and observables go out as ONE PUB of all their rows, as a
                        # hand-batched script sends them: exact values, or a fake device's rows each sampled alone
                        pubs, parts = merged_estimator_pubs(bound, sampled=not exact)
                    else:
                        pubs = [(*padded(estimator_pub(j)), j.precision) for j in bound]
                    primitive = self.engines.estimator(head, session, self.next_seed(head))
                elif head.engine == "aer-primitives":  # one PUB of the rows of jobs on one circuit, same shots
                    pubs, parts = merged_sampler_pubs(bound)
                    primitive = self.engines.sampler(head, session, self.next_seed(head))
                else:
                    pubs = [(*padded(sampler_pub(j), 2), j.shots) for j in bound]
                    primitive = self.engines.sampler(head, session, self.next_seed(head))
                sent, chunks = row_chunks(pubs) if exact else (pubs, [])
                stream = stream_of(head)
                self.engines.tag(
                    primitive, head, submission_tags(stream, self.job_submissions.get(stream, 0), len(pubs))
                )
                self.note_idle_gap()
                handle = primitive.run(sent)
                submitted = self.clock.monotonic()
                # A local primitive simulates in a thread of this process, and recording a batch's submission beside
                # it made the two contend for the interpreter lock: its result is awaited first. A service job's
                # submission is recorded before the wait: its id is what a resume reads it back by.
                local = not traits(self.plan.backend_kind).remote
                early = self.collect(head, handle) if local else None
                self._submitted(batch, handle.job_id(), parts)
                submitted = submitted if local else self.clock.monotonic()
                result = rejoined(early if early is not None else self.collect(head, handle), chunks)
                self.start_clock(handle, submitted)
                self.idle_since = self.clock.monotonic()
            except KeyboardInterrupt:
                self.sink.job_interrupted(head)
                raise
            except Exception as e:  # the batch failed as one: its first job carries the reason, the rest did not run
                message = failure(e)
                self.sink.job_warnings(head, distinct(caught))
                self.sink.job_failed(head, message)
                raise RunError(f"job '{head.name}' failed (batched with {len(batch) - 1} more): {message}") from e
        # every job's share first, in one tight loop: drawn between the file writes, each job's noise took longer
        results: Sequence[PrimitiveResult]
        if seeds:
            results = shot_noise_results(result, parts, [j.precision for j in bound], seeds)
        elif head.runs == "sampler" and parts:
            stacked_bits = stacked_sampler_shares(result, parts)
            results = (
                stacked_bits
                if stacked_bits is not None
                else [PrimitiveResult([share], metadata=result.metadata) for share in sampler_shares(result, parts)]
            )
        else:
            stacked = stacked_shares(result, parts) if parts else None
            if stacked is not None:
                results = stacked
            else:
                shares = pub_shares(result, parts) if parts else list(result)
                results = [PrimitiveResult([pub_result], metadata=result.metadata) for pub_result in shares]
        messages = distinct(caught)  # the batch's warnings, recorded with each of its jobs
        if messages:
            for job in bound:
                self.sink.job_warnings(job, messages)
        self.sink.jobs_done(bound, results)

    def _submitted(self, batch: list[JobPlan], job_id: str, parts: list[tuple[int, slice | None]]) -> None:
        """Count the batch's submission for each job's stream, and record it: each job's PUB as qrun merged them (a
        PUB sent in chunks is one); a job alone is no PUB of a batch."""
        self.submissions += 1
        counts = self.job_submissions
        for job in batch:
            stream = stream_of(job)
            counts[stream] = counts.get(stream, 0) + 1
        indices = [p[0] for p in parts] if parts else [*range(len(batch))]
        self.sink.jobs_submitted(batch, job_id, indices if len(batch) > 1 else [None])
        self._note_session()


def merged_estimator_pubs(
    jobs: list[JobPlan], sampled: bool = False
) -> tuple[list[tuple], list[tuple[int, slice | None]]]:
    """PUBs for `jobs`: one per run of consecutive jobs with the same circuit and observables (and precision), their
    parameter rows stacked; and for each job, its PUB and its columns in that PUB's values (None: all of them).

    Exact values (precision 0) by default. `sampled`: at each job's own precision, for a simulator that samples every
    row on its own (a fake device's noisy Aer), so a row's shots are what its job alone would get; there a job
    without parameters keeps a PUB of its own, as one evaluation would give every such job the same noise."""
    pubs: list[tuple] = []
    parts: list[tuple[int, slice | None]] = []
    ops_of: dict[int, tuple[int, ...]] = {}  # twins share their observables' container: its operators' ids, once

    def same_pub(j: JobPlan) -> tuple:
        ops = ops_of.get(id(j.observables))
        if ops is None:
            ops = ops_of[id(j.observables)] = tuple(id(op) for _, op in j.observables)
        return (id(j.circuit), ops, j.parameter_values is None, j.precision if sampled else 0.0)

    for _, run in itertools.groupby(jobs, key=same_pub):
        group = list(run)
        head = group[0]
        precision = head.precision if sampled else 0.0
        if head.parameter_values is None:  # no parameters: exact, one evaluation serves every job of the run
            for job in group if sampled else group[:1]:
                pubs.append((*padded(estimator_pub(job)), precision))
                parts.extend((len(pubs) - 1, None) for _ in ([job] if sampled else group))
            continue
        ops = [op for _, op in head.observables]
        stacked, slices = stacked_rows(group)
        pubs.append((head.circuit, observables_array(ops, column=True), stacked, precision))
        parts.extend((len(pubs) - 1, rows) for rows in slices)
    return pubs, parts


def pub_shares(result: PrimitiveResult, parts: list[tuple[int, slice | None]]) -> list[PubResult]:
    """Each job's share of a result of merged PUBs: its own rows' values and standard errors, and its PUB's metadata."""
    shares = []
    for index, columns in parts:
        pub = result[index]
        if columns is None:
            shares.append(pub)
            continue
        evs, stds = (job_rows(np.asarray(values, dtype=float), columns) for values in (pub.data.evs, pub.data.stds))
        shares.append(PubResult(DataBin(evs=evs, stds=stds, shape=evs.shape), metadata=pub.metadata))
    return shares


def stacked_shares(result: PrimitiveResult, parts: list[tuple[int, slice | None]]) -> StackedResults | None:
    """pub_shares(), stacked (model.outcomes.StackedResults) where every job has its own columns of a merged PUB and
    they have one shape: no PubResult is made per job, and its payload and batch file read the rows as they are.
    None otherwise (a job with a PUB of its own, or shares of other shapes)."""
    if any(columns is None for _, columns in parts):
        return None
    arrays = {
        index: (np.asarray(result[index].data.evs, dtype=float), np.asarray(result[index].data.stds, dtype=float))
        for index in dict.fromkeys(index for index, _ in parts)
    }
    evs = [job_rows(arrays[index][0], columns) for index, columns in parts]
    if any(rows.shape != evs[0].shape for rows in evs):
        return None
    stds = [job_rows(arrays[index][1], columns) for index, columns in parts]
    order = {index: k for k, index in enumerate(arrays)}  # the PUBs' metadata, each written once
    pub_metadata: list[dict[str, object]] = [dict(result[index].metadata) for index in arrays]
    metadata_of = [order[index] for index, _ in parts]
    return StackedResults({"evs": np.stack(evs), "stds": np.stack(stds)}, pub_metadata, metadata_of, result.metadata)


def job_rows(values: np.ndarray, columns: slice | None) -> np.ndarray:
    """A job's own parameter rows of a merged PUB's values (observables x rows); all of them for a PUB of its own."""
    return values if columns is None else values[:, columns]


def shot_noise_results(
    result: PrimitiveResult,
    parts: list[tuple[int, slice | None]],
    precisions: list[float | None],
    seeds: list[int | None],
) -> Sequence[PrimitiveResult]:
    """Each job's share of an exact estimator result (its PUB; its own parameter rows of a merged one), with Aer's
    emulated shot noise, N(value, precision), drawn from the job's own seed: what the job alone would have got.

    Each job keeps its own stream (so a job's values do not depend on which jobs shared its batch, and a resumed
    run repeats an uninterrupted one); what does not depend on the job (each PUB's values and metadata) is read
    once per PUB, not once per job. Where every job's values have one shape (the usual batch), they are written
    into stacked arrays (StackedResults) and no PubResult is made per job."""
    evs_of = [np.asarray(pub.data.evs, dtype=float) for pub in result]
    rows = [job_rows(evs_of[index], columns) for index, columns in parts]
    noise = Noise(seeds)  # each job's stream is Generator(PCG64(seed))'s: streams.py makes them for the batch at once
    sigmas = [float(precision or 0.0) for precision in precisions]
    position: dict[tuple[int, float], int] = {}
    pub_metadata: list[dict[str, object]] = []
    metadata_of: list[int] = []
    for (index, _), sigma in zip(parts, sigmas, strict=True):
        at = position.get((index, sigma))
        if at is None:
            at = position[(index, sigma)] = len(pub_metadata)
            pub_metadata.append({**dict(result[index].metadata), "target_precision": sigma})
        metadata_of.append(at)
    shape = rows[0].shape
    if all(r.shape == shape for r in rows):
        flat = noise.rows(np.stack(rows).reshape(len(rows), -1), sigmas)  # row i: job i's values, drawn or as they are
        evs = flat.reshape(len(rows), *shape)
        stds = np.repeat(np.asarray(sigmas, dtype=float), flat.shape[1]).reshape(evs.shape)
        return StackedResults({"evs": evs, "stds": stds}, pub_metadata, metadata_of, result.metadata)
    drawn = [(noise.normal(i, r, sigma) if sigma > 0 else r, sigma) for i, (r, sigma) in enumerate(zip(rows, sigmas))]
    return [
        PrimitiveResult(
            [PubResult(DataBin(evs=v, stds=np.full(v.shape, sigma), shape=v.shape), metadata=pub_metadata[at])],
            metadata=result.metadata,
        )
        for (v, sigma), at in zip(drawn, metadata_of, strict=True)
    ]
