"""The time model of a plan: per-job estimates in seconds (declared, computed or learned) and the budget verdict."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..backends.registry import traits
from ..jobs import registry as kinds
from ..model import durations
from ..model.budget import Budget
from ..model.defaults import DEFAULT_MARGIN, DEFAULT_MAX_TIME_LIMIT
from ..model.records import LearnedRate

if TYPE_CHECKING:
    from ..model.experiment import Experiment, Job, Options
    from ..model.plan import JobPlan

# The model's constants, documented in the README ("How qrun estimates").
JOB_OVERHEAD = 5.0  # s per runtime job: submission, client-side processing, result transfer
FALLBACK_LAYER = 1e-6  # s per layer of the ISA circuit when the backend has no timing data (aer)
FALLBACK_REP_DELAY = 250e-6  # s between shots when the backend does not say (IBM's default)
ZNE_NOISE_FACTORS = (1, 3, 5)  # the runtime's default gate-folding factors at resilience level 2
# The local model (aer): wall time on this kind of machine, not QPU time. Rough by design; a run's actual time
# replaces it as a learned estimate.
LOCAL_JOB_OVERHEAD = 0.01  # s per primitive call: building, submitting and reading back a PUB in process
LOCAL_AMPLITUDE_LAYER = 2e-9  # s per statevector amplitude per layer of the circuit
LOCAL_SHOT = 2e-7  # s per sampled shot
# s per parameter set: Aer runs each as an experiment of its own, set up and read back one by one, which costs far more
# than a small statevector (10,000 rows of a 2-qubit circuit: about 0.86 s on 2 cores, RESULTS.md "Aer told the method
# it would pick")
LOCAL_CONFIGURATION = 8e-5
# An estimator's Pauli term costs Aer a pass over the state per parameter set, about two layers' worth (RESULTS.md,
# "An estimator's terms on aer"): a 30-qubit product state's 59-term energy at 50 points was estimated at minutes
# (its depth is 1) and takes hours
TERM_LAYERS = 2.0
# A fake device's noisy simulation: each layer's gates and as many noise channels after them (RESULTS.md, "A fake
# device's simulation time")
NOISY_LAYER = 2.0
# ... and what mitigation adds to the layers it simulates (the same section: a 12-qubit ladder's rungs on
# fake_sherbrooke): dynamical decoupling's pulses in every idle stretch, and each twirled gate's dressing
DD_LAYERS = 2.0
TWIRLED_LAYERS = 2.5


class Learned(Protocol):
    """Where learned estimates come from (reader.History): per (job name, content hash), an earlier run's
    seconds per unit of work, or None."""

    def get(self, key: tuple[str, str]) -> LearnedRate | None: ...


@dataclass(frozen=True)
class Timing:
    """What a backend says about time: the ISA circuit's scheduled duration and the delay between shots."""

    circuit_seconds: float | None  # None: the backend has no instruction durations
    depth: int
    rep_delay: float | None

    @property
    def circuit(self) -> float:
        return self.circuit_seconds if self.circuit_seconds is not None else self.depth * FALLBACK_LAYER

    @property
    def rep(self) -> float:
        return self.rep_delay if self.rep_delay is not None else FALLBACK_REP_DELAY

    @property
    def fallback(self) -> bool:
        return self.circuit_seconds is None


@dataclass(frozen=True)
class Work:
    """One runtime job's quantum work: how many configurations (parameter sets x measurement bases) at what shots."""

    configurations: int
    shots: int


def twirled_shots(shots: int, twirling: dict[str, object] | None, enabled: bool) -> int:
    """Shots after twirling rounds them up to whole randomizations (the runtime's calculate_twirling_shots rule)."""
    if not enabled:
        return shots
    twirling = twirling or {}
    given_n, given_per = twirling.get("num_randomizations"), twirling.get("shots_per_randomization")
    # the schema admits a positive integer or "auto" for each
    n = given_n if isinstance(given_n, int) else None
    per = given_per if isinstance(given_per, int) else None
    if n is None:
        per = per if per is not None else max(64, math.ceil(shots / 32))
        n = math.ceil(shots / per)
    elif per is None:
        per = math.ceil(shots / n)
    return n * per


