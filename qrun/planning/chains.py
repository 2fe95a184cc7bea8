"""A device's chains of coupled qubits ranked by the errors its calibration reports: where a circuit's `layout:` can
go (`qrun qubits`), as IBM's tutorials pick a GHZ chain by hand."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .faulty import BROKEN

if TYPE_CHECKING:
    from qiskit.transpiler import Target

# Steps of the search past which it stops and says so: a chain of 30 qubits on a heavy-hex device has about 10^5
# candidates, of 40 about 10^6, each step one qubit added to one partial chain (most are cut off long before).
MAX_STEPS = 2_000_000


@dataclass(frozen=True)
class Chain:
    """Qubits in chain order, each coupled to the next; `fidelity`: the product of (1 - error) over its links (each
    the best two-qubit gate between the pair, either way) and its qubits' readouts; `worst`: its largest error."""

    qubits: tuple[int, ...]
    fidelity: float
    worst: tuple[str, tuple[int, ...], float]


@dataclass(frozen=True)
class Ranking:
    """The best chains found, best first, and how far the search went."""

    chains: list[Chain]
    exhaustive: bool  # False: the search stopped at MAX_STEPS, and these are the best it had found
    usable: int  # qubits with a readout error reported and under BROKEN


def errors(target: Target) -> tuple[dict[int, float], dict[tuple[int, int], tuple[str, float]]]:
    """(readout error by qubit, (gate, error) of the best two-qubit gate by pair (low, high)), leaving out what the
    calibration does not report and what it reports as broken (error BROKEN or more)."""
    readout: dict[int, float] = {}
    for qargs, props in target["measure"].items() if "measure" in target.operation_names else ():
        error = getattr(props, "error", None)
        if qargs is not None and error is not None and error < BROKEN:
            readout[qargs[0]] = float(error)
    links: dict[tuple[int, int], tuple[str, float]] = {}
    for name in target.operation_names:
        if target.operation_from_name(name).num_qubits != 2:
            continue
        for qargs, props in target[name].items():
            error = getattr(props, "error", None)
            if qargs is None or error is None or error >= BROKEN:
                continue
            pair = (min(qargs), max(qargs))
            if pair not in links or error < links[pair][1]:
                links[pair] = (name, float(error))
    return readout, links


def best_chains(target: Target, length: int, top: int = 5, max_steps: int = MAX_STEPS) -> Ranking:
    """The `top` chains of `length` qubits with the highest fidelity, best first (a chain and its reverse are one:
    given from its lower end). Branch and bound: a partial chain already below the top-th best whole one is dropped,
    since each qubit added only lowers it; links are tried best first, so good chains bound the search early."""
    readout, links = errors(target)
    if length > len(readout):  # no chain can be that long: searching would only spend its steps
        return Ranking([], True, len(readout))
    cost = {q: -math.log1p(-e) for q, e in readout.items()}  # -log(1 - error): costs add as fidelities multiply
    near: dict[int, list[tuple[float, int]]] = {q: [] for q in readout}
    for (a, b), (_, e) in links.items():
        if a in readout and b in readout:
            near[a].append((-math.log1p(-e), b))
            near[b].append((-math.log1p(-e), a))
    for q in near:
        near[q].sort()
    kept: list[tuple[float, tuple[int, ...]]] = []  # a heap of (-cost, chain): its root is the worst kept
    steps = 0

    def keep(spent: float, chain: tuple[int, ...]) -> None:
        item = (-spent, chain)
        heapq.heappush(kept, item) if len(kept) < top else heapq.heappushpop(kept, item)

    for start in sorted(readout, key=cost.__getitem__):  # the best readouts first: good chains bound the rest
        if length == 1:
            keep(cost[start], (start,))
            continue
        chain, spent, on = [start], [cost[start]], {start}
        choices = [iter(near[start])]
        while choices and steps <= max_steps:  # depth first, without recursion: a chain may be 1,000 qubits long
            step = next(choices[-1], None)
            if step is None:
                choices.pop()
                spent.pop()
                on.discard(chain.pop())
                continue
            steps += 1
            link, q = step
            more = spent[-1] + link + cost[q]
            if q in on or (len(kept) >= top and more >= -kept[0][0]):
                continue
            if len(chain) + 1 == length:
                if start < q:  # a chain and its reverse are one
                    keep(more, (*chain, q))
                continue
            chain.append(q)
            spent.append(more)
            choices.append(iter(near[q]))
            on.add(q)
    ranked = sorted((-c, chain) for c, chain in kept)
    return Ranking([_chain(chain, spent, readout, links) for spent, chain in ranked], steps <= max_steps, len(readout))


def _chain(
    qubits: tuple[int, ...], spent: float, readout: dict[int, float], links: dict[tuple[int, int], tuple[str, float]]
) -> Chain:
    parts: list[tuple[str, tuple[int, ...], float]] = [("readout", (q,), readout[q]) for q in qubits]
    for a, b in zip(qubits, qubits[1:], strict=False):
        name, error = links[(min(a, b), max(a, b))]
        parts.append((name, (a, b), error))
    return Chain(qubits, math.exp(-spent), max(parts, key=lambda p: p[2]))


def chain_of(target: Target, qubits: list[int]) -> Chain | None:
    """`qubits` scored as a chain, or None where two neighbours in it are not coupled (or a part of it is broken or
    unreported): how a spec's own layout compares with the best ones."""
    readout, links = errors(target)
    pairs = [(min(a, b), max(a, b)) for a, b in zip(qubits, qubits[1:], strict=False)]
    if not qubits or any(q not in readout for q in qubits) or any(p not in links for p in pairs):
        return None
    spent = sum(-math.log1p(-readout[q]) for q in qubits) + sum(-math.log1p(-links[p][1]) for p in pairs)
    return _chain(tuple(qubits), spent, readout, links)


def coherence(target: Target, qubits: tuple[int, ...]) -> tuple[float | None, float | None]:
    """The shortest T1 and T2 (seconds) among `qubits`, as the calibration reports them (None where it reports none):
    what bounds a circuit that idles, a T1 curve's delays, or a deep circuit on the chain."""
    props = target.qubit_properties or []
    found = [props[q] for q in qubits if q < len(props) and props[q] is not None]
    t1 = [float(p.t1) for p in found if getattr(p, "t1", None)]
    t2 = [float(p.t2) for p in found if getattr(p, "t2", None)]
    return (min(t1) if t1 else None, min(t2) if t2 else None)
