"""Primitive factories, runtime options and PUBs: how one job becomes calls on Aer, qiskit or the runtime."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..backends.aer import binds_at_runtime, picks_statevector
from ..model.defaults import DEFAULT_RESILIENCE_LEVEL
from ..model.plan import JobPlan
from ..planning import sweeps

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.primitives.containers import ObservablesArray
    from qiskit.providers import BackendV2
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer import AerSimulator

    from ..backends.kind import OpenSession
    from ..jobs.kind import Primitive, Pub


# Aer runs one experiment's state on every core itself only past its statevector_parallel_threshold, 14 qubits; up to
# 17 qubits parallel experiments still ran a PUB's rows sooner, and at 18 the two were even (RESULTS.md, "Parallel
# experiments up to 17 qubits")
PARALLEL_BELOW = 18
# Rows bound as Aer runs (backends.aer.binds_at_runtime) ran a PUB sooner below 14 qubits, as fast at 14, and slower
# from 15, where simulating outweighs building an experiment per row (the same section)
BOUND_BELOW = 14


class Engines:
    """Builds each submission's primitive for a job's engine; noisy simulators are built once per device.

    On aer, a PUB's parameter rows run as parallel experiments across this machine's cores (`parallel`): Aer runs
    them one at a time by default, and in parallel gives the same values, seed for seed, sooner (benchmarks/RESULTS.md,
    "Aer runs a PUB's rows in parallel"). Only below PARALLEL_BELOW qubits: wider, Aer spreads each experiment's
    state over the cores itself about as fast, and parallel experiments would hold a state vector per core. Off in a
    run with a Dask cluster: its workers share the cores already."""

    def __init__(self, backend: BackendV2, tags: list[str] | None = None, parallel: bool = True):
        self.backend = backend
        self.tags = list(tags or [])  # on every service job: the run and spec it belongs to, for resume to find
        self._noisy: dict[int, AerSimulator] = {}
        self.parallel = parallel

    def noisy_simulator(self, job: JobPlan) -> AerSimulator:
        """The job's device noise model in an AerSimulator (what the runtime's local mode runs on), built once each."""
        device = job.device if job.device is not None else self.backend
        if id(device) not in self._noisy:
            from qiskit_aer import AerSimulator  # deferred: heavy, and only local runs need it

            self._noisy[id(device)] = AerSimulator.from_backend(device)
        return self._noisy[id(device)]

    def estimator(self, job: JobPlan, session: OpenSession, seed: int | None) -> Primitive:
        if job.engine == "backend-primitives":
            from qiskit.primitives import BackendEstimatorV2

            return BackendEstimatorV2(
                backend=self.noisy_simulator(job), options=seeded({"default_precision": job.precision}, seed)
            )
        if job.engine == "aer-primitives":
            from qiskit_aer.primitives import EstimatorV2

            return EstimatorV2(
                options={
                    "default_precision": job.precision,
                    "backend_options": self.aer_options(job),
                    "run_options": seeded({}, seed),
                }
            )
        from qiskit_ibm_runtime.executor_estimator import Estimator

        # A fake device runs locally on the job's own subset device; a service backend in the one session.
        mode = job.device if job.device is not None else session
        tags = self.tags if job.device is None else []
        return Estimator(mode=mode, options=runtime_options(job.options, seed, estimator=True, tags=tags))

    def aer_options(self, job: JobPlan) -> dict[str, object]:
        """Aer's backend options for the job, on a circuit under PARALLEL_BELOW qubits: its rows as parallel
        experiments (Aer's 0: as many at once as it has threads, within its own memory check) where that is what runs
        them fastest, the method Aer would pick for each row, named once (backends.aer.picks_statevector), and, where
        Aer can, the rows bound as it runs (backends.aer.binds_at_runtime): one thread a PUB in a run whose Dask
        workers share the cores."""
        if job.circuit.num_qubits >= PARALLEL_BELOW:
            return {}
        options: dict[str, object] = {"max_parallel_experiments": 0} if self.parallel else {}
        if picks_statevector(job.circuit):  # cheap beside the call of Aer it prepares: asked each time, not kept
            options["method"] = "statevector"
            if job.circuit.num_qubits < BOUND_BELOW and binds_at_runtime(job.circuit):
                options["runtime_parameter_bind_enable"] = True
                if not self.parallel:  # bound at run time, the rows are shots, which Aer runs on every core
                    options["max_parallel_shots"] = 1
        return options

    def tag(self, primitive: Primitive, job: JobPlan, extra: list[str]) -> None:
        """Set a service submission's tags: the run's and spec's, and `extra`, which names this submission. Local
        runs carry none."""
        if job.engine != "runtime-client-primitives" or job.device is not None or not self.tags:
            return
        own = job.options.get("job_tags")
        primitive.options.environment.job_tags = [*self.tags, *(own if isinstance(own, list) else []), *extra]

    def reseed(self, primitive: Primitive, job: JobPlan, seed: int | None) -> None:
        """Give an existing estimator the seed of the next submission (same effect as building a new one)."""
        if seed is None:
            return
        if job.engine == "backend-primitives":
            primitive.options.seed_simulator = seed
        elif job.engine == "aer-primitives":
            primitive.options.run_options = seeded(dict(primitive.options.run_options or {}), seed)
        else:
            primitive.options.simulator.seed_simulator = seed

    def sampler(self, job: JobPlan, session: OpenSession, seed: int | None) -> Primitive:
        if job.engine == "backend-primitives":
            from qiskit.primitives import BackendSamplerV2

            return BackendSamplerV2(
                backend=self.noisy_simulator(job), options=seeded({"default_shots": job.shots}, seed)
            )
        if job.engine == "aer-primitives":
            from qiskit_aer.primitives import SamplerV2

            return SamplerV2(default_shots=job.shots, seed=seed, options={"backend_options": self.aer_options(job)})
        from qiskit_ibm_runtime.executor_sampler import Sampler

        mode = job.device if job.device is not None else session
        tags = self.tags if job.device is None else []
        return Sampler(mode=mode, options=runtime_options(job.options, seed, estimator=False, tags=tags))


def seeded(options: dict[str, object], seed: int | None) -> dict[str, object]:
    return options if seed is None else {**options, "seed_simulator": seed}


def runtime_options(
    options: Mapping[str, object], seed: int | None, estimator: bool, tags: list[str] | None = None
) -> dict[str, object]:
    """qrun options -> the client-side primitives' option model (optimization_level is not one: plan uses it)."""
    # a local run carries no tags (no service keeps them); the user's go beside qrun's on the service
    own = options.get("job_tags")
    out: dict[str, object] = (
        {"environment": {"job_tags": [*tags, *(own if isinstance(own, list) else [])]}} if tags else {}
    )
    if estimator:
        out["resilience_level"] = options.get("resilience_level", DEFAULT_RESILIENCE_LEVEL)
    for key in ("dynamical_decoupling", "twirling"):
        if isinstance(given := options.get(key), dict) and given:
            out[key] = dict(given)
    if options.get("max_execution_time"):
        out["max_execution_time"] = options["max_execution_time"]
    if seed is not None:
        out["simulator"] = seeded({}, seed)
    return out


def observables_array(ops: list[SparsePauliOp], column: bool = False) -> ObservablesArray:
    """An ObservablesArray of `ops`, shape (n,) or (n, 1), filled element by element.

    Never `np.empty(..., object)[:] = ops`: numpy then calls SparsePauliOp.__array__, which builds the dense
    2^n x 2^n matrix (fatal at an ISA width of 127 qubits). qiskit's ObservablesArray stores sparse observables.
    """
    from qiskit.primitives.containers import ObservablesArray

    return ObservablesArray([[op] for op in ops] if column else list(ops))


def estimator_pub(job: JobPlan) -> Pub:
    """One broadcast PUB: evs come back shaped (observables, parameter sets), or (observables,) without parameters."""
    ops = [op for _, op in job.observables]
    if job.parameter_values is None:
        return (job.circuit, observables_array(ops))
    return (job.circuit, observables_array(ops, column=True), job.parameter_values)


def sweep_estimator_pub(circuit: QuantumCircuit, ops: list[SparsePauliOp], rows: np.ndarray, g: sweeps.Group) -> Pub:
    """A grid goes out as observables (n, 1) x rows (m, k); any other set of points as aligned (n,) x (n, k)."""
    if g.product:
        return (
            (circuit, observables_array(ops, column=True), rows) if rows.shape[1] else (circuit, observables_array(ops))
        )
    arr = observables_array([ops[o] for o, _ in g.where])
    aligned = rows[[r for _, r in g.where]]
    return (circuit, arr, aligned) if rows.shape[1] else (circuit, arr)


def sampler_pub(job: JobPlan) -> tuple:
    if job.parameter_values is None:
        return (job.circuit,)
    return (job.circuit, job.parameter_values)
