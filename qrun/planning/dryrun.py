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
from . import estimates
from .work import sweep_chunks

if TYPE_CHECKING:
    from qiskit.providers import BackendV2

    from ..model.experiment import Experiment

SHAPES = 20  # distinct job shapes dry-run at most: each is a round trip to the service before the run starts
WAIT = (0.5, 1.0, 2.0)  # s between reads while the service has not estimated a dry run yet


def estimate(plan: Plan, sleep: Callable[[float], None] = time.sleep) -> ServiceEstimates:
    """Dry-run one submission of each distinct job shape (circuit, kind, shots or precision, options, rows) and
    scale by each job's runtime jobs. The first refusal (no mock device, no access) ends it: qrun's model then."""
    by_shape: dict[tuple, float | None] = {}
    seconds: dict[int, float] = {}
    skipped = 0
    for job in plan.jobs:
        if job.device is not None or job.engine != "runtime-client-primitives":
            continue
        kind, pub, kwargs = first_submission(job)
        shapes = tuple(getattr(part, "shape", None) for part in pub[1:])
        key = (id(job.circuit), kind, repr(kwargs), repr(sorted(job.options.items())), shapes)
        if key not in by_shape:
            if len(by_shape) >= SHAPES:
                skipped += 1
                continue
            try:
                by_shape[key] = _dry_run(plan.device, job, kind, pub, kwargs, sleep)
            except Exception as e:  # the runtime raises several types: no mock device, 403, a bad request
                return ServiceEstimates("model", sentence(e))
        each = by_shape[key]
        if each is not None:
            seconds[job.index] = round(each * max(job.stats.get("runtime_jobs", 1), 1), 3)
    reason = f"{counted(skipped, 'job')} of other shapes use qrun's model" if skipped else ""
    if not seconds:
        return ServiceEstimates("model", "the service estimated none of the dry runs")
    return ServiceEstimates("dry_run", reason, seconds)


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
    backend: BackendV2, job: JobPlan, kind: str, pub: tuple, kwargs: dict[str, object], sleep: Callable[[float], object]
) -> float | None:
    """The service's quantum-seconds estimate of one runtime job, from a dry run in job mode (no session)."""
    options = runtime_options(job.options, None, estimator=kind == "estimator")
    if kind == "estimator":
        from qiskit_ibm_runtime.executor_estimator import Estimator

        handle = Estimator(mode=backend, options=options).run([pub], dry_run=True, **kwargs)
    else:
        from qiskit_ibm_runtime.executor_sampler import Sampler

        handle = Sampler(mode=backend, options=options).run([pub], dry_run=True, **kwargs)
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
