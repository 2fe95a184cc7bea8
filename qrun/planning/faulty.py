"""Where an ISA circuit runs a gate or a readout whose calibration the device reports as failed (an error of 1, as
IBM reports one; 0.5 or more here): warned about at plan time, since its values would be noise, paid for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backends.registry import traits
from ..model.findings import first_of

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.transpiler import Target

    from ..model.plan import Plan

BROKEN = 0.5  # an error past a coin's: the instruction carries no signal


def broken(isa: QuantumCircuit, target: Target) -> list[tuple[str, list[int], float]]:
    """Each distinct (instruction, physical qubits) of the ISA circuit whose reported error is BROKEN or more."""
    found: dict[tuple[str, tuple[int, ...]], float] = {}
    for inst in isa.data:
        name = inst.operation.name
        if name not in target.operation_names:
            continue
        qubits = tuple(isa.find_bit(q).index for q in inst.qubits)
        if (name, qubits) in found:
            continue
        props = target[name].get(qubits)
        error = getattr(props, "error", None)
        if error is not None and error >= BROKEN:
            found[(name, qubits)] = float(error)
    return [(name, list(qubits), error) for (name, qubits), error in found.items()]


def entry(value: object) -> bool:
    """Whether a cached entry of `broken` is what it writes: [name, [qubits], error]."""
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and isinstance(value[1], list)
        and all(type(q) is int and q >= 0 for q in value[1])
        and type(value[2]) in (int, float)
    )


def warnings(plan: Plan, placed: frozenset[str] = frozenset()) -> list[str]:
    """One warning per set of broken instructions, naming the jobs that run them (in whatever order their circuits
    do). `placed`: the circuits whose spec gives a `layout:`, which the transpiler keeps at any level: the advice is
    then to name other qubits, in each such circuit (a template's loop of circuits on one layout: one warning)."""
    if not traits(plan.backend_kind).device:
        return []
    by_gates: dict[tuple, tuple[list[str], list[str]]] = {}
    for job in plan.jobs:
        found = job.stats.get("broken")
        if found:
            key = tuple(sorted((name, tuple(qubits), error) for name, qubits, error in found))
            jobs, circuits = by_gates.setdefault((key, job.circuit_name in placed), ([], []))
            jobs.append(f"jobs[{job.index}] ({job.name})")
            if job.circuit_name not in circuits:
                circuits.append(job.circuit_name)
    out = []
    for (found, laid_out), (jobs, circuits) in by_gates.items():
        parts = [
            f"{name} on qubit{'s' * (len(q) > 1)} {', '.join(map(str, q))} (error {error:g})"
            for name, q, error in found
        ]
        one = len(circuits) == 1
        out.append(
            f"warning: {first_of(jobs)}: {'the ISA circuit runs' if one else 'their ISA circuits run'} what "
            f"{plan.backend_name} reports as broken (error 0.5 or more): {first_of(parts, 5, '; ')}; "
            f"{'its' if one else 'their'} values would be noise. "
            + (
                f"{first_of([f'circuits.{c}.layout' for c in circuits])} put{'s' * one} the "
                f"circuit{'s' * (not one)} on them: name other qubits"
                if laid_out
                else "optimization_level 2 or 3 lays a circuit out by the device's errors (level 0 or 1 keeps a "
                "layout that fits), or a circuit's layout: names its qubits (qrun qubits SPEC lists the best chains)"
            )
        )
    return out
