"""Turn a checked spec into a plan: ISA circuits transpiled once, mapped observables, resolved options, estimates."""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np

from .. import backends
from ..model.defaults import (
    DEFAULT_MAXITER,
    DEFAULT_OPTIMIZATION_LEVEL,
    DEFAULT_OPTIMIZER,
    DEFAULT_PRECISION,
    DEFAULT_RESILIENCE_LEVEL,
    DEFAULT_SHOTS,
)
from ..model.plan import JobPlan, Plan
from ..sources import circuits
from ..spec.validate import Checked
from . import estimates, modes, rehearsal, sweeps
from .estimates import Learned, content_hash, merge_options


def build(
    checked: Checked,
    backend: Any | None = None,
    source: str = "learned",
    history: Learned | None = None,
    use_cache: bool = True,
) -> Plan:
    """Make the plan; `backend` overrides the local lookup (the run stage passes a service backend).

    source: "declared" uses the spec's estimates (computed where absent); "fresh" computes every one from the
    backend's timing; "learned" (the default) uses a matching earlier run's actual time where `history` has one.
    """
    data = checked.spec.data
    seed = (data.get("options") or {}).get("seed")
    if backend is None:
        backend = backends.local_backend(data["backend"], seed)
    transpiled: dict[tuple, Any] = {}
    timings: dict[tuple, estimates.Timing] = {}
    problems: list[tuple[tuple, str]] = []
    memo: dict[tuple, Any] = {}  # work shared by jobs with the same circuit (and observables)
    hashed: dict[Any, str] = {}  # the encoded parts of content hashes that jobs share
    jobs = []
    coupling = getattr(backend, "coupling_map", None)
    for cname, entry in data["circuits"].items():
        if "python" in entry and coupling is not None:
            from ..sources import pysource

            if pysource.takes_coupling_map(entry, checked.spec.base_dir):
                # it asks for the device's coupling map: built again, now that the device is known
                checked.circuits[cname] = circuits.build(entry, checked.spec.base_dir, coupling)
    for index, job in enumerate(data["jobs"]):
        options = merge_options(data.get("options"), job.get("options"))
        level = options.get("optimization_level", DEFAULT_OPTIMIZATION_LEVEL)
        variant = _variant(job)
        key = (job["circuit"], level, variant)
        if job["circuit"] not in checked.circuits:  # the quick validation path read its facts without building it
            checked.circuits[job["circuit"]] = circuits.build(data["circuits"][job["circuit"]], checked.spec.base_dir)
        if key not in transpiled:
            transpiled[key] = cached_transpile(
                _prepare(checked.circuits[job["circuit"]], variant),
                backend,
                checked.backend.kind,
                level,
                seed,
                use_cache,
                memo,
            )
        isa = transpiled[key]
        points = sweep_points(job)
        used = job.get("observables") or (
            list(dict.fromkeys(points.columns[points.names.index("observable")]))
            if points is not None and "observable" in points.names
            else []
        )
        # Identical work is done once: thousands of jobs on one circuit share its mapped observables, its
        # rehearsal device, its measurement bases and its stats (what made plan slow at 10,000 jobs).
        observables = [
            (name, once(memo, ("op", key, name), partial(_mapped, checked.observables[name], isa))) for name in used
        ]
        values = job.get("parameter_values")
        n = isa.num_parameters
        reference = None
        if job.get("exact") == "statevector":
            reference = _prepare(checked.circuits[job["circuit"]], variant)
        declared = data.get("observables") or {}
        units = {o: u for o in used if (u := circuits.observable_unit(declared.get(o)))}
        sim_circuit, sim_observables, device, simulated = None, None, None, None
        if checked.backend.kind == "fake":
            # which qubits only; the runner cuts the circuit and the device down when the job runs
            simulated = once(
                memo, ("rehearsal", key, tuple(used)), partial(rehearsal.qubits_for, isa, observables, backend)
            )
        plan_job = JobPlan(
            index=index,
            name=job["name"],
            primitive=job["primitive"],
            circuit_name=job["circuit"],
            circuit=isa,
            device=device,
            simulated_qubits=simulated,
            sim_circuit=sim_circuit,
            sim_observables=sim_observables,
            reference_circuit=reference,
            reference_observables={o: circuits.to_sparse_pauli_op(checked.observables[o]) for o in used}
            if reference is not None
            else {},
            observable_units=units,
            parameter_names=[p.name for p in isa.parameters],
            parameter_values=np.asarray(values, dtype=float) if isinstance(values, list) else None,
            observables=observables,
            shots=job.get("shots", options.get("default_shots", DEFAULT_SHOTS))
            if job["primitive"] == "sampler"
            else None,
            precision=estimator_precision(job, options) if job["primitive"] != "sampler" else None,
            options=options,
            spec=job,
            initial_point=initial_point(job.get("initial_point", "zeros"), n, seed)
            if job["primitive"] == "minimize"
            else None,
            optimizer={"method": DEFAULT_OPTIMIZER, "maxiter": DEFAULT_MAXITER, **(job.get("optimizer") or {})},
            max_evaluations=estimates.evaluations(job, n),
            parameter_source=values["from"] if isinstance(values, dict) else None,
            points=points,
            sweep_variables=list(job["sweep"]["values"]) if "sweep" in job else [],
            content_hash=content_hash(data, job, hashed),
            units=estimates.units(job, n),
        )
        plan_job.engine = engine_for(checked.backend.kind, plan_job.primitive, options)
        if points is not None:
            chunk = sweeps.SERVICE_CHUNK if checked.backend.kind == "service" else sweeps.LOCAL_CHUNK
            # whole rows per chunk, so each chunk is a full grid: observables (n, 1) x rows (m, k), m bindings
            per_row = len(points.observables)
            plan_job.chunk = max(per_row, chunk // per_row * per_row)
            if len(points) <= plan_job.chunk:
                plan_job.groups = chunk_groups(plan_job, points[:])
        work = job_work(plan_job, memo)
        plan_job.stats = job_stats(plan_job, work, memo)
        if key not in timings:  # the depth job_stats found, not a second pass over a large circuit
            timings[key] = backend_timing(isa, backend, plan_job.stats["depth"])
        estimator = job["primitive"] != "sampler"
        if checked.backend.kind == "aer":  # local wall time: nothing is billed, and precision costs no shots
            own = partial(estimates.local, work, plan_job.stats["qubits"], plan_job.stats["depth"], estimator)
        else:
            own = partial(estimates.computed, timings[key], work, options, estimator)
        plan_job.estimate, plan_job.estimate_source = estimates.choose(
            job, n, source, history.get((job["name"], plan_job.content_hash)) if history is not None else None, own
        )
        if checked.backend.kind != "aer":
            # What a device will charge, and the floor no declared or learned figure may undercut unnoticed.
            floor = own()
            plan_job.qpu_seconds = estimates.quantum_seconds(timings[key], work, options, job["primitive"] != "sampler")
            # Only a declared figure: a learned one is what this very job took before.
            if (
                plan_job.estimate_source == "declared"
                and plan_job.estimate * estimates.FLOOR_FACTOR < floor
                and not job.get("trust_estimate")
            ):
                problems.append(
                    (
                        (("jobs", index, "estimate") if "estimate" in job else ("jobs", index)),
                        estimates.floor_message(plan_job, floor),
                    )
                )
        jobs.append(plan_job)
    max_time = estimates.session_seconds(data)
    cut = modes.blocks(data.get("mode", modes.AUTO), jobs)
    mode, why = modes.overall(data.get("mode", modes.AUTO), cut, data)
    return Plan(
        name=data["name"],
        # least_busy names the device it picked; the record shows that one
        backend_name=getattr(backend, "name", data["backend"])
        if checked.backend.kind == "service"
        else data["backend"],
        backend_kind=checked.backend.kind,
        backend=backend,
        mode=mode,
        mode_reason=why,
        max_time=max_time,
        seed=seed,
        jobs=jobs,
        budget=estimates.budget_for(data, checked.backend.kind, [(j.name, j.estimate) for j in jobs]),
        problems=problems,
        blocks=cut,
    )


def estimator_precision(job: dict[str, Any], options: dict[str, Any]) -> float:
    """An estimator job's target precision: its own, or 1/sqrt(shots) where it gives shots as IBM's tutorials do (the
    runtime's own relation: precision p costs 1/p^2 shots), else the spec's default."""
    if "shots" in job:
        return float(job["shots"]) ** -0.5
    return float(job.get("precision", options.get("default_precision", DEFAULT_PRECISION)))


def engine_for(kind: str, primitive: str, options: dict[str, Any]) -> str:
    """The fastest engine that gives the runtime's answer for this job (measured: benchmarks/engines_and_validate.py).

    aer: Aer's own primitives (noiseless: nothing to mitigate). A fake device with nothing mitigated, twirled or
    decoupled: qiskit's BackendEstimatorV2/BackendSamplerV2 over AerSimulator.from_backend, the simulator the
    runtime's local mode uses itself, without the client-side pipeline (counts are identical seed for seed; expectation
    values agree statistically, readout error included). Everything else: the runtime's client-side primitives.
    """
    if kind == "aer":
        return "aer-primitives"
    twirling = options.get("twirling") or {}
    plain = (
        kind == "fake"
        and options.get("engine", "auto") == "auto"
        and not (options.get("dynamical_decoupling") or {}).get("enable")
        and not twirling.get("enable_gates")
        and not twirling.get("enable_measure")
        and (primitive == "sampler" or options.get("resilience_level", DEFAULT_RESILIENCE_LEVEL) == 0)
    )
    return "backend-primitives" if plain else "runtime-client-primitives"


def backend_timing(isa: Any, backend: Any, depth: int | None = None) -> estimates.Timing:
    """The ISA circuit's scheduled duration on the backend's target, or None where it has no durations (aer)."""
    try:
        seconds = float(isa.estimate_duration(backend.target, unit="s"))
    except Exception:  # no durations in the target: the model's documented fallback applies
        seconds = None
    return estimates.Timing(
        seconds, isa.depth() if depth is None else depth, getattr(backend, "default_rep_delay", None)
    )


def _mapped(terms: Any, isa: Any) -> Any:
    """An observable as a SparsePauliOp laid out on the ISA circuit's physical qubits."""
    return circuits.to_sparse_pauli_op(terms).apply_layout(isa.layout)


def once(memo: dict[tuple, Any], key: tuple, make: Any) -> Any:
    """memo[key], made by make() the first time the key is asked for."""
    if key not in memo:
        memo[key] = make()
    return memo[key]


def measurement_bases(ops: list[Any]) -> int:
    """Qubit-wise commuting groups over all the observables' terms: one measurement setting each."""
    if not ops:
        return 1
    total = ops[0]
    for op in ops[1:]:
        total = total + op
    return max(1, len(total.simplify().group_commuting(qubit_wise=True)))


def job_work(job: JobPlan, memo: dict[tuple, Any] | None = None) -> list[estimates.Work]:
    """The runtime jobs a plan job will submit, each as configurations x shots."""
    memo = {} if memo is None else memo

    def bases(names: list[str]) -> int:
        ops = [op for name, op in job.observables if name in names]
        key = ("bases", job.circuit_name, id(job.circuit), tuple(names))
        return int(once(memo, key, lambda: measurement_bases(ops)))

    estimator = job.primitive != "sampler"
    shots = math.ceil(1 / (job.precision or DEFAULT_PRECISION) ** 2) if estimator else int(job.shots or DEFAULT_SHOTS)
    if job.points is not None:
        total = len(job.points)
        if total > job.chunk and not {"precision", "shots", "observable"} & set(job.sweep_variables):
            # A long sweep of one setting: each chunk is one runtime job of its points' rows (an estimator's points
            # are rows x the listed observables), counted without making a million points twice.
            per_row = len(job.observables) if estimator else 1
            configurations = bases([name for name, _ in job.observables]) if estimator else 1
            return [
                estimates.Work(math.ceil(min(job.chunk, total - start) / per_row) * configurations, shots)
                for start in range(0, total, job.chunk)
            ]
        out = []
        for _, _, groups in sweep_chunks(job):
            for g in groups:
                n = math.ceil(1 / g.setting["precision"] ** 2) if estimator else g.setting["shots"]
                out.append(estimates.Work(len(g.rows) * (bases(g.observables) if estimator else 1), n))
        return out
    settings = bases([name for name, _ in job.observables]) if estimator else 1
    if job.primitive == "minimize":
        return [estimates.Work(settings, shots)] * job.max_evaluations
    sets = len(job.parameter_values) if job.parameter_values is not None else 1
    return [estimates.Work(sets * settings, shots)]


def chunk_groups(job: JobPlan, points: list[dict[str, Any]]) -> list[sweeps.Group]:
    """The broadcast groups of some consecutive points of a swept job: one per precision (or shots) setting."""
    setting = ("precision",) if job.primitive == "estimator" else ("shots",)
    return sweeps.group(points, job.parameter_names, {}, setting, {"precision": job.precision, "shots": job.shots})


def sweep_chunks(job: JobPlan) -> Iterator[tuple[int, list[dict[str, Any]], list[sweeps.Group]]]:
    """(offset, points, groups) for each chunk of a swept job, in order: one runtime job per group of each."""
    assert job.points is not None
    if len(job.points) <= job.chunk:
        yield 0, job.points[:], job.groups
        return
    for start, points in job.points.chunks(job.chunk):
        yield start, points, chunk_groups(job, points)


def circuit_shape(circuit: Any) -> tuple[int, int]:
    """(qubits its instructions touch, QuantumCircuit.depth()): barriers and delays use no qubit. A Python pass over
    every instruction (seconds for a 400,000-instruction circuit), so the transpile cache keeps it beside the
    circuit."""
    active = {q for inst in circuit.data if inst.operation.name not in ("barrier", "delay") for q in inst.qubits}
    return len(active), circuit.depth()


def job_stats(job: JobPlan, work: list[estimates.Work], memo: dict[tuple, Any] | None = None) -> dict[str, Any]:
    qubits, depth = once({} if memo is None else memo, ("shape", id(job.circuit)), partial(circuit_shape, job.circuit))
    return {
        "runtime_jobs": len(work),
        "qubits": qubits,
        "depth": depth,
        "shots": work[0].shots if work else 0,
        **({"simulated_qubits": job.simulated_qubits} if job.simulated_qubits is not None else {}),
    }


def sweep_points(job: dict[str, Any]) -> sweeps.Points | None:
    """A swept job's points, made on demand; an estimator's listed observables are measured at every point."""
    if "sweep" not in job:
        return None
    listed = job["primitive"] == "estimator" and "observable" not in job["sweep"]["values"]
    return sweeps.Points(job["sweep"], job["observables"] if listed else None)


def initial_point(spec: str | list[float], n: int, seed: int | None) -> np.ndarray:
    """zeros, random (uniform in [-pi, pi), seeded), or the given numbers."""
    if spec == "zeros":
        return np.zeros(n)
    if spec == "random":
        return np.random.default_rng(seed).uniform(-np.pi, np.pi, n)
    return np.asarray(spec, dtype=float)


def _variant(job: dict[str, Any]) -> str:
    if job["primitive"] == "sampler":
        return "measure_all" if job.get("measure_all") else "as_is"
    return "no_measure"


def _prepare(qc: Any, variant: str) -> Any:
    if variant == "measure_all":
        return qc.measure_all(inplace=False)
    if variant == "no_measure":
        # An estimator reads expectation values itself; final measurements would only be in its way.
        return qc.remove_final_measurements(inplace=False)
    return qc


def cached_transpile(
    qc: Any,
    backend: Any,
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
    from . import cache

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


def transpile(qc: Any, backend: Any, kind: str, level: int, seed: int | None) -> Any:
    """ISA form for `backend`. On aer, an IBM-style basis: the runtime's client-side primitives reject Aer's own."""
    from qiskit.transpiler import generate_preset_pass_manager

    if kind == "aer":
        pm = generate_preset_pass_manager(
            optimization_level=level, basis_gates=backends.IBM_BASIS, seed_transpiler=seed
        )
    else:
        pm = generate_preset_pass_manager(optimization_level=level, backend=backend, seed_transpiler=seed)
    return pm.run(qc)
