"""The experiment as its spec declares it: frozen dataclasses made once from the schema-valid spec (spec/build.py)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

from ..errors import SweepError
from .defaults import (
    DEFAULT_MARGIN,
    DEFAULT_MAX_TIME_LIMIT,
    DEFAULT_MAXITER,
    DEFAULT_OPTIMIZATION_LEVEL,
    DEFAULT_OPTIMIZER,
    DEFAULT_PRECISION,
    LOCAL_MAX_TIME,
    SPSA_DEFAULTS,
)

if TYPE_CHECKING:
    from .fit import Fit

# The spec's own text for its parts that qrun passes on whole, read by their own readers: a circuit's or an
# observable's source (sources/ reads each source kind's keys), a runtime option group, scipy's optimizer options.
# They come from JSON Schema-valid YAML, and these are the boundaries where qrun hands them on.
Given = Mapping[str, Any]
EMPTY: Given = MappingProxyType({})

# Option groups that a job's options merge into the spec's key by key, rather than replace.
NESTED_OPTIONS = ("dynamical_decoupling", "twirling")


@dataclass(frozen=True)
class Options:
    """Runtime options, the spec's with a job's own over them; each reads its default here when the spec has none.

    `given` is the merged mapping as the spec writes it: what the primitives are handed, records keep and content
    hashes encode."""

    given: Given = field(default_factory=lambda: EMPTY)

    def over(self, base: Options) -> Options:
        """These options (a job's own) over `base` (the spec's), the nested groups merged key by key."""
        if not self.given:
            return base
        merged = dict(base.given)
        for key, value in self.given.items():
            if key in NESTED_OPTIONS and isinstance(merged.get(key), Mapping):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return Options(merged)

    def payload(self) -> dict[str, object]:
        """A fresh dict of the options, for the primitives and the run's records."""
        return dict(self.given)

    @property
    def optimization_level(self) -> int:
        return int(self.given.get("optimization_level", DEFAULT_OPTIMIZATION_LEVEL))

    @property
    def seed(self) -> int | None:
        seed = self.given.get("seed")
        return None if seed is None else int(seed)

    @property
    def default_shots(self) -> int | None:
        shots = self.given.get("default_shots")
        return None if shots is None else int(shots)

    @property
    def default_precision(self) -> float:
        return float(self.given.get("default_precision", DEFAULT_PRECISION))


class OptimizerSettings(TypedDict):
    """A minimize job's optimizer as its plan and job file hold it (Optimizer.settings)."""

    method: str
    maxiter: int
    tol: NotRequired[float]
    jac: NotRequired[str]
    options: NotRequired[dict[str, object]]  # scipy's own, passed through as the spec gives them


@dataclass(frozen=True)
class Optimizer:
    """A minimize job's scipy.optimize.minimize settings."""

    method: str = DEFAULT_OPTIMIZER
    maxiter: int = DEFAULT_MAXITER
    tol: float | None = None
    jac: str | None = None
    options: Given = field(default_factory=lambda: EMPTY)

    def settings(self) -> OptimizerSettings:
        """As a minimize job's plan and records hold them: method and maxiter always, the rest where given."""
        out: OptimizerSettings = {"method": self.method, "maxiter": self.maxiter}
        if self.tol is not None:
            out["tol"] = self.tol
        if self.jac is not None:
            out["jac"] = self.jac
        if self.options:
            out["options"] = dict(self.options)
        return out

    def evaluations(self, num_parameters: int) -> int:
        """The most estimator evaluations the loop may make, which qrun also enforces: maxiter steps plus one final
        evaluation at the optimum; a finite-difference gradient costs num_parameters (2-point) or twice that
        (3-point) more per step. SPSA takes two a step, and two a calibration sample where `a` is not given."""
        if self.method == "SPSA":
            calibration = self.options.get("calibration", SPSA_DEFAULTS["calibration"])
            samples = 0 if "a" in self.options or not isinstance(calibration, int | float) else int(calibration)
            return 2 * (self.maxiter + samples) + 1
        per_step = 1 + {"2-point": 1, "3-point": 2}.get(str(self.jac), 0) * num_parameters
        return self.maxiter * per_step + 1


# A sweep variable's values as the spec gives them: a list, {range: [start, stop, step]} or {linspace: [a, b, n]}.
SweepValues = list[float | str] | Mapping[str, list[float]]  # a list holds numbers, or observable names


@dataclass(frozen=True)
class Sweep:
    """A job's sweep: each variable's values, crossed (grid) or in lockstep (zip)."""

    values: Mapping[str, SweepValues]
    mode: Literal["grid", "zip"] = "grid"

    @property
    def variables(self) -> list[str]:
        return list(self.values)

    @property
    def size(self) -> int:
        """How many points the sweep expands to (grid: the product; zip: the common length), without expanding it."""
        counts = [count(v) for v in self.values.values()]
        return max(counts, default=0) if self.mode == "zip" else math.prod(counts)


