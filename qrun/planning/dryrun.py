"""The service's own usage estimate before anything runs: a dry run (qiskit-ibm-runtime 0.50+) of each distinct job
shape on the device's mock counterpart. Where the account has no access, qrun's model stands and the plan says why."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..backends.service import sentence
from ..model import durations
from ..model.plan import JobPlan, Plan, ServiceEstimates
from ..model.words import counted
from ..running.engines import estimator_pub, runtime_options, sampler_pub, sweep_estimator_pub
from ..running.submission import padded
from . import estimates
from .work import sweep_chunks

if TYPE_CHECKING:
    from qiskit.providers import BackendV2

    from ..model.experiment import Experiment

SHAPES = 20  # distinct job shapes dry-run at most: each is a round trip to the service before the run starts
WAIT = (0.5, 1.0, 2.0)  # s between reads while the service has not estimated a dry run yet


def estimate(plan: Plan, sleep: Callable[[float], None] = time.sleep) -> ServiceEstimates:
    """Dry-run one submission of each distinct runtime job: a job's first (scaled by its runtime jobs), or a batch of
    jobs the device takes as one runtime job (plan.batches), PUB for PUB as the run will send it, whose estimate is
    shared among its jobs as qrun's own estimates share it. A batch priced job by job counted its runtime job's
    overhead once per job. The first refusal (no mock device, no access) ends it: qrun's model then."""
    by_shape: dict[tuple, float | None] = {}
    seconds: dict[int, float] = {}
    skipped = 0
    for unit in runtime_jobs(plan):
        jobs = [plan.jobs[k] for k in unit]
        if any(job.device is not None or job.engine != "runtime-client-primitives" for job in jobs):
            continue
        submissions = [first_submission(job) for job in jobs]
        key = tuple(_shape(job, submission) for job, submission in zip(jobs, submissions))
        if key not in by_shape:
            if len(by_shape) >= SHAPES:
                skipped += len(jobs)
                continue
            kind, pub, kwargs = submissions[0] if len(jobs) == 1 else _batched(jobs, submissions)
            try:
                by_shape[key] = _dry_run(plan.device, jobs[0], kind, pub, kwargs, sleep)
            except Exception as e:  # the runtime raises several types: no mock device, 403, a bad request
                return ServiceEstimates("model", sentence(e))
        each = by_shape[key]
        if each is None:
            continue
        if len(jobs) == 1:
            seconds[jobs[0].index] = round(each * max(jobs[0].stats.get("runtime_jobs", 1), 1), 3)
            continue
        ours = sum(job.estimate for job in jobs)
        for job in jobs:  # as qrun's own estimates share the runtime job (its overhead in the first's)
            seconds[job.index] = round(each * (job.estimate / ours if ours > 0 else 1 / len(jobs)), 3)
    reason = f"{counted(skipped, 'job')} of other shapes use qrun's model" if skipped else ""
    if not seconds:
        return ServiceEstimates("model", "the service estimated none of the dry runs")
    return ServiceEstimates("dry_run", reason, seconds)


def runtime_jobs(plan: Plan) -> list[range]:
    """The plan's jobs as the device takes them: each batch (plan.batches) as one, every other job alone."""
    batched = {batch.start: batch for batch in plan.batches}
    out: list[range] = []
    k = 0
    while k < len(plan.jobs):
        unit = batched.get(k, range(k, k + 1))
        out.append(unit)
        k = unit.stop
    return out


def _shape(job: JobPlan, submission: tuple[str, tuple, dict[str, object]]) -> tuple:
    """What a dry run's estimate depends on: the circuit, the kind, shots or precision, the options, the rows."""
    kind, pub, kwargs = submission
    shapes = tuple(getattr(part, "shape", None) for part in pub[1:])
    return (id(job.circuit), kind, repr(kwargs), repr(sorted(job.options.items())), shapes)


