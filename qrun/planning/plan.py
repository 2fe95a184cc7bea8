"""Turn a checked spec into a plan: ISA circuits transpiled once, mapped observables, resolved options, estimates."""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backends, collector
from ..backends.registry import traits
from ..jobs.registry import kind_of, units
from ..model.defaults import DEFAULT_RESILIENCE_LEVEL
from ..model.device import Deferred, DeviceFacts
from ..model.experiment import Given, Job
from ..model.plan import JobPlan, Plan, Planned
from ..sources import circuits, pysource
from ..sources import observables as pauli
from ..spec import layouts
from ..spec.build import written_alike
from ..spec.validate import Checked
from . import batches, devicefacts, estimates, modes, rehearsal, simtime, sweeps
from .estimates import Learned, content_hash
from .transpile import cached_transpile, prepared, refused, variant_of
from .work import chunk_groups, job_stats, job_work, local_seconds, once, sweep_points

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.providers import BackendV2


def build(
    checked: Checked,
    backend: BackendV2 | Deferred | None = None,
    source: str = "learned",
    history: Learned | None = None,
    use_cache: bool = True,
    sessions: bool = True,
) -> Plan:
    """Make the plan; `backend` overrides the local lookup (the run stage passes a service backend); `sessions`: False
    for an instance that opens none (the Open Plan: modes.blocks). source: "declared" uses the spec's estimates
    (computed where absent); "fresh" computes every one from the backend's timing; "learned" (the default) uses a
    matching earlier run's actual time where `history` has one."""
    experiment = checked.experiment
    seed = experiment.options.seed
    if backend is None:
        backend = backends.local_backend(experiment.backend, seed)
    planner = _Planner(checked, backend, seed, source, history, use_cache)
    planner.rebuild_for_device()
    with collector.paused():  # a JobPlan and its parts per job, all kept: the collector's passes would find nothing
        jobs = [planner.job(job) for job in experiment.jobs]
    cut, remote = modes.blocks(experiment.mode, jobs, sessions), traits(checked.backend.kind).remote
    batches.share_overhead(jobs, together := batches.of_plan(jobs, cut, checked.backend.kind))  # once per runtime job
    mode, why = modes.overall(experiment.mode, cut, experiment.jobs, sessions)
    return Plan(
        name=experiment.name,
        # least_busy names the device it picked; the record shows that one
        backend_name=getattr(backend, "name", experiment.backend) if remote else experiment.backend,
        backend_kind=checked.backend.kind,
        backend=backend,
        mode=mode,
        mode_reason=why,
        max_time=experiment.session_seconds,
        seed=seed,
        jobs=jobs,
        budget=estimates.budget_for(experiment, checked.backend.kind, [(j.name, j.estimate) for j in jobs]),
        problems=planner.problems,
        blocks=cut,
        sessions=sessions,
        batches=together,
    )