def computed(timing: Timing, work: list[Work], options: dict[str, object], estimator: bool) -> float:
    """Seconds for a job of len(work) runtime jobs on a backend with `timing`, under the job's `options`.

    T = Σ_jobs [ overhead + Σ_λ configurations x shots' x (λ x circuit + rep_delay) ] (+ TREX calibration)
    where λ runs over the ZNE noise factors (just 1 without ZNE) and shots' is shots rounded up by twirling.
    """
    circuit, rep = timing.circuit, timing.rep
    total = 0.0
    for executions, factors in _executions(work, options, estimator):
        total += JOB_OVERHEAD + sum(executions * (lam * circuit + rep) for lam in factors)
    return total


def _executions(work: list[Work], options: dict[str, object], estimator: bool) -> list[tuple[int, tuple[int, ...]]]:
    """Per runtime job, how many times the circuit runs (configurations x shots, twirling's rounding and TREX's
    calibration configuration included) and under which ZNE noise factors: what device time and a noisy
    simulation's time both scale with."""
    level, twirling, gates = _mitigation(options, estimator)
    measure = bool(twirling.get("enable_measure", level >= 1 if estimator else False))
    factors: tuple[int, ...] = ZNE_NOISE_FACTORS if level >= 2 else (1,)
    out: list[tuple[int, tuple[int, ...]]] = []
    for w in work:
        shots = twirled_shots(w.shots, twirling, gates or measure)
        configurations = w.configurations + (1 if level >= 1 else 0)  # TREX: one calibration configuration
        out.append((configurations * shots, factors))
    return out


def _mitigation(options: dict[str, object], estimator: bool) -> tuple[int, dict[str, object], bool]:
    """The resilience level that applies (an estimator's), the twirling options, and whether gates are twirled."""
    given = options.get("resilience_level", 1)
    level = given if estimator and isinstance(given, int) else 0
    twirling = options.get("twirling")
    twirling = twirling if isinstance(twirling, dict) else {}
    return level, twirling, bool(twirling.get("enable_gates", level >= 2))


def simulated(work: list[Work], options: dict[str, object], estimator: bool, qubits: int, depth: int) -> float:
    """This machine's seconds to simulate `work` on a fake device with its noise: Aer runs one trajectory per shot,
    a statevector of 2^qubits amplitudes through each layer and its noise (NOISY_LAYER), λ times as deep under
    ZNE's folding, deeper still with dynamical decoupling and twirled gates. Rough, as the local model is: it tells
    a minute from an hour."""
    decoupling = options.get("dynamical_decoupling")
    layers = DD_LAYERS if isinstance(decoupling, dict) and decoupling.get("enable") is True else 1.0
    layers *= TWIRLED_LAYERS if _mitigation(options, estimator)[2] else 1.0
    state = state_seconds(qubits, depth) * NOISY_LAYER * layers
    return sum(
        executions * lam * state for executions, factors in _executions(work, options, estimator) for lam in factors
    )


# Aer's stabilizer method, fitted to its times from 20 to 400 qubits (RESULTS.md, "Clifford circuits on aer"): s per
# gate of a pass through the tableau, and s per shot times measured^1.75 x qubits^0.75, each shot's measurements
# drawn from the tableau anew
TABLEAU_AER_GATE = 3.5e-5
TABLEAU_AER_SHOT = 3.5e-9

# s per gate per parameter set: qiskit builds a Clifford tableau gate by gate, a rotation through its definition
# (measured at 127 qubits: RESULTS.md, "Exact references of wide Clifford circuits")
TABLEAU_GATE = 1e-4


def tableau_seconds(points: int, gates: int) -> float:
    """qrun's own time to compute exact values at `points` parameter sets by stabilizer tableau."""
    return points * max(gates, 1) * TABLEAU_GATE


