"""A circuit's `layout:` (the device's qubits it starts on) checked against its width and the device's qubits."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import TYPE_CHECKING

from ..backends.registry import traits
from ..model.findings import first_of

if TYPE_CHECKING:
    from ..backends.kind import BackendInfo
    from ..model.findings import Finding
    from ..model.plan import Plan
    from ..model.raw import Yaml
    from ..sources.facts import CircuitFacts


def findings(circuits: Mapping[str, Yaml], facts: Mapping[str, CircuitFacts], backend: BackendInfo) -> list[Finding]:
    """Each layout that names a different number of qubits than its circuit has, or a qubit the device lacks.

    The device's width where it is known: a fake device's, and the service's once it is chosen (not on a simulator,
    where a layout is not used: unused() warns). A Python circuit not yet built (the quick path of `qrun validate`)
    has no facts: its width is checked where it is built."""
    device, device_qubits = backend.name, backend.num_qubits if traits(backend.kind).device else None
    out: list[Finding] = []
    for name, source in circuits.items():
        layout = source.get("layout") if isinstance(source, Mapping) else None
        if not isinstance(layout, list):
            continue
        here = ("circuits", name, "layout")
        fact = facts.get(name)
        if fact is not None and len(layout) != fact.num_qubits:
            count = f"{len(layout)} qubit{'s' * (len(layout) != 1)}"
            out.append((here, f"places {count}, but circuit '{name}' has {fact.num_qubits}", False))
        if device_qubits is not None:
            out += [
                (here + (k,), f"qubit {q} is not on {device} (qubits 0 to {device_qubits - 1})", False)
                for k, q in enumerate(layout)
                if isinstance(q, int) and q >= device_qubits
            ][:1]  # the first is enough to say what is wrong
    return out


def unused(circuits: Mapping[str, Yaml], used: Set[str], backend_kind: str, backend: str) -> list[str]:
    """The warning where a job's circuit has a layout on a simulator, which runs the circuit as written."""
    if traits(backend_kind).device:
        return []
    named = [
        f"circuits.{n}.layout" for n, s in circuits.items() if n in used and isinstance(s, Mapping) and "layout" in s
    ]
    if not named:
        return []
    return [f"warning: {', '.join(named)}: {backend} simulates each circuit as written; a layout is used on a device"]


def initial_layout(source: Mapping[str, Yaml]) -> tuple[int, ...] | None:
    """The circuit entry's layout as the transpiler takes it, or None."""
    layout = source.get("layout")
    return tuple(q for q in layout if isinstance(q, int)) if isinstance(layout, list) else None


def routed(plan: Plan, circuits: Mapping[str, Yaml]) -> list[str]:
    """A warning per circuit whose layout's qubits are not coupled as the circuit needs: the transpiler added swaps,
    and the circuit's qubits ended elsewhere than the layout put them (its jobs' physical_qubits)."""
    found: dict[str, tuple[list[int], list[str]]] = {}
    for job in plan.jobs:
        source = circuits.get(job.circuit_name)
        layout = source.get("layout") if isinstance(source, Mapping) else None
        if isinstance(layout, list) and job.physical_qubits is not None and list(job.physical_qubits) != layout:
            found.setdefault(job.circuit_name, (list(job.physical_qubits), []))[1].append(
                f"jobs[{job.index}] ({job.name})"
            )
    out = []
    for name, (ended, jobs) in found.items():
        named = first_of(jobs)
        out.append(
            f"warning: circuits.{name}.layout: {circuits[name]['layout']} is not coupled as circuit '{name}' needs, so "
            f"the transpiler added swaps and its qubits ended on {ended} ({named}); `qrun qubits {plan.backend_name} "
            f"--chain {len(ended)}` lists coupled chains"
        )
    return out
