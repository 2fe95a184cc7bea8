"""The minimize loop: scipy.optimize.minimize where each evaluation is an estimator job, bounded by budget and deadline."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..backends.kind import OpenSession
from ..errors import RunError
from ..model.outcomes import STOPPED_DEADLINE, MinimizeOutcome
from ..model.plan import JobPlan
from ..model.records import Evaluation, Optimum
from .base import RunnerBase
from .spsa import spsa
from .streams import submission_seed
from .submission import stream_of

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult


class _Stop(Exception):
    """Why the objective stops the optimizer: out of evaluations, or the deadline (caught in minimize)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class Minimizing(RunnerBase):
    """Runs a minimize job in the session: its evaluations, its stop, and the unbiased value at the optimum."""

    def evaluate(self, job: JobPlan, session: OpenSession, x: np.ndarray) -> tuple[float, float, PrimitiveResult]:
        """One estimator job at parameters x: (value, standard error, PrimitiveResult)."""
        ((_, op),) = job.observables
        # One primitive per minimize job, re-seeded for each evaluation, rather than one built per evaluation.
        cached = self._evaluators.get(job.name)
        if cached is None:
            cached = self._evaluators[job.name] = self.engines.estimator(job, session, self.next_seed(job))
        else:
            self.engines.reseed(cached, job, self.next_seed(job))
        result = self.submit(job, lambda: cached, (job.circuit, op, x), precision=job.precision)
        data = result[0].data
        return float(np.asarray(data.evs)), float(np.asarray(data.stds)), result

    def minimize(self, job: JobPlan, session: OpenSession) -> MinimizeOutcome:
        """scipy.optimize.minimize where every evaluation is an estimator job in this session."""
        from scipy.optimize import minimize

        trace: list[Evaluation] = []
        best: list[tuple[Evaluation, PrimitiveResult]] = []  # the lowest evaluation so far and its result

        def objective(x: np.ndarray) -> float:
            # Keep one evaluation in hand for the final, unbiased estimate at the optimum.
            if len(trace) >= job.max_evaluations - 1:
                raise _Stop("evaluations", f"stopped at {len(trace)} evaluations, the most the budget allows")
            typical = self._typical(job, trace)
            if self.session_clock.monotonic() + typical > self.deadline:
                raise _Stop(
                    "deadline", f"stopped before evaluation {len(trace) + 1}: it would pass the deadline (max_time)"
                )
            t0 = self.clock.monotonic()
            value, stderr, result = self.evaluate(job, session, x)
            entry: Evaluation = {
                "evaluation": len(trace) + 1,
                "parameters": [float(v) for v in x],
                "value": value,
                "stderr": stderr,
                "seconds": round(self.clock.monotonic() - t0, 4),
            }
            trace.append(entry)
            self._spent_evaluation(job)
            if not best or value < best[0][0]["value"]:
                best[:] = [(entry, result)]
            self.sink.job_progress(job, trace)
            return value

        opt = job.optimizer
        options: dict[str, object] = {"maxiter": opt["maxiter"], **opt.get("options", {})}
        method: object = opt["method"]
        if method == "SPSA":  # scipy calls it as a custom method; its perturbations follow the run's seed
            method = spsa
            seed = self.plan.seed
            options["seed"] = None if seed is None else submission_seed(seed, f"{stream_of(job)}#spsa", 0)
        stopped = None
        try:
            res = minimize(
                objective,
                job.initial_point,
                method=method,
                jac=opt.get("jac"),
                tol=opt.get("tol"),
                options=options,
            )
            x, message, success = np.asarray(res.x, dtype=float), str(res.message), bool(res.success)
        except _Stop as stop:
            if not best:
                raise RunError(f"{stop}; no evaluation finished") from None
            x, message, success = np.asarray(best[0][0]["parameters"]), str(stop), False
            stopped = STOPPED_DEADLINE if stop.reason == "deadline" else None
        if stopped is None and self.session_clock.monotonic() + self._typical(job, trace[-1:]) <= self.deadline:
            # scipy's res.fun is the lowest of noisy values, biased low; estimate again at the optimum instead.
            value, stderr, result = self.evaluate(job, session, x)
            self._spent_evaluation(job)
            final = True
        else:
            (lowest, result) = best[0]
            value, stderr = lowest["value"], lowest["stderr"]
            final = False
        optimum: Optimum = {
            "parameters": [float(v) for v in x],
            "value": value,
            "stderr": stderr,
            "final_evaluation": final,
        }
        return MinimizeOutcome(trace, optimum, len(trace) + final, message, success, stopped, result)

    def _typical(self, job: JobPlan, trace: list[Evaluation]) -> float:
        """What the next evaluation will take of the session: the mean of `trace`'s, or on a rehearsal the device's."""
        if self.device_time is not None:
            return self.evaluation_seconds(job)
        return float(np.mean([t["seconds"] for t in trace])) if trace else 0.0

    @staticmethod
    def evaluation_seconds(job: JobPlan) -> float:
        """One evaluation's share of the job's estimate (a job that is no loop: the whole of it)."""
        return job.estimate / max(job.max_evaluations, 1)

    def _spent_evaluation(self, job: JobPlan) -> None:
        self.spend(self.evaluation_seconds(job))