# s per amplitude per gate of qiskit's Statevector, which evolves the state gate by gate (RESULTS.md, "Exact values
# by statevector: what qiskit's Statevector costs")
REFERENCE_AMPLITUDE_GATE = 2.2e-8


def statevector_seconds(points: int, qubits: int, gates: int) -> float:
    """qrun's own time to compute exact values at `points` parameter sets by qiskit's Statevector."""
    return points * 2.0 ** min(qubits, 40) * max(gates, 1) * REFERENCE_AMPLITUDE_GATE


def local(
    work: list[Work], qubits: int, depth: int, estimator: bool, tableau: tuple[int, int] | None = None, terms: float = 0
) -> float:
    """Seconds of local wall time for `work` on aer: each parameter set is one of Aer's experiments; an estimator's
    precision is emulated, so costs nothing; a sampler's shots are drawn. The statevector costs 2^qubits amplitudes
    per layer, and an estimator's `terms` (its observables' Pauli terms, per configuration) TERM_LAYERS each; a
    Clifford circuit on Aer's stabilizer method (`tableau`: its gates and measured qubits) a pass through its tableau,
    and each shot a measurement of it."""
    if tableau is None:
        layers = depth + (TERM_LAYERS * terms if estimator else 0)
        each = LOCAL_CONFIGURATION + state_seconds(qubits, layers)
        per_shot = 0.0 if estimator else LOCAL_SHOT
    else:
        gates, measured = tableau
        each = LOCAL_CONFIGURATION + gates * TABLEAU_AER_GATE
        per_shot = 0.0 if estimator else LOCAL_SHOT + TABLEAU_AER_SHOT * measured**1.75 * qubits**0.75
    return sum(LOCAL_JOB_OVERHEAD + w.configurations * (each + w.shots * per_shot) for w in work)


def state_seconds(qubits: int, depth: float) -> float:
    """The local model's seconds to carry a noiseless statevector through a circuit once."""
    return 2.0 ** min(qubits, 40) * max(depth, 1) * LOCAL_AMPLITUDE_LAYER


FLOOR_FACTOR = 3  # a declared or learned estimate this many times below qrun's own figure is refused


def quantum_seconds(timing: Timing, work: list[Work], options: dict[str, object], estimator: bool) -> float:
    """The part of `computed` a device charges for: the quantum work, without qrun's per-job overhead."""
    return max(computed(timing, work, options, estimator) - JOB_OVERHEAD * len(work), 0.0)


def floor_message(job: JobPlan, floor: float) -> str:
    """The error for a declared estimate that undercuts qrun's computed figure by more than FLOOR_FACTOR (one kept
    from running on aer is what a switch to a device meets first: removing it is the usual fix)."""
    unit = " per evaluation" if job.max_evaluations > 1 else ""
    per_unit = job.estimate / max(job.units, 1)
    told = f"{job.estimate_source} estimate {durations.format(per_unit)}{unit if job.units > 1 else ''}"
    if job.units > 1:
        told += f" ({durations.format(job.estimate)} in all)"
    return (
        f"the {told} is less than a third of what qrun computes for this job, {durations.format(floor)} "
        f"({job.stats.get('shots', 0):,} shots per configuration on this backend's timing); raise the estimate or "
        "remove it (qrun then uses its own), lower the work, or set trust_estimate: true on the job to accept the risk"
    )


def choose(
    job: Job,
    num_parameters: int,
    source: str,
    learned: LearnedRate | None,
    fallback: Callable[[], float],
    fallback_name: str = "computed",
    units: int | None = None,
) -> tuple[float, str]:
    """(seconds, where they came from): learned beats declared beats the fallback, unless `source` says otherwise.

    source "learned" (the default), "declared" (ignore what was learned) or "fresh" (the fallback only). `units`,
    where the caller has them (a planned job's own), are the job's registry.units().
    """
    if source == "learned" and learned is not None:
        each = kinds.units(job, num_parameters) if units is None else units
        return learned["per_unit"] * each, f"learned ({learned['run']})"
    declared = kinds.declared(job, num_parameters)
    if source != "fresh" and declared is not None:
        return declared, "declared"
    return fallback(), fallback_name


