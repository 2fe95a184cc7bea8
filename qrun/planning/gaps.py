"""Where qrun's own work on exact values will take long: in all, on any backend, and between two runtime jobs of a
service session, where outlasting the session's interactive timeout makes the service deactivate it; warned about at
plan time."""

from __future__ import annotations

from ..backends.registry import traits
from ..model import durations
from ..model.plan import JobPlan, Plan
from . import estimates as model
from .modes import INTERACTIVE_TTL
from .simtime import SLOW


def warnings(plan: Plan) -> list[str]:
    """Each job whose exact values (by statevector or tableau, computed as each result arrives) take qrun SLOW or
    more in all; in a service session, past the interactive timeout between two runtime jobs instead, where the
    service would deactivate the session."""
    session = traits(plan.backend_kind).remote and plan.mode == "session"
    out = []
    evolved: dict[tuple[int, str | float | None], int] = {}  # by circuit and method: jobs that share one merge it once
    for job in plan.jobs:
        if job.reference_circuit is None:
            continue
        key = (id(job.reference_circuit), job.job.exact)
        if key not in evolved:
            evolved[key] = _gates(job)
        gates = evolved[key]
        if job.points is not None:
            every, each = len(job.points), min(job.chunk, len(job.points))
        else:
            every = each = 1 if job.parameter_values is None else len(job.parameter_values)
        gap = _seconds(job, each, gates)
        if session and gap > INTERACTIVE_TTL:
            out.append(
                f"warning: jobs[{job.index}] ({job.name}): its exact values take qrun about {durations.format(gap)} "
                f"after each runtime job, longer than a session's interactive timeout ({durations.format(INTERACTIVE_TTL)}): "
                "the service would deactivate the session each time and the next job would wait in the queue; use "
                "mode: batch, or fewer points per job"
            )
        elif (total := _seconds(job, every, gates)) >= SLOW:
            sets = "sweep points" if job.points is not None else "parameter sets"
            other = "" if job.job.exact == "stabilizer" else ", exact: stabilizer for a Clifford circuit"
            out.append(
                f"warning: jobs[{job.index}] ({job.name}): its exact values take qrun about {durations.format(total)} "
                f"on this machine ({job.job.exact} for each of {every:,} {sets}, {gates:,} gates on "
                f"{job.reference_circuit.num_qubits} qubits); fewer {sets}{other}, or the value as a number, take less"
            )
    return out


def _seconds(job: JobPlan, points: int, gates: int) -> float:
    """qrun's time for the job's exact values at `points` parameter sets or sweep points, through `gates` (_gates)."""
    from ..sources import branching  # numpy: `qrun validate` imports this module, and never plans

    circuit = job.reference_circuit
    assert circuit is not None  # warnings asks only of a job that has one
    if job.job.exact == "stabilizer":  # a tableau a set, built gate by gate
        return model.tableau_seconds(points, gates)
    points *= branching.branch_bound(circuit)  # a dynamic circuit: a statevector per branch
    return model.statevector_seconds(points, circuit.num_qubits, gates)


def _gates(job: JobPlan) -> int:
    """The gates qrun's exact values take the job's circuit through: a tableau each gate, a dynamic circuit's
    branches each gate (branching follows them unmerged), any other statevector each merged block (exact.fused)."""
    from ..sources import branching, exact  # as in _seconds

    circuit = job.reference_circuit
    assert circuit is not None  # as in _seconds
    unmerged = job.job.exact == "stabilizer" or branching.dynamic(circuit)
    return circuit.size() if unmerged else exact.evolved_gates(circuit)
