"""Where a fake device's local simulation will take this machine long: warned about at plan time, since a
rehearsal's estimates are the real device's seconds and say nothing of the simulator's."""

from __future__ import annotations

from collections.abc import Mapping

from ..backends.registry import traits
from ..model import durations
from ..model.plan import JobPlan, Plan
from . import estimates
from .estimates import Work

SLOW = 60.0  # s of simulation for one job worth a word before it starts


def seconds(job: JobPlan, work: list[Work], options: Mapping[str, object]) -> float:
    """This machine's time to simulate the job with the device's noise, on the qubits it uses (each rung's, for a
    ladder)."""
    every = [r.options for r in job.rungs] if job.rungs else [options]
    estimator = job.runs == "estimator"
    return sum(estimates.simulated(work, dict(o), estimator, _qubits(job), job.stats["depth"]) for o in every)


def _qubits(job: JobPlan) -> int:
    """The qubits the job's simulation holds: those the rehearsal cut keeps, else its circuit's."""
    return len(job.simulated_qubits or ()) or job.stats["qubits"]


def warnings(plan: Plan) -> list[str]:
    """Each job of a fake device whose noisy simulation the local model puts at SLOW or more: a statevector per shot
    (one of 20 qubits through a few dozen layers, a tenth of a second) makes minutes of what the device does in
    seconds."""
    if not traits(plan.backend_kind).rehearsed:
        return []
    out = []
    for job in plan.jobs:
        if job.simulation_seconds < SLOW:
            continue
        # no word of max_time: a rehearsal's deadline counts the device's seconds (running/clock.DeviceTime). A ladder
        # compares mitigation, which aer has none of: its advice is fewer rungs (zne's folding costs the most)
        other = "fewer rungs" if job.rungs else "backend: aer (noiseless)"
        out.append(
            f"warning: jobs[{job.index}] ({job.name}): {plan.backend_name} is simulated here with its noise, a "
            f"statevector of {_qubits(job)} qubits for every shot: about {durations.format(job.simulation_seconds)} on this "
            f"machine (the device: {durations.format(job.estimate)}, what max_time counts); fewer shots or qubits, or "
            f"{other}, take far less"
        )
    return out