def count(values: SweepValues) -> int:
    """How many values a variable has, by arithmetic alone: a 10^7-point linspace is refused without building it."""
    if isinstance(values, list):
        return len(values)
    ((kind, args),) = values.items()
    if kind == "linspace":
        return max(int(args[2]), 0)
    start, stop, *rest = args
    step = rest[0] if rest else 1
    if step == 0:
        raise SweepError(f"range {args} has a step of 0", ("values",))
    if not all(math.isfinite(a) for a in (start, stop, step)):
        raise SweepError(f"range {args} must have finite numbers", ("values",))
    return max(0, math.ceil((stop - start) / step))


@dataclass(frozen=True)
class FromJob:
    """Parameter values bound to an earlier minimize job's optimum."""

    job: str


@dataclass(frozen=True)
class Job:
    """One job as declared. Fields a kind does not take stay at their empty default (the schema refuses them)."""

    index: int
    name: str
    primitive: str
    circuit: str
    options: Options  # the spec's options with the job's own over them
    observables: tuple[str, ...] = ()
    parameter_values: tuple[tuple[float, ...], ...] | FromJob | None = None
    shots: int | None = None
    precision: float | None = None
    estimate: int | None = None  # declared seconds: per evaluation (minimize), per point (a sweep)
    exact: float | Literal["statevector", "stabilizer"] | None = None
    dependent: bool = False
    trust_estimate: bool = False
    own_options: bool = False  # whether the job gave options of its own
    sweep: Sweep | None = None
    measure_all: bool = False  # sampler
    optimizer: Optimizer | None = None  # minimize
    initial_point: str | tuple[float, ...] = "zeros"  # minimize: zeros, random, or one number per parameter
    rungs: tuple[str, ...] = ()  # ladder
    target_error: float | None = None  # ladder
    raw: Given = field(default_factory=lambda: EMPTY, repr=False, compare=False)  # as written: content hashes encode it

    @classmethod
    def made(cls, values: dict[str, object]) -> Job:
        """A Job from a value for every field, without the frozen dataclass's __init__: that sets each of the 21
        fields through object.__setattr__, which was most of what building 10,000 jobs cost (benchmarks/RESULTS.md,
        "The typed model at 10,000 jobs"). The job is as frozen as any other: assigning to it raises."""
        job = object.__new__(cls)
        job.__dict__.update(values)
        return job

    @property
    def source(self) -> str | None:
        """The minimize job whose optimum this job binds, if any."""
        return self.parameter_values.job if isinstance(self.parameter_values, FromJob) else None

    @property
    def points(self) -> int:
        """How many sweep points the job expands to (1 unswept); the estimate of a swept job is per point."""
        return self.sweep.size if self.sweep is not None else 1

    def target_precision(self) -> float:
        """An estimator-like job's precision: its own, or 1/sqrt(shots) where it gives shots as IBM's tutorials do
        (the runtime's relation: precision p costs 1/p^2 shots), else the spec's default."""
        if self.shots is not None:
            return float(float(self.shots) ** -0.5)
        return self.precision if self.precision is not None else self.options.default_precision


@dataclass(frozen=True)
class Service:
    """How to reach IBM Quantum for a service backend (never the token)."""

    channel: str | None = None
    instance: str | None = None
    account: str | None = None
    plan: str | None = None
    dry_run: bool = True


@dataclass(frozen=True)
class Limits:
    """The spec's own raised or lowered limits; None keeps qrun's."""

    shots: int | None = None
    gates: int | None = None
    sweep_points: int | None = None


@dataclass(frozen=True)
class Experiment:
    """A schema-valid spec as typed data. `raw` is the resolved spec it was made from: content hashes encode it, so
    learned estimates keep matching, and the run folder keeps it."""

    name: str
    backend: str
    options: Options
    jobs: tuple[Job, ...]
    circuits: Mapping[str, Given]
    observables: Mapping[
        str, object
    ]  # a Pauli string, a list of terms or a source mapping: sources/observables reads it
    max_time: int | None = None  # seconds; None where the spec leaves it out (aer)
    max_time_limit: int = DEFAULT_MAX_TIME_LIMIT
    budget_margin: int | str = DEFAULT_MARGIN
    mode: str = "auto"
    allow_python: bool = False
    service: Service = Service()
    limits: Limits = Limits()
    derived: Mapping[str, str | Fit] = field(default_factory=lambda: EMPTY)
    raw: Given = field(default_factory=lambda: EMPTY, repr=False, compare=False)

    @property
    def session_seconds(self) -> int:
        """max_time in seconds; on aer, where it may be left out, LOCAL_MAX_TIME."""
        return LOCAL_MAX_TIME if self.max_time is None else self.max_time

    @property
    def used_circuits(self) -> frozenset[str]:
        """The circuits its jobs name: one no job names is never built, placed or run."""
        return frozenset(job.circuit for job in self.jobs)

    @property
    def python_sources(self) -> list[tuple[str, str, str]]:
        """(circuits or observables, name, reference) of every Python source."""
        return [
            (kind, name, value["python"])
            for kind, entries in (("circuits", self.circuits), ("observables", self.observables))
            for name, value in entries.items()
            if isinstance(value, Mapping) and "python" in value
        ]