def margin(setting: object, total: float) -> float:
    """The budget margin: a duration, "N%" of the summed estimates, or 0."""
    if setting in (0, "0", "0%"):
        return 0.0
    if isinstance(setting, str) and setting.endswith("%"):
        return total * float(setting[:-1]) / 100
    return float(durations.parse(setting))


def budget(
    max_time: int,
    per_job: list[tuple[str, float]],
    margin_setting: str | float = DEFAULT_MARGIN,
    limit: int = DEFAULT_MAX_TIME_LIMIT,
    rehearsal: str | None = None,
    local: bool = False,
) -> Budget:
    total = float(sum(s for _, s in per_job))
    return Budget(max_time, total, tuple(per_job), margin(margin_setting, total), limit, rehearsal, local)


def budget_for(experiment: Experiment, kind: str, per_job: list[tuple[str, float]]) -> Budget:
    """The spec's budget on a backend of `kind`: informative on aer, a rehearsal of the device on a fake one."""
    return budget(
        experiment.session_seconds,
        per_job,
        experiment.budget_margin,
        experiment.max_time_limit,
        rehearsal=experiment.backend if traits(kind).rehearsed else None,
        local=not traits(kind).device,
    )


_SORTED = json.JSONEncoder(sort_keys=True, default=str)


def _untagged(options: Options) -> dict[str, object]:
    """Options without job_tags: a tag says where a job is filed, not what it does (nor how long it takes)."""
    return {k: v for k, v in options.given.items() if k != "job_tags"}


def content_hash(experiment: Experiment, job: Job, memo: dict[Any, str] | None = None) -> str:
    """What a job does, without its name or estimate: learned estimates match a later run on this and the names.

    The hash is of json.dumps(content, sort_keys=True) where content is {backend, circuit, job, observables,
    options}, all as the spec writes them; the text is put together from its parts, and `memo` keeps the parts jobs
    share (the text before the job's own part, for each circuit; the text after it, for each set of observables; the
    spec's options), so 10,000 jobs on one circuit encode only their own part, and identical ones not even that."""
    memo = {} if memo is None else memo
    fields = {k: v for k, v in job.raw.items() if k not in ("name", "estimate")}
    # Jobs that differ only in name hash alike: the digest is kept by the repr of the job's own fields (plain YAML
    # values, whose repr tells them apart as their JSON does), so identical jobs are encoded and hashed once.
    mine = ("job", repr(fields))
    known = memo.get(mine)
    if known is not None:
        return known
    swept = job.sweep.values.get("observable", []) if job.sweep is not None else []
    names = tuple(sorted(set(job.observables).union(str(o) for o in swept)))
    head = memo.get(("head", job.circuit))
    if head is None:
        backend, circuit = _SORTED.encode(experiment.backend), _SORTED.encode(experiment.circuits.get(job.circuit))
        head = memo[("head", job.circuit)] = f'{{"backend": {backend}, "circuit": {circuit}, "job": '
    tail = memo.get(("tail", names))
    if tail is None:
        declared = experiment.observables
        observables = _SORTED.encode({n: declared.get(n) for n in names})
        tail = memo[("tail", names)] = f', "observables": {observables}, "options": '
    if job.own_options:
        options = _SORTED.encode(_untagged(job.options))
    else:
        options = memo.get("options") or memo.setdefault("options", _SORTED.encode(_untagged(experiment.options)))
    own = _SORTED.encode(fields)
    memo[mine] = hashlib.sha256(f"{head}{own}{tail}{options}}}".encode()).hexdigest()[:16]
    return memo[mine]


def lower_bound(job: Job, num_parameters: int = 0, on_aer: bool = False) -> float:
    """What a job costs at least without knowing its circuit's timing: the fixed overhead of each runtime job
    (on aer, of each local primitive call)."""
    return (LOCAL_JOB_OVERHEAD if on_aer else JOB_OVERHEAD) * kinds.kind_of(job.primitive).evaluations(
        job, num_parameters
    )
