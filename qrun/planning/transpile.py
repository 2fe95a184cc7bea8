"""ISA circuits: a job's circuit prepared for its primitive, transpiled once per (circuit, level, variant), cached."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..backends.aer import aer_basis, bindable
from ..backends.registry import traits
from ..errors import SpecError
from ..jobs.registry import kind_of
from ..model.device import Deferred, built
from ..model.experiment import Job
from . import cache, delays, devicefacts
from .work import circuit_shape

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.providers import BackendV2

    from ..spec import Spec


@contextmanager
def refused(spec: Spec, circuit: str, named: str, backend: object) -> Iterator[None]:
    """A circuit the transpiler cannot make an ISA circuit of (an opaque gate, an instruction the device lacks) is
    the spec's error, located at the circuit, not qrun's. `named`: the spec's backend (least_busy: the one chosen)."""
    from qiskit.transpiler.exceptions import TranspilerError

    try:
        yield
    except TranspilerError as e:
        name = getattr(backend, "name", named) if named == "least_busy" else named
        message = f"cannot be transpiled for {name}: {' '.join(str(e.message).split())}"
        raise SpecError([spec.problem(("circuits", circuit), message)]) from None


def variant_of(job: Job) -> str:
    """How the job's kind prepares its circuit (JobKind.variant)."""
    return kind_of(job.primitive).variant(job)


def prepared(qc: QuantumCircuit, variant: str) -> QuantumCircuit:
    if variant == "measure_all":
        return qc.measure_all(inplace=False)
    if variant == "no_measure":
        # An estimator reads expectation values itself; final measurements would only be in its way.
        from qiskit.circuit import ControlFlowOp

        if not any(isinstance(inst.operation, ControlFlowOp) for inst in qc.data):
            return qc.remove_final_measurements(inplace=False)
        from ..sources import branching  # numpy: only a circuit with control flow needs it

        # qiskit's removal takes a measurement whose qubit nothing acts on after as final, even where a later
        # if/else reads its bit (teleportation's Bell measurement): only what nothing reads goes
        final = branching.final_measurements(qc)
        out = qc.copy_empty_like()
        for k, inst in enumerate(qc.data):
            if k not in final:
                out.append(inst)
        return out
    return qc


def cached_transpile(
    qc: QuantumCircuit,
    backend: BackendV2 | Deferred,
    kind: str,
    level: int,
    seed: int | None,
    use_cache: bool = True,
    memo: dict[tuple, Any] | None = None,
    layout: tuple[int, ...] | None = None,
) -> QuantumCircuit:
    """transpile(), through the on-disk cache unless use_cache is False. Unseeded transpilation is not cached:
    it is not a function of its inputs. A cache entry also keeps the circuit's shape (circuit_shape), which goes
    into `memo` under ("shape", id(isa)), so a warm plan does not recompute it; on a device, also what the plan
    reads of the device about the circuit (devicefacts), under ("device", id(isa)), so a warm plan of a deferred
    fake device (model.device.Deferred) never builds it.

    On aer, a circuit of gates Aer runs as they are is its own ISA form, as a hand script would send it: a
    transpile would change nothing Aer needs, and the preset pass manager's first use is slow, because its plugins
    import qiskit-ibm-runtime (benchmarks/RESULTS.md). On a noiseless simulator the state is the same either way.
    Either way a controlled gate with parameters goes to Aer as its definition (backends.aer.bindable).

    `layout`: the device's qubits the circuit starts on (its spec's `layout:`); a simulator has none to choose."""
    if not traits(kind).device:
        layout = None
        if runs_as_written(qc, built(backend)):
            return bindable(qc)
    if not use_cache or seed is None:
        isa = transpile(qc, built(backend), kind, level, seed, layout)
        if memo is not None and traits(kind).device:
            memo[("device", id(isa))] = devicefacts.of(isa, backend)
        return isa

    folder = cache.cache_dir()
    hex_key, parts = cache.key(qc, backend, kind, level, seed, layout)
    isa = cache.load(folder, hex_key, parts, qc)
    if isa is None:
        isa = transpile(qc, built(backend), kind, level, seed, layout)
        cache.store(folder, hex_key, parts, isa)
    shape = cache.load_facts(folder, hex_key)
    if shape is None:
        shape = circuit_shape(isa)
        cache.store_facts(folder, hex_key, list(shape))
    if memo is not None:
        memo[("shape", id(isa))] = tuple(shape)
        if traits(kind).device:
            memo[("device", id(isa))] = devicefacts.kept(folder, hex_key, isa, backend)
    return isa


def runs_as_written(qc: QuantumCircuit, backend: BackendV2) -> bool:
    """Whether Aer runs every instruction of `qc` as it is: its gates, measurements and barriers, and no control
    flow (whose blocks a gate count does not look into)."""
    from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES

    native = (set(aer_basis(backend)) - set(CONTROL_FLOW_OP_NAMES)) | {"barrier", "measure", "reset", "delay"}
    return all(name in native for name in qc.count_ops())


def transpile(
    qc: QuantumCircuit,
    backend: BackendV2,
    kind: str,
    level: int,
    seed: int | None,
    layout: tuple[int, ...] | None = None,
) -> QuantumCircuit:
    """ISA form for `backend`. On aer, Aer's own gates (aer_basis): every job there runs on Aer's own primitives
    (plan.engine_for), which run them as written. An IBM-style basis (rz, sx, cx) there made each rotation angle a
    parameter expression (theta + pi), which Aer binds point by point in Python: most of a long sweep's time beyond
    the hand script's. Aer's gates are given as a basis, not as its target, over which the preset pass manager is
    many times slower (benchmarks/RESULTS.md). There, a controlled gate with parameters is replaced by its definition,
    whose gates Aer's primitives bind correctly (backends.aer.bindable)."""
    from qiskit.transpiler import generate_preset_pass_manager

    if not traits(kind).device:
        pm = generate_preset_pass_manager(
            optimization_level=level, basis_gates=aer_basis(backend), seed_transpiler=seed
        )
        return bindable(pm.run(qc))
    placed = {"initial_layout": list(layout)} if layout else {}
    pm = generate_preset_pass_manager(optimization_level=level, backend=backend, seed_transpiler=seed, **placed)
    return pm.run(delays.aligned(qc, backend.target))
