"""Which consecutive jobs go out as one PUB-batched runtime job: the runner's rule (running/batching.py gathers its
batches here), which the plan predicts for the device, so that each runtime job's overhead is charged once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from ..backends.registry import traits
from ..model.defaults import DEFAULT_SHOTS
from ..model.experiment import Job
from ..model.plan import Block, JobPlan
from .estimates import JOB_OVERHEAD, ZNE_NOISE_FACTORS

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

# Jobs per PUB-batched runtime job on the service: each PUB carries its own ISA circuit in the request (its size per
# instruction: benchmarks/RESULTS.md), so a batch there is kept to a size whose request stays small.
SERVICE_BATCH = 100
# IBM's job validation counts its limits per runtime job, not per PUB ("Job limits" in IBM's guides): a job of fewer
# than 10,000 two-qubit gates passes (gate-folding ZNE multiplies them by its noise factors), and a sampler job may
# run at most 5 million circuit executions (circuits x shots). A batch on the service stays within both, so that
# joining jobs never makes a runtime job the service refuses.
TWO_QUBIT_GATES_PER_JOB = 10_000
EXECUTIONS_PER_JOB = 5_000_000


def unbatched(options: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in options.items() if k != "batch"}


def joins(job: JobPlan, first: JobPlan, first_options: Mapping[str, object], simulated: bool = True) -> bool:
    """Whether `job` may go out in the runtime job `first` opens, as far as the plan can tell: a plain estimator or
    sampler job (no sweep, batching not turned off) of the same kind and engine, with the same options, and where
    it is `simulated` on a fake device, on the same qubits (the simulator is the device cut to a job's qubits);
    each job a PUB with its own circuit, as a hand script sends a series of circuits (a T1 curve's delays)."""
    return (
        job.options.get("batch", True) is not False
        and job.primitive in ("estimator", "sampler")
        and job.points is None
        and (job.primitive, job.engine) == (first.primitive, first.engine)
        and (not simulated or job.simulated_qubits == first.simulated_qubits)
        # the first job's options are filtered once, not once per job
        and (job.options is first.options or unbatched(job.options) == first_options)
    )


def _two_qubit_gates(circuit: QuantumCircuit, seen: dict[int, int]) -> int:
    found = seen.get(id(circuit))
    if found is None:
        from qiskit.circuit.library import get_standard_gate_name_mapping

        gates = get_standard_gate_name_mapping()
        found = sum(n for name, n in circuit.count_ops().items() if name in gates and gates[name].num_qubits == 2)
        seen[id(circuit)] = found
    return found


def load(job: JobPlan, seen: dict[int, int]) -> tuple[int, int]:
    """What a job adds to its runtime job against the service's limits: two-qubit gates (times ZNE's noise factors),
    and a sampler's executions (its parameter sets x shots); `seen` keeps each circuit's count."""
    gates = _two_qubit_gates(job.circuit, seen)
    if job.runs == "estimator" and job.options.get("resilience_level") == 2:
        gates *= sum(ZNE_NOISE_FACTORS)
    if job.runs != "sampler":
        return gates, 0  # the service splits an estimator's job into sub-jobs: no executions limit
    rows = 1 if job.parameter_values is None else max(len(job.parameter_values), 1)
    return gates, rows * int(job.shots or DEFAULT_SHOTS)


def gathered(
    jobs: Sequence[JobPlan], position: int, stop: int, fits: Callable[[JobPlan], bool], limit: int, capped: bool
) -> list[JobPlan]:
    """The consecutive jobs from `position` (before `stop`) that go out in one runtime job: those that `fits`, at most
    `limit`, and where `capped` (the service), within its per-job limits. The first always goes, alone if need be."""
    batch = [jobs[position]]
    seen: dict[int, int] = {}
    gates, executions = load(batch[0], seen) if capped else (0, 0)
    for job in jobs[position + 1 : stop]:
        if len(batch) == limit or not fits(job):
            break
        if capped:
            more_gates, more_executions = load(job, seen)
            gates, executions = gates + more_gates, executions + more_executions
            if gates >= TWO_QUBIT_GATES_PER_JOB or executions > EXECUTIONS_PER_JOB:
                break
        batch.append(job)
    return batch


def on_the_device(jobs: Sequence[JobPlan], blocks: Sequence[Block]) -> list[range]:
    """The runs of two or more consecutive jobs the device will take as one runtime job each: the service's batches
    (a fake device rehearses the device, though its own simulator's may hold more), never across a block."""
    out: list[range] = []
    for block in blocks:
        start = block.start
        while start < block.stop:
            first = jobs[start]
            options = unbatched(first.options)
            fits = partial(joins, first=first, first_options=options, simulated=False)  # as the device takes them
            size = len(gathered(jobs, start, block.stop, fits, SERVICE_BATCH, True)) if fits(first) else 1
            if size > 1:
                out.append(range(start, start + size))
            start += size
    return out


def of_plan(jobs: Sequence[JobPlan], blocks: Sequence[Block], kind: str) -> tuple[range, ...]:
    """The device's batches of a plan's jobs (`on_the_device`); none on a simulator, whose budget only informs."""
    return tuple(on_the_device(jobs, blocks)) if traits(kind).device else ()


def share_overhead(jobs: Sequence[JobPlan], together: Sequence[range]) -> None:
    """A computed estimate holds one runtime job's overhead (JOB_OVERHEAD): a job that goes out in the runtime job of
    the one before it (`together`: the device's batches) holds none of its own: 200 small jobs on one circuit, which
    the service takes as two runtime jobs, were budgeted as 200, and refused."""
    for batch in together:
        for k in batch[1:]:
            if jobs[k].estimate_source == "computed":
                jobs[k].estimate = max(jobs[k].estimate - JOB_OVERHEAD, 0.0)


def carrying(jobs: Sequence[JobPlan], together: Sequence[range], kind: str) -> list[bool]:
    """Per job, whether its estimate holds the overhead of a runtime job of its own on a device: computed, and the
    first of its runtime job or alone (what a multirun's points, batched together, may share again)."""
    if not traits(kind).device:
        return [False] * len(jobs)
    joined = {k for batch in together for k in batch[1:]}
    return [job.estimate_source == "computed" and k not in joined for k, job in enumerate(jobs)]


def joined_in_spec(jobs: Sequence[Job]) -> set[int]:
    """The positions of jobs that go out in an earlier job's runtime job on a device, as far as the spec tells
    without building anything (`qrun validate`'s lower bounds): the same kind and options, no sweep. It finds every
    job `on_the_device` would (which also compares qubits and the service's limits, and stops at blocks), and
    perhaps more, so a lower bound it lowers stays below the plan's figure."""
    out: set[int] = set()
    first: Job | None = None
    held = 0
    for k, job in enumerate(jobs):
        given = job.options.given
        plain = job.primitive in ("estimator", "sampler") and job.sweep is None and given.get("batch") is not False
        if (
            plain
            and first is not None
            and job.primitive == first.primitive
            and held < SERVICE_BATCH
            and unbatched(given) == unbatched(first.options.given)
        ):
            out.add(k)
            held += 1
            continue
        first, held = (job, 1) if plain else (None, 0)
    return out
