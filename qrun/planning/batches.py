"""Which consecutive jobs go out as one PUB-batched runtime job on a device, so that the plan charges each runtime
job's overhead once: the runner's rule (running/batching.py asks `joins` too), predicted before anything runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..backends.registry import traits
from ..model.experiment import Job
from ..model.plan import Block, JobPlan
from .estimates import JOB_OVERHEAD

# Jobs per PUB-batched runtime job on the service: each PUB carries its own ISA circuit in the request, so a batch
# there is kept to a size whose request stays small.
SERVICE_BATCH = 100


def unbatched(options: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in options.items() if k != "batch"}


def joins(job: JobPlan, first: JobPlan, first_options: Mapping[str, object], any_circuit: bool) -> bool:
    """Whether `job` may go out in the runtime job `first` opens, as far as the plan can tell: a plain estimator or
    sampler job (no sweep, batching not turned off) of the same kind, engine and qubits, the same options, and, on a
    real device, the same ISA circuit (a simulator's batch may hold several: `any_circuit`)."""
    return (
        job.options.get("batch", True) is not False
        and job.primitive in ("estimator", "sampler")
        and job.points is None
        # the same ISA circuit, not only the same name: a multirun's points may build different ones
        and (any_circuit or job.circuit is first.circuit)
        and (job.primitive, job.engine, job.simulated_qubits) == (first.primitive, first.engine, first.simulated_qubits)
        # the first job's options are filtered once, not once per job
        and (job.options is first.options or unbatched(job.options) == first_options)
    )


def on_the_device(jobs: Sequence[JobPlan], blocks: Sequence[Block]) -> list[range]:
    """The runs of two or more consecutive jobs the device will take as one runtime job each: its batches of one
    circuit (a fake device rehearses the device, whose batches these are, though its own simulator's may hold more),
    never across a block, at most SERVICE_BATCH jobs."""
    out: list[range] = []
    for block in blocks:
        start = block.start
        while start < block.stop:
            first = jobs[start]
            stop = start + 1
            if joins(first, first, unbatched(first.options), False):
                options = unbatched(first.options)
                while stop < block.stop and stop - start < SERVICE_BATCH and joins(jobs[stop], first, options, False):
                    stop += 1
            if stop - start > 1:
                out.append(range(start, stop))
            start = stop
    return out


def share_overhead(jobs: Sequence[JobPlan], blocks: Sequence[Block], kind: str) -> None:
    """On a device, a computed estimate holds one runtime job's overhead (JOB_OVERHEAD): a job that goes out in the
    runtime job of the one before it holds none of its own. 200 small jobs on one circuit, which the service takes as
    two runtime jobs, were budgeted as 200 (17 minutes for about 30 seconds' work), and refused."""
    if not traits(kind).device:
        return  # aer's budget only informs
    for batch in on_the_device(jobs, blocks):
        for k in batch[1:]:
            if jobs[k].estimate_source == "computed":
                jobs[k].estimate = max(jobs[k].estimate - JOB_OVERHEAD, 0.0)


def joined_in_spec(jobs: Sequence[Job]) -> set[int]:
    """The positions of jobs that go out in an earlier job's runtime job on a device, as far as the spec tells
    without building anything (`qrun validate`'s lower bounds): the same circuit, kind and options, no sweep. It
    finds every job `on_the_device` would (which also compares ISA circuits and qubits, and stops at blocks), and
    perhaps more, so a lower bound it lowers stays below the plan's figure."""
    out: set[int] = set()
    first: Job | None = None
    held = 0
    for k, job in enumerate(jobs):
        own = unbatched(job.options.given)
        plain = (
            job.primitive in ("estimator", "sampler")
            and job.sweep is None
            and job.options.given.get("batch") is not False
        )
        alike = first is not None and (job.primitive, job.circuit) == (first.primitive, first.circuit)
        if plain and alike and held < SERVICE_BATCH and first is not None and own == unbatched(first.options.given):
            out.add(k)
            held += 1
        else:
            first, held = (job, 1) if plain else (None, 0)
    return out
