"""A circuit's `layout:` (the device's qubits it starts on) checked against its width and the device's qubits."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence, Set
from typing import TYPE_CHECKING

from ..backends.registry import traits
from ..model.findings import first_of

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

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
    return [f"warning: {first_of(named)}: {backend} simulates each circuit as written; a layout is used on a device"]


def initial_layout(source: Mapping[str, Yaml]) -> tuple[int, ...] | None:
    """The circuit entry's layout as the transpiler takes it, or None."""
    layout = source.get("layout")
    return tuple(q for q in layout if isinstance(q, int)) if isinstance(layout, list) else None


def couplings(qc: QuantumCircuit, order: Sequence[int] | None = None) -> set[tuple[int, int]]:
    """The pairs of the circuit's qubits its gates act on together (a gate on three: each pair of them), inside its
    control flow too (`order`: the outer circuit's index of each of a block's qubits); barriers couple nothing."""
    found: set[tuple[int, int]] = set()
    for inst in qc.data:
        at = [qc.find_bit(q).index for q in inst.qubits]
        outer = [order[i] for i in at] if order is not None else at
        blocks = getattr(inst.operation, "blocks", None)
        if blocks:
            for block in blocks:
                found |= couplings(block, outer)
        elif inst.operation.name != "barrier":
            found.update(itertools.combinations(sorted(outer), 2))
    return found


def off_chain(qc: QuantumCircuit) -> list[tuple[int, int]]:
    """The coupled pairs that a layout on a chain (the circuit's qubit k on the chain's k-th) cannot hold: qubits not
    next to each other in the circuit's order, as a feature map's or a ring's are."""
    return sorted(p for p in couplings(qc) if p[1] - p[0] != 1)


def chain_order(n: int, pairs: Set[tuple[int, int]]) -> list[int] | None:
    """An order of the n qubits along which a chain holds every coupled pair (each pair next to each other), or None
    where none does: a qubit coupled to three others, or a cycle (a ring's, a triangle's). Paths one after another,
    each from its lower end; uncoupled qubits in between."""
    near: dict[int, list[int]] = {q: [] for q in range(n)}
    for a, b in pairs:
        near[a].append(b)
        near[b].append(a)
    if any(len(v) > 2 for v in near.values()):
        return None
    order: list[int] = []
    for start in (q for q in range(n) if len(near[q]) < 2):
        if start in order:
            continue
        at, before = start, -1
        while True:
            order.append(at)
            step = [q for q in near[at] if q != before]
            if not step:
                break
            before, at = at, step[0]
    return order if len(order) == n else None  # a qubit not reached lies on a cycle


def off_chain_note(name: str, pairs: Sequence[tuple[int, int]], order: Sequence[int] | None) -> str:
    """What a layout on a chain does for a circuit that couples qubits not next to each other in its own order: where
    another order of them fits a chain (`order`, chain_order's), how to write it; else, that no chain avoids swaps."""
    if order is not None:
        at = {q: k for k, q in enumerate(order)}
        example = f" (for the chain [c0, c1, ...], `layout: [{', '.join(f'c{at[q]}' for q in range(len(order)))}]`)"
        return (
            f"circuit '{name}' couples its qubits along {'-'.join(map(str, order))}, not in their own order: a chain "
            f"holds it with qubit {order[1]} on the chain's second qubit, and so on"
            + (example if len(order) <= 8 else "")
        )
    (a, b), more = pairs[0], len(pairs) - 1
    others = f" (and {more} pair{'s' * (more != 1)} more)" if more else ""
    return (
        f"circuit '{name}' couples qubits {a} and {b}{others} in a way no chain holds (a cycle, or a qubit coupled to "
        "three), so on any chain the transpiler adds swaps; without `layout:`, qiskit's VF2Layout looks for qubits "
        "coupled as the circuit needs"
    )


def routed(plan: Plan, circuits: Mapping[str, Yaml], built: Mapping[str, QuantumCircuit]) -> list[str]:
    """A warning per circuit whose layout's qubits are not coupled as the circuit needs: the transpiler added swaps,
    and the circuit's qubits ended elsewhere than the layout put them (its jobs' physical_qubits). Where no chain can
    hold the circuit's couplings, it says so (`built`: the circuits as qiskit has them), not to look for one."""
    found: dict[str, tuple[list[int], list[str]]] = {}
    for job in plan.jobs:
        source = circuits.get(job.circuit_name)
        layout = source.get("layout") if isinstance(source, Mapping) else None
        if isinstance(layout, list) and job.physical_qubits is not None and list(job.physical_qubits) != layout:
            found.setdefault(job.circuit_name, (list(job.physical_qubits), []))[1].append(
                f"jobs[{job.index}] ({job.name})"
            )
    # circuits on one layout with nothing of their own to say (a template's loop of them) share one warning
    alike: dict[tuple[tuple[int, ...], str, str], list[str]] = {}
    for name in found:
        if name in built and _holds(plan, circuits[name]["layout"], couplings(built[name])):
            continue  # coupled as it needs: a swap of its own, which qiskit makes a relabeling, moved its qubits
        width = len(found[name][0])
        apart = off_chain(built[name]) if name in built else []
        chains = f"`qrun qubits {plan.backend_name} --chain {width}` lists coupled chains"
        if apart:
            order = chain_order(width, couplings(built[name]))
            chains = off_chain_note(name, apart, order) + ("; " + chains if order is not None else "")
        alike.setdefault((tuple(circuits[name]["layout"]), chains, name if apart else ""), []).append(name)
    out = []
    for (layout, chains, _), names in alike.items():
        ended, jobs = found[names[0]]
        if len(names) == 1:
            out.append(
                f"warning: circuits.{names[0]}.layout: {list(layout)} is not coupled as circuit '{names[0]}' needs, "
                f"so the transpiler added swaps and its qubits ended on {ended} ({first_of(jobs)}); {chains}"
            )
            continue
        out.append(
            f"warning: {first_of([f'circuits.{n}.layout' for n in names])}: {list(layout)} is not coupled as these "
            f"{len(names)} circuits need, so the transpiler added swaps and their qubits ended elsewhere "
            f"({first_of([j for n in names for j in found[n][1]])}; the first on {ended}); {chains}"
        )
    return out


def _holds(plan: Plan, layout: Sequence[int], pairs: Set[tuple[int, int]]) -> bool:
    """Whether the device couples the layout's qubits wherever the circuit couples its own (asked only of a circuit
    whose qubits ended elsewhere: a fake device's object is built for it)."""
    cmap = plan.backend.coupling_map
    if cmap is None:
        return True  # every qubit coupled to every other
    edges = {tuple(sorted(edge)) for edge in cmap.get_edges()}
    return all(tuple(sorted((layout[a], layout[b]))) in edges for a, b in pairs)
