"""What a job kind is: the small protocol every kind in jobs/ implements, and what a kind may ask of the runner."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..errors import SweepError
from ..model import named
from ..model.defaults import DEFAULT_RESILIENCE_LEVEL, MAX_LOOP_WRITTEN_OUT
from ..model.experiment import count
from ..model.findings import Finding, JsonPath
from ..model.jobfile import Headline, JobFile, Number

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

    from matplotlib.figure import Figure
    from qiskit.primitives import PrimitiveResult

    from ..backends.kind import OpenSession
    from ..model.experiment import Job
    from ..model.outcomes import JobResult, MinimizeOutcome
    from ..model.plan import JobPlan, Planned
    from ..model.readings import Reading

NO_MEASURE = "no_measure"  # the variant of an estimator-like job's circuit: final measurements removed
# a primitive's unit of work: (circuit, observables, parameter values, precision), or a sampler's
Pub = tuple[object, ...]
T = TypeVar("T")
Pair = tuple[str, tuple[Number, Number], tuple[Number, Number]]  # a value of run A and of run B: (name, (x, σ), (y, σ))


class RuntimeJob(Protocol):
    """A submitted runtime job: the service's, a local one, or one PUB of a batched one (running/submission.py)."""

    def job_id(self) -> str: ...
    def status(self) -> object: ...
    def result(self) -> PrimitiveResult: ...
    def cancel(self) -> None: ...


class Primitive(Protocol):
    """An estimator or sampler, as every engine makes one (qiskit's V2 primitive interface)."""

    options: Any  # each engine's own options model (the runtime's, Aer's, qiskit's): set, never read back

    def run(self, pubs: list[Pub], **options: object) -> RuntimeJob: ...


class Engines(Protocol):
    """Makes each submission's primitive for a job's engine (running/engines.py)."""

    def estimator(self, job: JobPlan, session: OpenSession, seed: int | None) -> Primitive: ...
    def sampler(self, job: JobPlan, session: OpenSession, seed: int | None) -> Primitive: ...


class Submitter(Protocol):
    """What the runner hands a job kind to run one job: one PUB as one runtime job (read back on a resume), the
    primitives for it, each submission's seed, and the minimize loop. A kind never imports the runner."""

    @property
    def engines(self) -> Engines: ...

    def submit(self, job: JobPlan, primitive: Callable[[], Primitive], pub: Pub, **options: object) -> PrimitiveResult:
        """Run `pub` as one runtime job of the primitive `primitive()` makes, with the primitive's run options
        (precision, shots), and return its result; a resume reads an earlier attempt's back instead."""
        ...

    def next_seed(self, job: JobPlan) -> int | None: ...
    def minimize(self, job: JobPlan, session: OpenSession) -> MinimizeOutcome: ...


class Planning(Protocol):
    """What planning tells a kind about where its job will run."""

    seed: int | None

    def engine(self, runs: str, options: dict[str, object]) -> str:
        """The engine that runs runtime jobs of the primitive `runs` (estimator or sampler) with these options on
        this backend."""
        ...


class Facts(Protocol):
    """What the checks know of a job's circuit without building it (sources/facts.CircuitFacts)."""

    @property
    def num_qubits(self) -> int: ...
    @property
    def num_parameters(self) -> int: ...
    @property
    def has_measurements(self) -> bool: ...
    @property
    def parameter_names(self) -> tuple[str, ...]: ...
    @property
    def control_flow(self) -> bool: ...
    @property
    def registers(self) -> tuple[tuple[str, int], ...] | None: ...
    @property
    def instructions(self) -> tuple[str, ...] | None: ...


@dataclass(frozen=True)
class JobContext:
    """What the spec's meaning checks tell a kind about one of its jobs: where it sits, its circuit, the backend."""

    here: JsonPath  # the job's place in the spec: ("jobs", i)
    circuit_name: str
    circuit: Facts | None  # None where the circuit it names is unknown or failed to build (reported elsewhere)
    backend: str
    noisy: bool  # the backend has noise to mitigate: a device of the service or a fake one
    options: Mapping[str, object] = dataclasses.field(default_factory=dict)  # the spec's options, the job's over them


