"""ISA circuits: a job's circuit prepared for its primitive, transpiled once per (circuit, level, variant), cached."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..jobs.registry import kind_of
from ..model.experiment import Job
from . import cache
from .work import circuit_shape

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.providers import BackendV2


def variant_of(job: Job) -> str:
    """How the job's kind prepares its circuit (JobKind.variant)."""
    return kind_of(job.primitive).variant(job)


def prepared(qc: QuantumCircuit, variant: str) -> QuantumCircuit:
    if variant == "measure_all":
        return qc.measure_all(inplace=False)
    if variant == "no_measure":
        # An estimator reads expectation values itself; final measurements would only be in its way.
        return qc.remove_final_measurements(inplace=False)
    return qc


def cached_transpile(
    qc: QuantumCircuit,
    backend: BackendV2,
    kind: str,
    level: int,
    seed: int | None,
    use_cache: bool = True,
    memo: dict[tuple, Any] | None = None,
) -> Any:
    """transpile(), through the on-disk cache unless use_cache is False. Unseeded transpilation is not cached:
    it is not a function of its inputs. A cache entry also keeps the circuit's shape (circuit_shape), which goes
    into `memo` under ("shape", id(isa)), so a warm plan does not recompute it."""
    if not use_cache or seed is None:
        return transpile(qc, backend, kind, level, seed)

    folder = cache.cache_dir()
    hex_key, parts = cache.key(qc, backend, kind, level, seed)
    isa = cache.load(folder, hex_key, parts, qc)
    if isa is None:
        isa = transpile(qc, backend, kind, level, seed)
        cache.store(folder, hex_key, parts, isa)
    shape = cache.load_facts(folder, hex_key)
    if shape is None:
        shape = circuit_shape(isa)
        cache.store_facts(folder, hex_key, list(shape))
    if memo is not None:
        memo[("shape", id(isa))] = tuple(shape)
    return isa


def transpile(qc: QuantumCircuit, backend: BackendV2, kind: str, level: int, seed: int | None) -> QuantumCircuit:
    """ISA form for `backend`'s own target. On aer that is Aer's: every job there runs on Aer's own primitives
    (plan.engine_for), which run its gates as written. An IBM-style basis (rz, sx, cx) there made each rotation
    angle a parameter expression (theta + pi), which Aer binds point by point in Python: most of a long sweep's
    time beyond the hand script's (benchmarks/RESULTS.md)."""
    from qiskit.transpiler import generate_preset_pass_manager

    return generate_preset_pass_manager(optimization_level=level, backend=backend, seed_transpiler=seed).run(qc)