def _batched(jobs: list[JobPlan], submissions: list[tuple[str, tuple, dict[str, object]]]) -> tuple[str, list, dict]:
    """A batch's one runtime job as the run sends it: a PUB per job, each with its own precision or shots."""
    kind = submissions[0][0]
    if kind == "estimator":
        return kind, [(*padded(pub), job.precision) for job, (_, pub, _) in zip(jobs, submissions)], {}
    return kind, [(*padded(pub, 2), job.shots) for job, (_, pub, _) in zip(jobs, submissions)], {}


def first_submission(job: JobPlan) -> tuple[str, tuple, dict[str, object]]:
    """(estimator or sampler, the PUB, run's keywords) of a job's first runtime job. Parameters that only an earlier
    job will give are zeros: they change no timing."""
    if job.parameter_values is None and job.initial_point is not None:
        job = dataclasses.replace(job, parameter_values=job.initial_point[None, :])  # a loop's first evaluation
    elif job.parameter_source is not None and job.parameter_values is None:
        job = dataclasses.replace(job, parameter_values=np.zeros((1, len(job.parameter_names))))
    runs = job.runs
    if job.points is not None:
        _, _, groups = next(sweep_chunks(job))
        g = groups[0]
        rows = np.zeros((len(g.rows), len(job.parameter_names)))
        if runs == "estimator":
            ops = [op for _, op in job.observables]
            return "estimator", sweep_estimator_pub(job.circuit, ops, rows, g), {"precision": g.setting["precision"]}
        pub = (job.circuit, rows) if job.parameter_names else (job.circuit,)
        return "sampler", pub, {"shots": g.setting["shots"]}
    if runs == "estimator":  # a ladder's rung is priced at the job's own options
        return "estimator", estimator_pub(job), {"precision": job.precision}
    return "sampler", sampler_pub(job), {"shots": job.shots}


def _dry_run(
    backend: BackendV2,
    job: JobPlan,
    kind: str,
    pub: tuple | list,
    kwargs: dict[str, object],
    sleep: Callable[[float], object],
) -> float | None:
    """The service's quantum-seconds estimate of one runtime job, from a dry run in job mode (no session): of one PUB,
    or (a list) of a batch's PUBs."""
    options = runtime_options(job.options, None, estimator=kind == "estimator")
    pubs = pub if isinstance(pub, list) else [pub]
    if kind == "estimator":
        from qiskit_ibm_runtime.executor_estimator import Estimator

        handle = Estimator(mode=backend, options=options).run(pubs, dry_run=True, **kwargs)
    else:
        from qiskit_ibm_runtime.executor_sampler import Sampler

        handle = Sampler(mode=backend, options=options).run(pubs, dry_run=True, **kwargs)
    for pause in (*WAIT, None):
        seconds = (handle.usage_estimation or {}).get("quantum_seconds")
        if seconds is not None or pause is None:
            return None if seconds is None else float(seconds)
        sleep(pause)
        handle = backend.service.job(handle.job_id())  # a fresh record: a handle keeps its first answer
    return None


def floor(plan: Plan, experiment: Experiment) -> list[str]:
    """Raise each job's estimate and QPU seconds to the service's dry-run figure where that is higher (a job takes
    at least the QPU time the service says it will use), and the budget with them; the jobs raised."""
    if plan.service_estimates is None:
        return []
    raised = []
    for i, job in enumerate(plan.jobs):
        qpu = plan.service_estimates.seconds.get(job.index)
        if qpu is not None and qpu > job.estimate:
            source = f"the service's dry run (qrun's: {durations.format(job.estimate)})"
            plan.jobs[i] = dataclasses.replace(
                job, estimate=qpu, estimate_source=source, qpu_seconds=max(job.qpu_seconds, qpu)
            )
            raised.append(job.name)
    if raised:
        plan.budget = estimates.budget_for(experiment, plan.backend_kind, [(j.name, j.estimate) for j in plan.jobs])
    return raised