class JobKind(Protocol):
    """A job kind: how one job of it runs, what its file holds, and how views read that file back. Sweeps of any
    kind are handled apart from the kinds (their points are rows of the same shape whatever the kind)."""

    name: str
    runs: str  # the runtime primitive its runtime jobs use: "estimator" or "sampler" (engines, estimates, dry runs)
    swept: tuple[str, ...]  # the settings a sweep of it may vary besides parameters; () where it takes no sweep
    # True where the kind chooses its circuit's parameter values itself, evaluation after evaluation (a minimize
    # loop): its jobs take no parameter_values, and a later job may start `from:` its optimum
    optimizes: bool

    @property
    def hints(self) -> Mapping[str, str]:
        """Why a key another kind takes does not apply to this one, by key: "; a sampler takes shots"."""
        ...

    def findings(self, job: Mapping[str, object], at: JobContext) -> list[Finding]:
        """This kind's own rules for a schema-valid job of it (the raw spec entry), beyond those every job obeys:
        the circuit and observables it names, its sweep, and its parameter values (spec/jobchecks.py)."""
        ...

    def reference_error(self, ref: tuple[str, ...], job: Mapping[str, object], circuit: Facts | None) -> str | None:
        """Why a `derived:` expression cannot read `ref` (job, then observable or register and outcome) from a
        job of this kind, whose circuit is `circuit` (None where not known), or None where it can."""
        ...

    def session_reason(self, job: Job) -> str | None:
        """Why a job of this kind needs a session while it runs (each of its runtime jobs waits for the one
        before, as a minimize loop's do), or None: it may go out in a batch."""
        ...

    def evaluations(self, job: Job, num_parameters: int) -> int:
        """How many times the job submits its work, one after another: a loop's most evaluations, else 1."""
        ...

    def planned(self, job: Job, num_parameters: int, planning: Planning) -> Planned:
        """The plan's fields this kind decides: its shots or precision, and any of its own (an optimizer, rungs)."""
        ...

    def variant(self, job: Job) -> str:
        """How the job's circuit is prepared before transpiling: NO_MEASURE (final measurements removed, as an
        estimator needs), "as_is", or "measure_all" (planning/transpile.py)."""
        ...

    def run(self, submitter: Submitter, job: JobPlan, session: OpenSession) -> JobResult:
        """Run the job; the result goes to payload()."""
        ...

    def payload(self, job: JobPlan, result: JobResult) -> JobFile:
        """The job file's body for a finished job (its header is added by the run folder's writer)."""
        ...

    def text(self, body: JobFile) -> str:
        """The stored result in one line, as `qrun show` prints it."""
        ...

    def readings(self, job: str, body: JobFile, stated: float | None, limit: int | None) -> list[Reading]:
        """The stored job's values (none for counts), each with its σ and exact value where known."""
        ...

    def headline(self, name: str, body: JobFile) -> dict[str, Headline]:
        """`qrun list`'s columns for this job: name -> {value, stderr, exact} or {outcome, probability}."""
        ...

    def paired(self, name: str, a: JobFile, b: JobFile) -> list[Pair]:
        """The values two runs' bodies of this job share, for `qrun diff`."""
        ...

    def rows(self, body: JobFile) -> list[list[object]]:
        """multirun.csv rows: [job, kind, observable, index, value, stderr, exact]."""
        ...

    def figure(self, plt: ModuleType, body: JobFile, exact: float | None) -> Figure | None:
        """`qrun plot`'s matplotlib figure of a finished job (`plt` is pyplot), or None where the kind draws none.
        `exact` is the spec's stated exact value, where it states one."""
        ...


def shots_or_precision(job: Mapping[str, object], at: JobContext) -> list[Finding]:
    """An estimator-like job gives its shots or its precision, not both."""
    if "shots" not in job or "precision" not in job:
        return []
    shots = job["shots"]
    if not isinstance(shots, int | float) or shots <= 0:
        return []  # the schema's own finding says what is wrong with it
    return [
        (
            at.here + ("shots",),
            f"give shots or precision, not both: shots {shots} means precision 1/sqrt({shots}) = {shots**-0.5:.3g}",
            True,
        )
    ]


def control_flow_findings(at: JobContext, runs: str, options: Mapping[str, object], rung: str = "") -> list[Finding]:
    """On a noisy backend, the runtime's client-side twirling (measurement mitigation's too) and its dynamical
    decoupling refuse a circuit with control flow, once the run has reached the job: name the option that asks."""
    if at.circuit is None or not at.circuit.control_flow or not at.noisy:
        return []
    asks = []
    level = options.get("resilience_level", DEFAULT_RESILIENCE_LEVEL)
    if runs == "estimator" and isinstance(level, int) and level >= 1:
        asks.append(f"resilience_level {level}, whose measurement mitigation twirls")
    for key in ("twirling.enable_gates", "twirling.enable_measure", "dynamical_decoupling.enable"):
        group, _, name = key.partition(".")
        given = options.get(group)
        if isinstance(given, Mapping) and given.get(name) is True:
            asks.append(f"{key}: true")
    if not asks:
        return []
    whose = f"its rung '{rung}' asks" if rung else "the job asks"
    fix = "run its raw rung alone (rungs: [raw])" if rung else "give the job options that leave them out"
    if not rung and runs == "estimator":
        fix += " (resilience_level: 0)"
    message = (
        f"circuit '{at.circuit_name}' has classical control flow, which the runtime's twirling and dynamical "
        f"decoupling cannot run, and {whose} for them ({'; '.join(asks)}): {fix}"
    )
    if "for_loop" in (at.circuit.instructions or ()):  # the docs say loops are written out: say why not this one
        message += (
            f" (its for loop stays one: qrun writes out an OpenQASM loop of plain gates up to "
            f"{MAX_LOOP_WRITTEN_OUT:,} instructions, not one holding an `if`, a longer one, or a Python circuit's)"
        )
    return [(at.here + ("circuit",), message, False)]