class _Planner:
    """One plan's making: each job's ISA circuit, mapped observables, options and estimate. Identical work is done
    once: thousands of jobs on one circuit share its transpilation, mapped observables, rehearsal qubits,
    measurement bases and stats (`memo`)."""

    def __init__(
        self,
        checked: Checked,
        backend: BackendV2 | Deferred,
        seed: int | None,
        source: str,
        history: Learned | None,
        use_cache: bool,
    ):
        self.checked, self.backend, self.seed = checked, backend, seed
        self.source, self.history, self.use_cache = source, history, use_cache
        self.experiment = checked.experiment
        self.kind = checked.backend.kind
        self.traits = traits(self.kind)
        self.transpiled: dict[tuple, QuantumCircuit] = {}
        self.timings: dict[tuple, estimates.Timing] = {}
        self.problems: list[tuple[tuple, str]] = []
        self.memo: dict[tuple, Any] = {}  # work shared by jobs with the same circuit (and observables)
        self.hashed: dict[Any, str] = {}  # the encoded parts of content hashes that jobs share
        self.parent = {m: n for n, members in checked.expansions.items() for m in members}
        # a planned job by content hash, for the next job that differs from it only in name and place
        self.planned: dict[str, _Twins] = {}
        # the job planned last, as written, with its content hash and twin (if it has one): a run of jobs written
        # alike but for their names is matched by comparing each with the one before it, not hashed job by job
        self.last: tuple[Given, str, _Twins | None] | None = None

    def engine(self, runs: str, options: dict[str, object]) -> str:
        """The engine for runtime jobs of the primitive `runs` with these options here (jobs' Planning protocol)."""
        return engine_for(self.kind, runs, options)

    def rebuild_for_device(self) -> None:
        """A Python circuit that asks for the device's coupling map is built again, now that the device is known."""
        if not self.traits.device:
            return  # a simulator has no coupling map to build a circuit for
        base = self.checked.spec.base_dir
        used = self.experiment.used_circuits  # a circuit no job uses is not built, as validate does
        for cname, entry in self.experiment.circuits.items():
            # the coupling map only for such a circuit: a deferred device would be built for it
            if cname in used and "python" in entry and pysource.takes_coupling_map(entry, base):
                coupling = getattr(self.backend, "coupling_map", None)
                if coupling is not None:
                    self.checked.circuits[cname] = circuits.build(entry, base, coupling)

    def isa(self, job: Job, level: int, variant: str) -> tuple[tuple, QuantumCircuit]:
        """The job's ISA circuit, transpiled once per (circuit, optimization level, variant), and its key."""
        key = (job.circuit, level, variant)
        built = self.checked.circuits
        if job.circuit not in built:  # the quick validation path read its facts without building it
            built[job.circuit] = circuits.build(self.experiment.circuits[job.circuit], self.checked.spec.base_dir)
        if key not in self.transpiled:
            with refused(self.checked.spec, job.circuit, self.experiment.backend, self.backend):
                self.transpiled[key] = cached_transpile(
                    prepared(built[job.circuit], variant),
                    self.backend,
                    self.kind,
                    level,
                    self.seed,
                    self.use_cache,
                    self.memo,
                    layouts.initial_layout(self.experiment.circuits[job.circuit]),
                )
        return key, self.transpiled[key]

    def job(self, job: Job) -> JobPlan:
        """The job's plan; a copy of an earlier job's where the two differ only in name and place, so thousands of
        identical jobs are planned once (benchmarks/RESULTS.md, "Identical jobs planned once")."""
        last, earlier = self.last, None
        if last is not None and last[2] is not None and written_alike(job.raw, last[0]):
            # written as the job before it but for the name: spec.build made every field of it alike from the same
            # text, so it does the same work (what _same_work would find) and takes that job's content hash (which
            # hashing its own text gives too, but where a number is written otherwise: 1.0 for 1)
            digest, earlier = last[1], last[2]
        else:
            digest = content_hash(self.experiment, job, self.hashed)
            earlier = self.planned.get(digest)
            if earlier is not None and not _same_work(earlier.job, job):
                earlier = None
        self.last = (job.raw, digest, earlier)
        if earlier is not None:
            twin = earlier.plan(job, kind_of(job.primitive).planned(job, earlier.num_parameters, self))
            learned = self.history.get((job.name, digest)) if self.history is not None else None
            if learned is not None:  # what this very job took before, where the source says to use it
                twin.estimate, twin.estimate_source = estimates.choose(
                    job,
                    earlier.num_parameters,
                    self.source,
                    learned,
                    lambda: twin.estimate,
                    twin.estimate_source,
                    twin.units,  # the same work as the job it copies: its units, not worked out again
                )
            return twin
        problems = len(self.problems)
        plan_job, unlearned = self.fresh(job, digest)
        if (
            plan_job.points is None
            and not plan_job.rungs
            and len(self.problems) == problems
            and digest not in self.planned
        ):
            self.planned[digest] = _Twins(plan_job, unlearned)
            self.last = (job.raw, digest, self.planned[digest])
        return plan_job

    def fresh(self, job: Job, digest: str) -> tuple[JobPlan, tuple[float, str]]:
        """The job planned in full, and the estimate it would have without learned history (what a twin starts from)."""
        options = job.options.payload()
        variant = variant_of(job)
        key, isa = self.isa(job, job.options.optimization_level, variant)
        points = sweep_points(job)
        used = self.checked.members(list(job.observables)) or (
            list(dict.fromkeys(points.columns[points.names.index("observable")]))
            if points is not None and "observable" in points.names
            else []
        )
        terms = self.checked.observables
        observables = tuple((o, once(self.memo, ("op", key, o), partial(pauli.laid_out, terms[o], isa))) for o in used)
        values = job.parameter_values
        n = isa.num_parameters
        by_state = job.exact in ("statevector", "stabilizer")  # a reference qrun computes, on the circuit as written
        reference = prepared(self.checked.circuits[job.circuit], variant) if by_state else None
        declared = self.experiment.observables
        simulated = None
        if self.traits.rehearsed:  # which qubits only; the runner cuts the circuit and the device down when it runs
            kept = self.memo.get(("device", id(isa)))  # the transpile cache's facts, where it has them
            simulated = once(
                self.memo,
                ("rehearsal", key, tuple(used)),
                lambda: tuple(rehearsal.qubits_for(isa, observables, self.backend, kept)),
            )
        plan_job = JobPlan(
            index=job.index,
            name=job.name,
            primitive=job.primitive,
            runs=kind_of(job.primitive).runs,
            circuit_name=job.circuit,
            circuit=isa,
            simulated_qubits=simulated,
            physical_qubits=once(self.memo, ("physical", key), lambda: _read_from(isa)) if self.traits.device else None,
            reference_circuit=reference,
            reference_observables={o: pauli.to_sparse_pauli_op(terms[o], reference.num_qubits) for o in used}
            if reference is not None
            else {},
            observable_units={o: u for o in used if (u := pauli.observable_unit(declared.get(self.parent.get(o, o))))},
            parameter_names=once(self.memo, ("names", key), lambda: tuple(p.name for p in isa.parameters)),
            parameter_values=np.asarray(values, dtype=float) if isinstance(values, tuple) else None,
            job=job,
            observables=observables,
            options=options,
            parameter_source=job.source,
            points=points,
            sweep_variables=tuple(job.sweep.variables) if job.sweep is not None else (),
            content_hash=digest,
            units=units(job, n),
            max_evaluations=kind_of(job.primitive).evaluations(job, n),
            **kind_of(job.primitive).planned(job, n, self),
        )
        plan_job.engine = engine_for(self.kind, plan_job.runs, options)
        if plan_job.rungs:  # a ladder: the engines its rungs use
            plan_job.engine = "+".join(sorted({r.engine for r in plan_job.rungs}))
        if points is not None:
            chunk = sweeps.SERVICE_CHUNK if self.traits.remote else sweeps.LOCAL_CHUNK
            # whole rows per chunk, so each chunk is a full grid: observables (n, 1) x rows (m, k), m bindings
            per_row = len(points.observables)
            plan_job.chunk = max(per_row, chunk // per_row * per_row)
            if len(points) <= plan_job.chunk:
                plan_job.groups = tuple(chunk_groups(plan_job, points[:]))
        return plan_job, self.estimate(plan_job, job, key, options)

    def estimate(self, plan_job: JobPlan, job: Job, key: tuple, options: dict[str, object]) -> tuple[float, str]:
        """The job's stats, its estimate and where it came from, and on a device the QPU seconds it will be charged;
        returns the estimate and source it would have without learned history."""
        work = job_work(plan_job, self.memo)
        plan_job.stats = job_stats(plan_job, work, self.memo)
        if plan_job.rungs:  # one runtime job per rung
            plan_job.stats["runtime_jobs"] *= len(plan_job.rungs)
        if key not in self.timings:  # the depth job_stats found, not a second pass over a large circuit
            # A local simulator's estimate needs no durations, and asking Aer for its target builds it anew
            self.timings[key] = (
                backend_timing(
                    plan_job.circuit,
                    self.backend,
                    plan_job.stats["depth"],
                    self.memo.get(("device", id(plan_job.circuit))),
                )
                if self.traits.device
                else estimates.Timing(None, plan_job.stats["depth"], getattr(self.backend, "default_rep_delay", None))
            )
        timing, n = self.timings[key], plan_job.circuit.num_parameters
        estimator = plan_job.runs == "estimator"
        if not self.traits.device:  # local wall time: nothing is billed, and precision costs no shots
            own = partial(local_seconds, plan_job, work, self.memo, self.checked.backend.clifford_wider)
        elif plan_job.rungs:  # a ladder: every rung is the same work under more mitigation
            plan_job.rungs = [
                dataclasses.replace(
                    r,
                    estimate=estimates.computed(timing, work, r.options, True),
                    qpu_seconds=estimates.quantum_seconds(timing, work, r.options, True),
                )
                for r in plan_job.rungs
            ]
            own = partial(sum, [r.estimate for r in plan_job.rungs])
        else:
            own = partial(estimates.computed, timing, work, options, estimator)
        learned = self.history.get((job.name, plan_job.content_hash)) if self.history is not None else None
        unlearned = estimates.choose(job, n, self.source, None, own)
        plan_job.estimate, plan_job.estimate_source = estimates.choose(
            job, n, self.source, learned, lambda: unlearned[0], unlearned[1]
        )
        if not self.traits.device:
            return unlearned
        if self.traits.rehearsed:
            plan_job.simulation_seconds = simtime.seconds(plan_job, work, options)
        # What a device will charge, and the floor no declared or learned figure may undercut unnoticed.
        floor = own()
        plan_job.qpu_seconds = (
            sum(r.qpu_seconds for r in plan_job.rungs)
            if plan_job.rungs
            else estimates.quantum_seconds(timing, work, options, estimator)
        )
        # Only a declared figure: a learned one is what this very job took before.
        if (
            plan_job.estimate_source == "declared"
            and plan_job.estimate * estimates.FLOOR_FACTOR < floor
            and not job.trust_estimate
        ):
            where = ("jobs", plan_job.index, "estimate") if job.estimate is not None else ("jobs", plan_job.index)
            self.problems.append((where, estimates.floor_message(plan_job, floor)))
        return unlearned


# A slots dataclass's __slots__ are its fields in order: _Twins keeps a plan as those values and makes one from them.
_FIELDS = JobPlan.__slots__
_INDEX, _NAME, _JOB, _ESTIMATE, _SOURCE = (
    _FIELDS.index(f) for f in ("index", "name", "job", "estimate", "estimate_source")
)
_OWN = tuple(_FIELDS.index(f) for f in ("stats", "optimizer"))  # TypedDicts: writable by type, so never shared


def _same_work(a: Job, b: Job) -> bool:
    """Whether two jobs are the same job but for name and place: every other declared field equal (raw is left out:
    the content hash the two were matched by already covers the text as written)."""
    return a.__dict__ == {**b.__dict__, "index": a.index, "name": a.name, "raw": a.raw}


class _Twins:
    """A planned job, kept as its fields' values, to plan the later jobs that do the same work as copies of it.

    The copies share its containers, which nothing may write into: JobPlan types them read-only (Sequence,
    Mapping), so mypy refuses a write through a plan, and here a list becomes a tuple and an array read-only. Its
    stats and optimizer settings are TypedDicts, writable by type: each copy gets its own. Containers of each copy's
    own were a large share of a large run's planning memory (benchmarks/RESULTS.md, "Fewer imports, a kept schema
    verdict")."""

    def __init__(self, plan_job: JobPlan, unlearned: tuple[float, str]):
        self.job, self.num_parameters = plan_job.job, plan_job.circuit.num_parameters
        self.values = [getattr(plan_job, name) for name in _FIELDS]
        # a twin's estimate is the declared or computed one; its own learned history, if any, replaces it (job())
        self.values[_ESTIMATE], self.values[_SOURCE] = unlearned
        for i, value in enumerate(self.values):
            if isinstance(value, list):
                self.values[i] = tuple(value)
            elif isinstance(value, np.ndarray):
                self.values[i] = shared = value.copy()  # the planned job's own stays writable
                shared.flags.writeable = False

    def plan(self, job: Job, planned: Planned) -> JobPlan:
        """The plan for `job`: the shared circuit, observables, containers and estimate, its own stats and optimizer
        settings, and the fields its kind plans, made for this job."""
        values = self.values.copy()
        for i in _OWN:
            values[i] = values[i].copy()
        values[_INDEX], values[_NAME], values[_JOB] = job.index, job.name, job
        plan_job = JobPlan(*values)
        for name, value in planned.items():
            setattr(plan_job, name, value)
        return plan_job


def _read_from(isa: QuantumCircuit) -> tuple[int, ...] | None:
    return tuple(isa.layout.final_index_layout(filter_ancillas=True)) if isa.layout is not None else None


def engine_for(kind: str, runs: str, options: dict[str, object]) -> str:
    """The fastest engine that gives the runtime's answer for this job (measured: benchmarks/engines_and_validate.py).

    aer: Aer's own primitives (noiseless: nothing to mitigate). A fake device with nothing mitigated, twirled or
    decoupled: qiskit's BackendEstimatorV2/BackendSamplerV2 over AerSimulator.from_backend, the simulator the
    runtime's local mode uses itself, without the client-side pipeline (counts are identical seed for seed; expectation
    values agree statistically, readout error included). Everything else: the runtime's client-side primitives.
    """
    backend = traits(kind)
    if not backend.device:
        return "aer-primitives"
    twirling, decoupling = options.get("twirling"), options.get("dynamical_decoupling")
    twirling = twirling if isinstance(twirling, dict) else {}
    plain = (
        backend.rehearsed
        and options.get("engine", "auto") == "auto"
        and not (decoupling.get("enable") if isinstance(decoupling, dict) else False)
        and not twirling.get("enable_gates")
        and not twirling.get("enable_measure")
        and (runs == "sampler" or options.get("resilience_level", DEFAULT_RESILIENCE_LEVEL) == 0)
    )
    return "backend-primitives" if plain else "runtime-client-primitives"


def backend_timing(
    isa: QuantumCircuit, backend: BackendV2 | Deferred, depth: int | None = None, facts: DeviceFacts | None = None
) -> estimates.Timing:
    """The ISA circuit's scheduled duration on the backend's target (as the transpile cache kept it, where `facts`
    are given), or None where it has no durations (aer)."""
    seconds = facts["seconds"] if facts is not None else devicefacts.seconds_on(isa, backend)
    layers = isa.depth() if depth is None else depth
    return estimates.Timing(seconds, layers, getattr(backend, "default_rep_delay", None))
