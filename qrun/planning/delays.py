"""Delays on a device that starts pulses only on multiples of some dt (IBM's Eagles: 16 dt): each lengthened to the
next multiple before the transpile, which otherwise refuses the circuit (qiskit#8985), and said so at plan time."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..backends.registry import traits
from ..model.device import built
from ..model.durations import MAX_SECONDS
from ..model.findings import first_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from qiskit import QuantumCircuit
    from qiskit.circuit import CircuitInstruction
    from qiskit.transpiler import Target

    from ..model.plan import Plan

SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12}


def alignment(target: Target) -> int:
    """The multiple of dt every delay must be for the device's pulses and readouts to start where they may: 1 where
    the device sets no constraint (a Heron's, a simulator's)."""
    if not target.dt:
        return 1
    return math.lcm(int(target.pulse_alignment or 1), int(target.acquire_alignment or 1))


def _in_dt(inst: CircuitInstruction, dt: float) -> int | None:
    """The delay's length in dt, as qiskit's TimeUnitConversion rounds it; None for a length qrun leaves to qiskit (a
    stretch, an expression)."""
    op = inst.operation
    if op.unit == "dt" and isinstance(op.duration, int):
        return op.duration
    if op.unit in SECONDS and isinstance(op.duration, int | float):
        return round(op.duration * SECONDS[op.unit] / dt)
    return None


def aligned(qc: QuantumCircuit, target: Target) -> QuantumCircuit:
    """`qc` with each delay off the device's alignment lengthened to the next multiple of it (in dt), as qiskit's
    ConstrainedReschedule would push the instruction after it; `qc` itself where no delay needs it. TranspilerError
    for a delay longer than any session, whose length in dt overflowed qiskit's conversion (an internal error), and
    for one whose length is a parameter, which a device runs on neither its fake nor its real path."""
    _within_limits(qc, target)
    longer = _longer(qc, target)
    if not longer:
        return qc
    from qiskit.circuit import Delay

    out = qc.copy_empty_like()
    for k, inst in enumerate(qc.data):
        out.append(inst.replace(operation=Delay(longer[k], unit="dt")) if k in longer else inst)
    return out


def _within_limits(qc: QuantumCircuit, target: Target) -> None:
    if "delay" not in qc.count_ops():
        return
    from qiskit.circuit import ParameterExpression
    from qiskit.transpiler.exceptions import TranspilerError

    for inst in qc.data:
        op = inst.operation
        if op.name != "delay":
            continue
        if isinstance(op.duration, ParameterExpression):  # qiskit's transpiler, and the runtime's binding, refuse it
            names = ", ".join(sorted(p.name for p in op.duration.parameters))
            raise TranspilerError(
                f"a delay on qubit {qc.find_bit(inst.qubits[0]).index} takes its length from the parameter {names}, "
                "and a device's transpiler and primitives need a number; make a circuit for each length: a Python "
                "circuit's argument (-m circuits.NAME.args.ARG=0,50,100) or a template's loop"
            )
        if isinstance(op.duration, int | float):
            seconds = op.duration * SECONDS.get(op.unit, target.dt or 0.0)  # dt: the device's
            if math.isnan(seconds):  # a Python circuit's: qiskit takes it
                raise TranspilerError(f"delay[{op.duration:g}{op.unit}] is not a length of time")
            if not seconds <= MAX_SECONDS:
                raise TranspilerError(
                    f"delay[{op.duration:g}{op.unit}] is longer than {MAX_SECONDS // 86400} days, more than any "
                    "session or job takes"
                )


def _longer(qc: QuantumCircuit, target: Target) -> dict[int, int]:
    """The index of each delay off the alignment in `qc.data`, and its length in dt once aligned."""
    step = alignment(target)
    if step == 1 or "delay" not in qc.count_ops():
        return {}
    found = {}
    for k, inst in enumerate(qc.data):
        if inst.operation.name == "delay":
            asked = _in_dt(inst, target.dt)
            if asked is not None and asked % step:
                found[k] = -(-asked // step) * step
    return found


def lengthened(qc: QuantumCircuit, target: Target) -> list[tuple[str, str, str]]:
    """Each delay of `qc` that `aligned` lengthens, alike ones together: (as written, on which qubits, how long it
    runs, in dt and in the unit it was written in). `delay[10us] q;` is a delay on each qubit to qiskit, one to its
    author."""
    found: dict[tuple[str, str, int], list[int]] = {}
    for k, used in _longer(qc, target).items():
        op = qc.data[k].operation
        written = f"delay[{op.duration:g}{op.unit}]"
        found.setdefault((written, op.unit, used), []).extend(qc.find_bit(q).index for q in qc.data[k].qubits)
    out = []
    for (written, unit, used), qubits in found.items():
        runs = f"{used}dt" + (f" ({used * target.dt / SECONDS[unit]:.6g}{unit})" if unit in SECONDS else "")
        each = dict.fromkeys(qubits)  # an echo's two halves are two delays on one qubit, not two qubits
        on = f"qubit{'s' * (len(each) > 1)} {', '.join(map(str, each))}"
        if len(qubits) > len(each):
            on += f" ({len(qubits)} delays)"
        out.append((written, on, runs))
    return out


def notes(plan: Plan, built_circuits: Mapping[str, QuantumCircuit]) -> list[str]:
    """One note for every delay the device's alignment lengthens, in the circuits the plan's jobs run."""
    if not traits(plan.backend_kind).device:
        return []
    used = dict.fromkeys(job.circuit_name for job in plan.jobs)
    with_delays = [n for n in used if n in built_circuits and "delay" in built_circuits[n].count_ops()]
    if not with_delays:
        return []
    target = built(plan.backend).target  # built only for a circuit with a delay: a warm plan of others never builds it
    step = alignment(target)
    parts = [
        f"circuits.{name}: {written} on {on} runs as {runs}"
        for name in with_delays
        for written, on, runs in lengthened(built_circuits[name], target)
    ]
    if not parts:
        return []
    return [
        f"note: {plan.backend_name} starts each pulse on a multiple of {step} dt ({step * target.dt * 1e9:.4g} ns), so "
        f"a delay is lengthened to the next one: {first_of(parts, 3, '; ')}; write a delay in dt, a multiple of "
        f"{step}, to run it as written"
    ]
