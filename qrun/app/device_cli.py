"""`qrun qubits`: the device's best chains of coupled qubits, to name in a circuit's `layout:` (registered by cli)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import backends
from ..backends import service as ibm
from ..backends.registry import traits
from ..errors import PreflightError, UsageError
from ..model.experiment import Service
from ..planning.chains import MAX_STEPS, Chain, Ranking, best_chains, chain_of, coherence
from ..spec import layouts
from .clitools import debug_option

if TYPE_CHECKING:
    from qiskit.providers import BackendV2
    from qiskit.transpiler import Target


@click.command("qubits")
@click.argument("device")
@click.option(
    "--chain",
    "length",
    type=click.IntRange(1, 1000),
    default=None,
    help="How many qubits in a chain (default, where DEVICE is a spec: its widest circuit's).",
)
@click.option("--top", type=click.IntRange(1, 100), default=5, show_default=True, help="How many chains to list.")
@click.option("--json", "as_json", is_flag=True, help="The chains as JSON.")
@debug_option
def qubits_cmd(device: str, length: int | None, top: int, as_json: bool) -> None:
    """List the chains of coupled qubits with the least error on DEVICE, to name in a circuit's `layout:`. DEVICE is a
    fake device, an IBM Quantum device, or a spec (its backend, service settings and widest circuit; its own layouts
    are scored beside the best). Best first, from the errors the device's calibration reports: each qubit's readout
    and the best two-qubit gate of each link; a qubit or gate reported broken (error 0.5 or more) is left out."""

    asked = _device(device, length)
    backend, length = asked.backend, asked.length
    if length > backend.num_qubits:
        raise UsageError(f"--chain {length}: {backend.name} has {backend.num_qubits} qubits")
    ranking = best_chains(backend.target, length, top)
    own = {
        name: chain_of(backend.target, _along(layout, asked.order_of(name))) for name, layout in asked.placed.items()
    }
    if not ranking.chains:
        raise PreflightError(
            f"no chain of {length} coupled qubits on {backend.name}"
            + (
                f" in {MAX_STEPS:,} steps of the search ({ranking.usable} usable qubits)"
                if not ranking.exhaustive
                else f" ({ranking.usable} usable qubits)"
            )
        )
    order = asked.common_order()
    if as_json:
        data = _as_data(backend.name, length, ranking, order, backend.target)
        data["layouts"] = {
            name: _chain_data(c, backend.target, asked.order_of(name)) if c else None for name, c in own.items()
        }
        data["off_chain"] = {
            name: {"pairs": [list(p) for p in pairs], "order": o} for name, (pairs, o) in asked.apart.items()
        }
        click.echo(json.dumps(data, indent=2))
        return
    lines = [_text(backend.name, length, ranking, order, backend.target)]
    for name, c in own.items():  # the spec's own layouts, beside the best
        placed_at = f"circuits.{name}.layout {asked.placed[name]}"
        lines.append(
            f"{placed_at}: {_scored(c, backend.target)}" if c else f"{placed_at}: not a chain of coupled qubits"
        )
    # a circuit whose order the listing already follows needs no note
    notes = [(name, pairs, o) for name, (pairs, o) in asked.apart.items() if o is None or o != order]
    lines += [f"note: {layouts.off_chain_note(name, pairs, o)}" for name, pairs, o in notes]
    click.echo("\n".join(lines))


@dataclass(frozen=True)
class _Asked:
    """What `qrun qubits` was asked about: the device, the chain length, the layouts a spec gives its circuits, and,
    of its circuits as wide as the chains, each one's couplings that a chain in its qubits' order does not hold with
    an order a chain does hold them in (layouts.off_chain, layouts.chain_order; None: no chain does)."""

    backend: BackendV2
    length: int
    placed: dict[str, list[int]] = field(default_factory=dict)
    apart: dict[str, tuple[list[tuple[int, int]], list[int] | None]] = field(default_factory=dict)
    widest: tuple[str, ...] = ()

    def order_of(self, name: str) -> list[int] | None:
        """The order along which the circuit's qubits sit on a chain: its couplings' (None: its own)."""
        return self.apart[name][1] if name in self.apart else None

    def common_order(self) -> list[int] | None:
        """The one order every widest circuit a chain can hold sits in, where it is not their own: the chains are
        then listed as the layouts those circuits take (layout[q], qubit q's place)."""
        orders = set()
        for name in self.widest:
            if name not in self.apart:
                orders.add(tuple(range(self.length)))  # its couplings sit on a chain in its own order
            elif (order := self.apart[name][1]) is not None:  # None: no chain holds it, whatever the listing
                orders.add(tuple(order))
        if len(orders) != 1:
            return None
        (only,) = orders
        return list(only) if list(only) != list(range(self.length)) else None


def _along(layout: list[int], order: list[int] | None) -> list[int]:
    """A layout's qubits in the order its circuit couples them (a chain when the layout suits the circuit)."""
    return [layout[q] for q in order] if order is not None and len(order) == len(layout) else layout


def _placed(chain: tuple[int, ...], order: list[int] | None) -> list[int]:
    """The layout that puts a circuit coupled along `order` on the chain: qubit order[k] on the chain's k-th qubit."""
    if order is None:
        return list(chain)
    at = {q: k for k, q in enumerate(order)}
    return [chain[at[q]] for q in range(len(chain))]


def _device(given: str, length: int | None) -> _Asked:
    """What `qrun qubits` was asked about, from a spec (its backend, service settings and widest circuit), or a
    device's name (no layouts, no circuits)."""
    path = Path(given)
    if not path.is_file() and (path.suffix in (".yaml", ".yml", ".j2") or "/" in given):
        raise UsageError(f"{given}: no such file")  # a spec's name, not a device's
    if path.is_file():
        from .prepare import check  # the spec's checks: a device name needs none of it

        checked = check(path)
        experiment = checked.experiment
        used = experiment.used_circuits
        widest = max(fact.num_qubits for name, fact in checked.facts.items() if name in used)
        placed = {n: list(layout) for n in sorted(used) if (layout := layouts.initial_layout(experiment.circuits[n]))}
        wide = length or widest
        names = tuple(n for n in sorted(used) if n in checked.circuits and checked.facts[n].num_qubits == wide)
        apart = {
            n: (pairs, layouts.chain_order(wide, layouts.couplings(checked.circuits[n])))
            for n in names
            if (pairs := layouts.off_chain(checked.circuits[n]))
        }
        return _Asked(_named(experiment.backend, experiment.service, wide), wide, placed, apart, names)
    _device_kind(given)  # a simulator or an unknown name first: no --chain would help
    if length is None:
        raise UsageError(
            f"qrun qubits {given}: say how many qubits with --chain N (or give a spec, whose circuits say)"
        )
    return _Asked(_named(given, Service(), length), length)


def _device_kind(name: str) -> str:
    """The backend kind of `name`, a device's; a simulator's, or a name no kind knows, is refused."""
    kind = backends.info(name).kind
    if not traits(kind).device:
        raise UsageError(f"{name} simulates circuits as written: it has no qubits to choose (a layout is for a device)")
    return kind


def _named(name: str, settings: Service, length: int) -> BackendV2:
    if traits(_device_kind(name)).remote:
        return ibm.choose_backend(ibm.connect(settings), name, length)
    return backends.local_backend(name)


def _as_data(device: str, length: int, ranking: Ranking, order: list[int] | None, target: Target) -> dict[str, object]:
    chains = [_chain_data(c, target, order) for c in ranking.chains]
    return {"device": device, "length": length, "exhaustive": ranking.exhaustive, "chains": chains}


def _chain_data(c: Chain, target: Target, order: list[int] | None = None) -> dict[str, object]:
    t1, t2 = coherence(target, c.qubits)
    return {
        "layout": _placed(c.qubits, order),
        "chain": list(c.qubits),
        "fidelity": round(c.fidelity, 6),
        "worst": {"what": c.worst[0], "qubits": list(c.worst[1]), "error": c.worst[2]},
        "t1_us": None if t1 is None else round(t1 * 1e6, 3),  # the chain's shortest
        "t2_us": None if t2 is None else round(t2 * 1e6, 3),
    }


def _scored(c: Chain, target: Target) -> str:
    what, qubits, error = c.worst
    worst = f"{what} of {qubits[0]}" if what == "readout" else f"{what} on {qubits[0]}-{qubits[1]}"
    text = f"fidelity {c.fidelity:.4f}  largest error: {worst}, {error:.4g}"
    t1, t2 = coherence(target, c.qubits)
    times = ", ".join(f"{name} {t * 1e6:.0f} µs" for name, t in (("T1", t1), ("T2", t2)) if t is not None)
    if times:  # a chain's shortest: what bounds a circuit that idles on it
        text += f"  {'shortest ' if len(c.qubits) > 1 else ''}{times}"
    return text


def _text(device: str, length: int, ranking: Ranking, order: list[int] | None, target: Target) -> str:
    how_many = "best chain" if len(ranking.chains) == 1 else f"{len(ranking.chains)} chains"
    lines = [
        f"{device}: the {how_many} of {length} coupled qubit{'s' * (length != 1)} with the least error (readouts and "
        "two-qubit gates, as its calibration reports them)"
    ]
    if order is not None:
        lines.append(f"(each layout puts the spec's circuits, coupled along {'-'.join(map(str, order))}, on the chain)")
    lines += [
        f"{k:>3}  layout: {_placed(c.qubits, order)}  {_scored(c, target)}" for k, c in enumerate(ranking.chains, 1)
    ]
    if not ranking.exhaustive:
        lines.append(f"(the search stopped after {MAX_STEPS:,} steps: these are the best it found, not every chain)")
    return "\n".join(lines)
