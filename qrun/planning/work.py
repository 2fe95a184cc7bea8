"""The work a planned job will do: its runtime jobs as configurations x shots, its sweep chunks and groups, and its
circuit's shape; what estimates and the runner count by."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from .. import backends
from ..jobs.registry import kind_of
from ..model.defaults import DEFAULT_PRECISION, DEFAULT_SHOTS
from ..model.experiment import Job
from ..model.plan import JobPlan, JobStats
from . import estimates, sweeps

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp


T = TypeVar("T")


def once(memo: dict[tuple, Any], key: tuple, make: Callable[[], T]) -> T:
    """memo[key], made by make() the first time the key is asked for. A memo holds values of many types, one per
    kind of key (a circuit's shape, its parameters' names, an observable's bases): Any is what it holds."""
    if key not in memo:
        memo[key] = make()
    return memo[key]


def measurement_bases(ops: list[SparsePauliOp]) -> int:
    """Qubit-wise commuting groups over all the observables' terms: one measurement setting each."""
    if not ops:
        return 1
    total = ops[0]
    for op in ops[1:]:
        total = total + op
    return max(1, len(total.simplify().group_commuting(qubit_wise=True)))


def bases_of(job: JobPlan, names: list[str], memo: dict[tuple, Any]) -> int:
    """How many measurement bases the job's observables `names` need, counted once a plan (job_work's configurations
    and the local model's terms per configuration ask alike)."""
    key = ("bases", job.circuit_name, id(job.circuit), tuple(names))
    return int(once(memo, key, lambda: measurement_bases([op for name, op in job.observables if name in names])))


def job_work(job: JobPlan, memo: dict[tuple, Any] | None = None) -> list[estimates.Work]:
    """The runtime jobs a plan job will submit, each as configurations x shots."""
    memo = {} if memo is None else memo

    estimator = job.runs == "estimator"
    shots = math.ceil(1 / (job.precision or DEFAULT_PRECISION) ** 2) if estimator else int(job.shots or DEFAULT_SHOTS)
    if job.points is not None:
        total = len(job.points)
        if total > job.chunk and not {"precision", "shots", "observable"} & set(job.sweep_variables):
            # A long sweep of one setting: each chunk is one runtime job of its points' rows (an estimator's points
            # are rows x the listed observables), counted without making a million points twice.
            per_row = len(job.observables) if estimator else 1
            configurations = bases_of(job, [name for name, _ in job.observables], memo) if estimator else 1
            return [
                estimates.Work(math.ceil(min(job.chunk, total - start) / per_row) * configurations, shots)
                for start in range(0, total, job.chunk)
            ]
        out = []
        for _, _, groups in sweep_chunks(job):
            for g in groups:
                precision, per_point = g.setting.get("precision"), g.setting.get("shots")
                n = math.ceil(1 / precision**2) if estimator and precision else round(per_point or 0)
                out.append(estimates.Work(len(g.rows) * (bases_of(job, g.observables, memo) if estimator else 1), n))
        return out
    settings = bases_of(job, [name for name, _ in job.observables], memo) if estimator else 1
    sets = len(job.parameter_values) if job.parameter_values is not None else 1
    # a loop (a minimize job) submits its work once per evaluation, one after another
    return [estimates.Work(sets * settings, shots)] * max(job.max_evaluations, 1)


def chunk_groups(job: JobPlan, points: list[dict[str, object]]) -> list[sweeps.Group]:
    """The broadcast groups of some consecutive points of a swept job: one per precision (or shots) setting."""
    setting = ("precision",) if job.runs == "estimator" else ("shots",)
    return sweeps.group(points, job.parameter_names, {}, setting, {"precision": job.precision, "shots": job.shots})


def sweep_chunks(job: JobPlan) -> Iterator[tuple[int, list[dict[str, object]], list[sweeps.Group]]]:
    """(offset, points, groups) for each chunk of a swept job, in order: one runtime job per group of each."""
    assert job.points is not None
    if len(job.points) <= job.chunk:
        yield 0, job.points[:], list(job.groups)
        return
    for start, points in job.points.chunks(job.chunk):
        yield start, points, chunk_groups(job, points)


def circuit_shape(circuit: QuantumCircuit) -> tuple[int, int]:
    """(qubits its instructions touch, QuantumCircuit.depth()): barriers and delays use no qubit. A Python pass over
    every instruction (seconds for a 400,000-instruction circuit), so the transpile cache keeps it beside the
    circuit."""
    active = {q for inst in circuit.data if inst.operation.name not in ("barrier", "delay") for q in inst.qubits}
    return len(active), circuit.depth()


def job_stats(job: JobPlan, work: list[estimates.Work], memo: dict[tuple, Any] | None = None) -> JobStats:
    qubits, depth = once({} if memo is None else memo, ("shape", id(job.circuit)), partial(circuit_shape, job.circuit))
    stats: JobStats = {
        "runtime_jobs": len(work),
        "qubits": qubits,
        "depth": depth,
        "shots": work[0].shots if work else 0,
    }
    if job.simulated_qubits is not None:
        stats["simulated_qubits"] = job.simulated_qubits
    if job.physical_qubits is not None:
        stats["physical_qubits"] = job.physical_qubits
    device = None if memo is None else memo.get(("device", id(job.circuit)))  # devicefacts, on a device
    if device is not None and device["broken"]:
        stats["broken"] = device["broken"]
    return stats


def sweep_points(job: Job) -> sweeps.Points | None:
    """A swept job's points, made on demand; an estimator's listed observables are measured at every point."""
    if job.sweep is None:
        return None
    listed = kind_of(job.primitive).runs == "estimator" and "observable" not in job.sweep.values
    return sweeps.Points(job.sweep, list(job.observables) if listed else None)


def local_seconds(job: JobPlan, work: list[estimates.Work], memo: dict[tuple, Any], clifford_wider: bool) -> float:
    """The local model's wall time for the job's `work` on aer (each rung's, for a ladder), by Aer's stabilizer method
    where the circuit is Clifford and the backend runs it so; asked only where a state vector's pass would cost more
    than a primitive call, since the question imports Aer's method tables."""
    qubits, depth = job.stats["qubits"], job.stats["depth"]
    tableau = None
    if clifford_wider and estimates.state_seconds(qubits, depth) > estimates.LOCAL_JOB_OVERHEAD:
        tableau = once(memo, ("tableau", id(job.circuit)), partial(backends.tableau_shape, job.circuit))
    every = work * max(len(job.rungs), 1)
    # a configuration is a row in one measurement basis (a device's count); Aer passes over the state once a term
    bases = bases_of(job, [name for name, _ in job.observables], memo) if job.observables else 1
    terms = sum(len(observable) for _, observable in job.observables) / max(bases, 1)
    return estimates.local(every, qubits, depth, job.runs == "estimator", tableau, terms)