def observable_ref_error(ref: tuple[str, ...], job: Mapping[str, object]) -> str | None:
    """An estimator-like job's value is read by observable: it must be one the job measures, and an index one of
    its parameter sets or sweep points."""
    listed = job.get("observables")
    sweep = job.get("sweep")
    values = sweep.get("values") if isinstance(sweep, Mapping) else None
    swept = values.get("observable") if isinstance(values, Mapping) else None  # a sweep over observables measures them
    measured = [*(listed if isinstance(listed, list) else []), *(swept if isinstance(swept, list) else [])]
    if len(ref) > 1 and ref[1] not in measured:
        return f"job '{ref[0]}' measures no observable '{ref[1]}'"
    return index_error(ref, job, ref[1] if len(ref) > 1 else None)


def index_error(ref: tuple[str, ...], job: Mapping[str, object], observable: str | None = None) -> str | None:
    """Why a reference's index [i] (its last part, "#i") names none of the job's values, or None."""
    if len(ref) < 3 or not ref[-1].startswith("#"):
        return None
    index, (n, what) = int(ref[-1][1:]), values_of(job, observable)
    if n is None or index < n:
        return None
    last = ".".join(ref[:2]) + "".join(f'["{p}"]' for p in ref[2:-1]) + f"[{n - 1}]"
    return f"job '{ref[0]}' has {n} {what}{'s' if n != 1 else ''}, [0] to [{n - 1}]: the last is {last}"


def values_of(job: Mapping[str, object], observable: str | None = None) -> tuple[int | None, str]:
    """How many values a job gives of one observable (or outcome), and of what: its parameter sets, or its sweep's
    points (those of that observable, where the sweep names observables). None where the spec alone cannot say."""
    sweep = job.get("sweep")
    if not isinstance(sweep, Mapping):
        rows = job.get("parameter_values")
        sets = len(rows) if isinstance(rows, list) else named.sets(rows) if named.is_named(rows) else 1
        return sets, "parameter set"
    values = sweep.get("values")
    try:
        sizes = {str(k): count(v) for k, v in values.items()} if isinstance(values, Mapping) else {}
    except (SweepError, TypeError, ValueError, IndexError):
        return None, "sweep point"
    if not sizes:
        return None, "sweep point"
    total = min(sizes.values()) if sweep.get("mode") == "zip" else math.prod(sizes.values())
    observables = values.get("observable") if isinstance(values, Mapping) else None
    if isinstance(observables, list) and observables and observable is not None:
        share = observables.count(observable)
        total = share if sweep.get("mode") == "zip" else total // len(observables) * share
    return total, "sweep point"


def shown(x: object, spec: str = ".6g") -> str:
    """A stored number as views write it; "nan" for null (qrun writes a NaN as null, strict JSON's only way)."""
    return format(x, spec) if isinstance(x, int | float) and not isinstance(x, bool) else "nan"


def floats(values: Iterable[object]) -> list[float]:
    """Stored values as matplotlib draws them: null (a NaN, as qrun writes it) as NaN, which it leaves out."""
    return [float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan for v in values]


def nth(values: Sequence[T] | None, index: int) -> T | None:
    """values[index], or None where a stored list is shorter (a job file is untrusted input)."""
    return values[index] if values is not None and -len(values) <= index < len(values) else None


def against(value: object, stderr: object, exact: object) -> str:
    """ " (exact -1.857275, +0.4σ)": the reference and how many standard errors the value is from it."""
    if not isinstance(exact, int | float):
        return ""
    z = ""
    if isinstance(value, int | float) and isinstance(stderr, int | float) and stderr > 0:
        z = f", {(value - exact) / stderr:+.1f}σ"
    return f" (exact {exact:.6g}{z})"


def sigmas(values: Iterable[object]) -> list[float]:
    """Error bars matplotlib accepts: a missing, negative or non-finite standard error (a job whose noise model gave
    none, or a fit that fell back to no weights) draws no bar instead of failing the figure."""
    out = []
    for v in values:
        # past 1e100 no σ is physical, and a bar that long overflows matplotlib's transforms: drawn as unknown
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= 1e100
        out.append(float(v) if ok and isinstance(v, int | float) else math.nan)
    return out


def sigma_text(value: object) -> str:
    """A standard error as a figure's label shows it, or "σ unknown"."""
    (sigma,) = sigmas([value])
    return f"{sigma:.2g}" if math.isfinite(sigma) else "σ unknown"


def unit_suffix(body: JobFile, observable: str | None = None) -> str:
    """ " [Ha]": the one unit a stored job's values (or one observable's) are in, for an axis label; "" if none."""
    units = {v.get("unit") for k, v in (body.get("observables") or {}).items() if observable in (None, k)}
    units |= {u for k, u in (body.get("units") or {}).items() if observable in (None, k)}  # a sweep's
    units |= {body["unit"]} if body.get("unit") else set()
    units.discard(None)
    return f" [{units.pop()}]" if len(units) == 1 else ""
