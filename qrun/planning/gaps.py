"""Where qrun's own work between two runtime jobs of a service session would outlast the session's interactive
timeout, which would make the service deactivate it: warned about at plan time."""

from __future__ import annotations

from ..backends.registry import traits
from ..model import durations
from ..model.plan import Plan
from . import estimates as model
from .modes import INTERACTIVE_TTL


def warnings(plan: Plan) -> list[str]:
    """Where qrun's own work between two runtime jobs of a service session (exact values by statevector or tableau,
    computed as each result arrives) would outlast the session's interactive timeout: the service would deactivate it."""
    if not traits(plan.backend_kind).remote or plan.mode != "session":
        return []
    out = []
    for job in plan.jobs:
        if job.reference_circuit is None:
            continue
        if job.points is not None:
            points = min(job.chunk, len(job.points))
        else:
            points = 1 if job.parameter_values is None else len(job.parameter_values)
        from ..sources import branching  # numpy: `qrun validate` imports this module, and never plans

        if job.job.exact == "stabilizer":  # a tableau a set, built gate by gate
            gap = model.tableau_seconds(points, job.reference_circuit.size())
        else:
            points *= branching.branch_bound(job.reference_circuit)  # a dynamic circuit: a statevector per branch
            gap = model.statevector_seconds(points, job.reference_circuit.num_qubits, job.reference_circuit.depth())
        if gap > INTERACTIVE_TTL:
            out.append(
                f"warning: jobs[{job.index}] ({job.name}): its exact values take qrun about {durations.format(gap)} "
                f"after each runtime job, longer than a session's interactive timeout ({durations.format(INTERACTIVE_TTL)}): "
                "the service would deactivate the session each time and the next job would wait in the queue; use "
                "mode: batch, or fewer points per job"
            )
    return out
