"""Run a plan in ONE runtime session, jobs in order; the only module that talks to the runtime."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import numpy as np

from . import durations
from .errors import RunError
from .plan import DEFAULT_RESILIENCE_LEVEL, JobPlan, Plan


class Sink(Protocol):
    """Where execute reports what happens; results.RunWriter is the real one."""

    def session_opened(self, session: dict[str, Any]) -> None: ...
    def job_started(self, job: JobPlan) -> None: ...
    def job_submitted(self, job: JobPlan, job_id: str) -> None: ...
    def job_done(self, job: JobPlan, result: Any) -> None: ...
    def job_failed(self, job: JobPlan, error: str) -> None: ...
    def session_closed(self, session: dict[str, Any]) -> None: ...


def engine_for(plan: Plan) -> str:
    """Aer's own primitives on the noiseless simulator (nothing to mitigate, ~80x faster); the runtime's elsewhere."""
    return "aer-primitives" if plan.backend_kind == "aer" else "runtime-client-primitives"


class Runner:
    """Submits a plan's jobs through one session and reports every step to a sink."""

    def __init__(self, plan: Plan, sink: Sink):
        self.plan = plan
        self.sink = sink
        self.engine = engine_for(plan)
        self.submissions = 0
        self.session_record: dict[str, Any] = {}

    def run(self) -> None:
        from qiskit_ibm_runtime import Session

        plan = self.plan
        started = datetime.now(timezone.utc)
        session = Session(backend=plan.backend, max_time=plan.max_time)
        self.session_record = {
            "backend": plan.backend_name,
            "mode": plan.mode,
            "engine": self.engine,
            "max_time": plan.max_time,
            # The runtime keeps no such record in local mode (session_id, details() are None), so qrun does.
            "session_id": session.session_id,
            "started": durations.timestamp(started),
            "deadline": durations.timestamp(started + timedelta(seconds=plan.max_time)),
            "closed": None,
        }
        self.sink.session_opened(dict(self.session_record))
        try:
            for job in plan.jobs:
                self.sink.job_started(job)
                try:
                    result = self.run_job(job, session)
                except Exception as e:  # any failure of a job stops the run; its reason goes to the record
                    message = f"{type(e).__name__}: {' '.join(str(e).split())}"
                    self.sink.job_failed(job, message)
                    raise RunError(f"job '{job.name}' failed: {message}") from e
                self.sink.job_done(job, result)
        finally:
            # Closed only after the last job completed (or the run stopped), never while one is pending.
            session.close()
            self.session_record["closed"] = durations.timestamp()
            self.session_record["session_id"] = session.session_id
            self.sink.session_closed(dict(self.session_record))

    def run_job(self, job: JobPlan, session) -> Any:
        if job.primitive == "estimator":
            pub = estimator_pub(job)
            return self.submit(job, self.estimator(job, session), pub, precision=job.precision)
        if job.primitive == "sampler":
            return self.submit(job, self.sampler(job, session), sampler_pub(job), shots=job.shots)
        raise RunError(f"job '{job.name}': unknown primitive {job.primitive!r}")

    def submit(self, job: JobPlan, primitive, pub, **kwargs) -> Any:
        handle = primitive.run([pub], **kwargs)
        self.submissions += 1
        self.sink.job_submitted(job, handle.job_id())
        return handle.result()

    def next_seed(self) -> int | None:
        # Each submission gets its own seed so repeated evaluations see independent shot noise, yet a run repeats.
        return None if self.plan.seed is None else self.plan.seed + self.submissions

    def estimator(self, job: JobPlan, session):
        seed = self.next_seed()
        if self.engine == "aer-primitives":
            from qiskit_aer.primitives import EstimatorV2

            run_options = {} if seed is None else {"seed_simulator": seed}
            return EstimatorV2(options={"default_precision": job.precision, "run_options": run_options})
        from qiskit_ibm_runtime.executor_estimator import Estimator

        return Estimator(mode=session, options=runtime_options(job.options, seed, estimator=True))

    def sampler(self, job: JobPlan, session):
        seed = self.next_seed()
        if self.engine == "aer-primitives":
            from qiskit_aer.primitives import SamplerV2

            return SamplerV2(default_shots=job.shots, seed=seed)
        from qiskit_ibm_runtime.executor_sampler import Sampler

        return Sampler(mode=session, options=runtime_options(job.options, seed, estimator=False))


def runtime_options(options: dict[str, Any], seed: int | None, estimator: bool) -> dict[str, Any]:
    """qrun options -> the client-side primitives' option model (optimization_level is not one: plan uses it)."""
    out: dict[str, Any] = {}
    if estimator:
        out["resilience_level"] = options.get("resilience_level", DEFAULT_RESILIENCE_LEVEL)
    for key in ("dynamical_decoupling", "twirling"):
        if options.get(key):
            out[key] = dict(options[key])
    if options.get("max_execution_time"):
        out["max_execution_time"] = options["max_execution_time"]
    if seed is not None:
        out["simulator"] = {"seed_simulator": seed}
    return out


def estimator_pub(job: JobPlan) -> tuple:
    """One broadcast PUB: evs come back shaped (observables, parameter sets), or (observables,) without parameters."""
    ops = np.empty(len(job.observables), dtype=object)
    ops[:] = [op for _, op in job.observables]
    if job.parameter_values is None:
        return (job.circuit, ops)
    return (job.circuit, ops.reshape(-1, 1), job.parameter_values)


def sampler_pub(job: JobPlan) -> tuple:
    if job.parameter_values is None:
        return (job.circuit,)
    return (job.circuit, job.parameter_values)


