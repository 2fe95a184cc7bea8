"""Check a loaded spec: JSON Schema first, then meaning (references, widths, budget); every problem located."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any

from .. import backends
from ..backends.service import open_plan_refusal
from ..errors import BackendError, DerivedError, DurationError, SourceError, SpecError, SweepError
from ..model import durations
from ..model.defaults import DEFAULT_OPTIMIZER
from ..planning import estimates, modes, sweeps
from ..sources import circuits, exact
from ..sources.circuits import CircuitFacts, Terms
from . import JsonPath, Spec
from .schema import Finding, article, schema_findings


@dataclass
class Checked:
    """A spec that passed every check, with what the checks had to build anyway."""

    spec: Spec
    backend: backends.BackendInfo
    circuits: dict[str, Any] = field(default_factory=dict)  # built QuantumCircuits (empty on the quick path)
    observables: dict[str, Terms] = field(default_factory=dict)
    facts: dict[str, CircuitFacts] = field(default_factory=dict)


def validate(spec: Spec, build: bool = True) -> Checked:
    """Raise SpecError with every problem found, or return the checked spec.

    build=False is the quick path of `qrun validate`: circuit facts are read from their sources without qiskit where
    that is exact (see circuits.cheap_facts), so QASM is checked for shape, not parsed. The run path builds.
    """
    found = schema_findings(spec.data)
    if found:
        raise _located(spec, found + _despite_schema(spec, found))
    return _meaning(spec, spec.data, build)


def _despite_schema(spec: Spec, found: list[Finding]) -> list[Finding]:
    """The meaning problems of the parts the schema found nothing wrong with, so one pass reports both kinds.

    The parts with schema problems are left out, and so are the jobs that use a circuit or observable left out;
    the rest is checked as a valid spec would be, and its findings keep the original jobs' indices. Where the
    problems are at the top level (a missing or unknown key, a bad backend or max_time), nothing more is said."""
    data = spec.data
    bad_jobs = {p[1] for p, _, _ in found if len(p) > 1 and p[0] == "jobs" and isinstance(p[1], int)}
    dropped: dict[str, set[str]] = {"circuits": set(), "observables": set()}
    for path, _, _ in found:
        if len(path) > 1 and path[0] in dropped and isinstance(path[1], str):
            dropped[str(path[0])].add(path[1])
        elif not (len(path) > 1 and path[0] == "jobs"):
            return []
    kept = [
        (i, job)
        for i, job in enumerate(data["jobs"])
        if i not in bad_jobs
        and job["circuit"] not in dropped["circuits"]
        and not set(job.get("observables") or []) & dropped["observables"]
    ]
    if not kept:
        return []
    pruned = {
        **data,
        "jobs": [job for _, job in kept],
        **{key: {k: v for k, v in (data.get(key) or {}).items() if k not in gone} for key, gone in dropped.items()},
    }
    try:
        more, _ = _meaning_findings(spec, pruned, build=False)
    except Exception:  # a part the schema did not refuse can still be odd enough to trip a check: say no more
        return []
    index = [i for i, _ in kept]
    return [
        (
            (path[0], index[int(path[1])], *path[2:]) if path[:1] == ("jobs",) and len(path) > 1 else path,
            message,
            at_key,
        )
        for path, message, at_key in more
    ]


def _meaning(spec: Spec, data: dict[str, Any], build: bool) -> Checked:
    found, checked = _meaning_findings(spec, data, build)
    if found:
        raise _located(spec, found)
    return checked


def _meaning_findings(spec: Spec, data: dict[str, Any], build: bool) -> tuple[list[Finding], Checked]:
    """Every meaning problem of a schema-valid spec (references, widths, limits, the session), and what checking
    it built."""
    found: list[Finding] = []
    built: dict[str, Any] = {}
    facts: dict[str, CircuitFacts] = {}
    gate_limit = (data.get("limits") or {}).get("gates", circuits.DEFAULT_GATE_LIMIT)
    allowed = bool(data.get("allow_python"))
    for name, source in data["circuits"].items():
        if "python" in source:
            try:
                _python_allowed(source, spec, allowed)
                if build:  # only here is the user's code run: validate's quick path (and pre-commit) never runs it
                    built[name] = circuits.build(source, spec.base_dir)
                    facts[name] = circuits.facts(built[name])
            except SourceError as e:
                found.append((("circuits", name) + e.subpath, str(e), False))
            continue
        try:
            gates, where = circuits.gate_estimate(source, spec.base_dir)
        except SourceError as e:
            found.append((("circuits", name) + e.subpath, str(e), False))
            continue
        if gates > gate_limit:
            found.append(
                (
                    ("circuits", name) + where,
                    f"this circuit has about {gates:,} gates, more than the limit of "
                    f"{gate_limit:,} (limits.gates); raise it to allow more",
                    False,
                )
            )
            continue
        # The quick path reads random and library circuits' facts from their arguments; OpenQASM it checks as a run
        # would, through a cache keyed by the source's content.
        quick = not build and "random" in source  # its arguments are all the schema checks; nothing else to parse
        cheap = circuits.cheap_facts(source, spec.base_dir) if quick else None
        if cheap is not None:
            facts[name] = cheap
            continue
        try:
            if build:
                built[name] = circuits.build(source, spec.base_dir)
                facts[name] = circuits.facts(built[name])
            else:
                facts[name] = circuits.cached_facts(source, spec.base_dir)
        except SourceError as e:
            found.append((("circuits", name) + e.subpath, str(e), False))
    terms: dict[str, Terms] = {}
    for name, value in (data.get("observables") or {}).items():
        try:
            if isinstance(value, dict) and "python" in value:
                _python_allowed(value, spec, allowed)
                if build:
                    from ..sources import pysource

                    terms[name] = pysource.observable(value, spec.base_dir)
                continue
            terms[name] = circuits.parse_observable(value)
        except SourceError as e:
            found.append((("observables", name) + e.subpath, str(e), False))
    try:
        info = backends.info(data["backend"])
    except BackendError as e:
        found.append((("backend",), str(e), False))
        info = backends.BackendInfo(data["backend"], "service", None)
    found += semantic_findings(
        data, facts, {n: circuits.observable_width(t) for n, t in terms.items()}, info.num_qubits
    )
    return found, Checked(spec, info, built, terms, facts)


def _python_allowed(source: dict[str, Any], spec: Spec, allowed: bool) -> None:
    """A Python source's reference names a file inside the spec's repository or an installed module (found without
    running it), and the spec allows Python; SourceError otherwise."""
    from ..sources import pysource

    if not allowed:
        raise SourceError(pysource.OFF, pysource.WHERE)
    pysource.source_file(pysource.parse(source["python"], spec.base_dir), spec.base_dir)


def _located(spec: Spec, found: list[Finding]) -> SpecError:
    return SpecError([spec.problem(path, message, at_key) for path, message, at_key in found])


# ---------------------------------------------------------------- schema


# ---------------------------------------------------------------- meaning


def semantic_findings(
    data: dict[str, Any],
    facts: dict[str, CircuitFacts],
    observable_widths: dict[str, int],
    backend_qubits: int | None,
) -> list[Finding]:
    """Cross-field checks on a structurally valid spec; plain data in, findings out."""
    out: list[Finding] = []
    seen: dict[str, int] = {}
    for i, job in enumerate(data["jobs"]):
        here = ("jobs", i)
        if job["name"] in seen:
            out.append(
                (here + ("name",), f"duplicate job name '{job['name']}' (also jobs[{seen[job['name']]}])", False)
            )
        seen.setdefault(job["name"], i)
        out += _job_findings(here, job, data, facts, observable_widths, backend_qubits)
    out += _session_findings(data)
    out += _shot_findings(data)
    out += _derived_findings(data)
    return out


DEFAULT_SHOT_LIMIT = 1_000_000
MAX_SHOTS = 10**9  # the schema's bound on any shots value
MIN_PRECISION = 1e-6  # the schema's bound on any precision: 10^12 shots


def _shot_findings(data: dict[str, Any]) -> list[Finding]:
    """On a device (or a fake device rehearsing one), no job may ask for more shots per configuration than
    limits.shots: precision p costs 1/p^2 shots, so a typo like 1e-4 would buy 10^8 shots per evaluation."""
    if backends.kind_of(data["backend"]) == "aer":
        return []  # emulated shot noise on a simulator costs nothing
    limit = (data.get("limits") or {}).get("shots", DEFAULT_SHOT_LIMIT)
    defaults = data.get("options") or {}
    out: list[Finding] = []
    for i, job in enumerate(data["jobs"]):
        own = job.get("options") or {}
        swept = (job.get("sweep") or {}).get("values") or {}
        if job["primitive"] == "sampler" or "shots" in job:  # an estimator's shots are checked as shots
            where: JsonPath | None = None
            value: Any = None
            w: JsonPath
            for w, v in (
                (("jobs", i, "shots"), job.get("shots")),
                (("jobs", i, "options", "default_shots"), own.get("default_shots")),
                (("options", "default_shots"), defaults.get("default_shots")),
            ):
                if v is not None:
                    where, value = w, v
                    break
            candidates: list[tuple[JsonPath, Any]] = [(where, value)] if where is not None else []
            candidates += [
                (("jobs", i, "sweep", "values", "shots", k), v) for k, v in enumerate(swept.get("shots") or [])
            ]
            for w, v in candidates:
                if _is_number(v) and v > limit:
                    out.append(
                        (
                            w,
                            f"{v:,} shots is more than the limit of {limit:,} per job (limits.shots); "
                            "lower it, or raise limits.shots to allow it",
                            False,
                        )
                    )
            continue
        candidates = []
        w2: JsonPath
        for w2, v in (
            (("jobs", i, "precision"), job.get("precision")),
            (("jobs", i, "options", "default_precision"), own.get("default_precision")),
            (("options", "default_precision"), defaults.get("default_precision")),
        ):
            if v is not None:
                candidates.append((w2, v))
                break
        candidates += [
            (("jobs", i, "sweep", "values", "precision", k), v) for k, v in enumerate(swept.get("precision") or [])
        ]
        per = "evaluation" if job["primitive"] == "minimize" else "configuration"
        for w, v in candidates:
            if isinstance(v, (int, float)) and _is_number(v) and v > 0 and 1 / v**2 > limit:
                shots = math.ceil(1 / v**2)
                out.append(
                    (
                        w,
                        f"precision {v} means {shots:,} shots per {per}, more than the limit of {limit:,} "
                        "(limits.shots); raise the precision value, or raise limits.shots to allow it",
                        False,
                    )
                )
    return out


def _derived_findings(data: dict[str, Any]) -> list[Finding]:
    """Each `derived:` expression reads, and every result it names is a job (and observable) of the spec."""
    from ..store import derived

    jobs = {j["name"]: j for j in data["jobs"]}
    out: list[Finding] = []
    for name, text in (data.get("derived") or {}).items():
        where = ("derived", name)
        try:
            refs = derived.references(text)
        except DerivedError as e:
            out.append((where, str(e), False))
            continue
        for ref in refs:
            job = jobs.get(ref[0])
            if job is None:
                out.append((where, _unknown_ref("job", ref[0], jobs), False))
            elif job["primitive"] != "sampler" and len(ref) > 1 and ref[1] not in (job.get("observables") or []):
                out.append((where, f"job '{ref[0]}' measures no observable '{ref[1]}'", False))
            elif job["primitive"] == "sampler" and len(ref) != 3:
                out.append(
                    (where, f"a sampler's result is an outcome's probability: {ref[0]}.REGISTER[\"0101\"]", False)
                )
            elif job["primitive"] == "estimator" and len(ref) == 1:
                out.append((where, f"job '{ref[0]}' is an estimator: name its observable ({ref[0]}.OBSERVABLE)", False))
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _job_findings(
    here: Any, job: Any, data: Any, facts: Any, observable_widths: Any, backend_qubits: Any
) -> list[Finding]:
    out: list[Finding] = []
    if job["primitive"] == "estimator" and "shots" in job and "precision" in job:
        out.append(
            (
                here + ("shots",),
                f"give shots or precision, not both: shots {job['shots']} means precision 1/sqrt({job['shots']}) "
                f"= {job['shots'] ** -0.5:.3g}",
                True,
            )
        )
    cname = job["circuit"]
    if cname not in data["circuits"]:
        out.append((here + ("circuit",), _unknown_ref("circuit", cname, data["circuits"]), False))
        return out
    fact = facts.get(cname)
    if fact is None:  # the circuit failed to build; that is reported where it is defined
        return out
    for k, oname in enumerate(job.get("observables") or []):
        out += _observable_findings(here + ("observables", k), oname, cname, fact, data, observable_widths)
    swept = (job.get("sweep") or {}).get("values", {})
    if job["primitive"] == "estimator" and not job.get("observables") and "observable" not in swept:
        out.append((here, "missing required key 'observables' (or a sweep over observable)", False))
    if job["primitive"] == "estimator" and job.get("observables") and "observable" in swept:
        out.append(
            (here + ("sweep", "values", "observable"), "sweeps observable and also lists observables; keep one", True)
        )
    if "sweep" in job:
        out += _sweep_findings(here, job, cname, fact, data, observable_widths)
    if job["primitive"] == "minimize":
        out += _minimize_findings(here, job, cname, fact)
    else:
        out += _parameter_findings(here, job, cname, fact, data, facts)
    if job.get("exact") == "statevector" and fact.num_qubits > exact.MAX_QUBITS:
        out.append(
            (
                here + ("exact",),
                f"exact: statevector simulates at most {exact.MAX_QUBITS} qubits; circuit "
                f"'{cname}' has {fact.num_qubits}; give the exact value as a number",
                False,
            )
        )
    if fact.num_qubits == 0:
        out.append((here + ("circuit",), f"circuit '{cname}' has no qubits; there is nothing to run", False))
        return out
    if backend_qubits is not None and fact.num_qubits > backend_qubits:
        out.append(
            (
                here + ("circuit",),
                f"circuit '{cname}' needs {fact.num_qubits} qubits but backend {data['backend']} has {backend_qubits}",
                False,
            )
        )
    elif backends.kind_of(data["backend"]) == "fake" and fact.num_qubits > backends.aer_width():
        # A fake device is rehearsed by Aer on this machine: the device's size is not the limit, memory is.
        out.append(
            (
                here + ("circuit",),
                f"circuit '{cname}' has {fact.num_qubits} qubits; {data['backend']} is simulated on this machine, "
                f"which holds at most {backends.aer_width()} (a statevector of n qubits takes 16 x 2^n bytes); "
                "use fewer qubits, or run on the IBM service",
                False,
            )
        )
    if job["primitive"] == "sampler" and not fact.has_measurements and not job.get("measure_all"):
        out.append(
            (
                here + ("circuit",),
                f"circuit '{cname}' has no measurements for the sampler to read; add measure_all: true to the job",
                False,
            )
        )
    return out


def _observable_findings(
    where: Any, oname: Any, cname: Any, fact: Any, data: Any, observable_widths: Any
) -> list[Finding]:
    if oname not in (data.get("observables") or {}):
        return [(where, _unknown_ref("observable", oname, data.get("observables") or {}), False)]
    if oname in observable_widths and observable_widths[oname] != fact.num_qubits:
        return [
            (
                where,
                f"observable '{oname}' acts on {observable_widths[oname]} qubits but circuit "
                f"'{cname}' has {fact.num_qubits}",
                False,
            )
        ]
    return []


def _sweep_findings(here: Any, job: Any, cname: Any, fact: Any, data: Any, observable_widths: Any) -> list[Finding]:
    """Each swept name is a circuit parameter or a setting of this job kind; every parameter is swept or fixed."""
    at = here + ("sweep",)
    special = sweeps.SPECIAL[job["primitive"]]
    out: list[Finding] = []
    values = job["sweep"]["values"]
    limit = (data.get("limits") or {}).get("sweep_points")
    for name, spec in values.items():
        if name not in special and name not in fact.parameter_names:
            params = ", ".join(fact.parameter_names) or "none"
            out.append(
                (
                    at + ("values", name),
                    f"unknown sweep variable '{name}': circuit '{cname}' has parameters "
                    f"{params}, and {article(job['primitive'])} {job['primitive']} job can also sweep {' or '.join(special)}",
                    True,
                )
            )
            continue
        try:
            if limit is not None and sweeps.count(spec) > limit:
                continue  # check_size() below reports the whole sweep's size once
            listed = sweeps.ends(spec, name)
        except SweepError as e:
            out.append((at + e.subpath, str(e), False))
            continue
        for k, v in enumerate(listed):
            where = at + ("values", name, k) if isinstance(spec, list) else at + ("values", name)
            if name == "observable":
                out += _observable_findings(where, str(v), cname, fact, data, observable_widths)
            elif name == "shots" and not (isinstance(v, int) and v >= 1):
                out.append((where, f"shots must be whole numbers of at least 1, not {v!r}", False))
            elif name == "shots" and v > MAX_SHOTS:
                out.append((where, f"{v:,} shots is more than {MAX_SHOTS:,}, the most any job may take", False))
            elif name == "precision" and not (isinstance(v, (int, float)) and MIN_PRECISION <= v <= 10):
                out.append((where, f"precision values must be numbers from {MIN_PRECISION:g} to 10, not {v!r}", False))
            elif name not in ("observable", "shots", "precision") and isinstance(v, str):
                out.append((where, f"{name} values must be numbers, not {v!r}", False))
    if not out:
        try:
            observables = len(job.get("observables") or []) if "observable" not in values else 1
            shots = job.get("shots", (data.get("options") or {}).get("default_shots", 0))
            sweeps.check_size(job["sweep"], job["primitive"], observables, shots, limit)
        except SweepError as e:
            out.append((at + e.subpath, str(e), False))
    unswept = [p for p in fact.parameter_names if p not in values]
    fixed = job.get("parameter_values")
    if unswept and fixed is None:
        out.append(
            (
                here,
                f"circuit '{cname}' parameters {', '.join(unswept)} are not swept; fix them with "
                f"parameter_values: one row of {fact.num_parameters} numbers",
                False,
            )
        )
    elif isinstance(fixed, list) and len(fixed) != 1:
        out.append(
            (
                here + ("parameter_values",),
                "with a sweep, parameter_values is one row of fixed values (swept parameters override their columns)",
                False,
            )
        )
    return out


def _parameter_findings(here: Any, job: Any, cname: Any, fact: Any, data: Any, facts: Any) -> list[Finding]:
    values = job.get("parameter_values")
    n = fact.num_parameters
    if "sweep" in job and not isinstance(values, dict):
        return (
            []
            if values is None
            else [
                (
                    here + ("parameter_values", r),
                    f"row has {len(row)} values but circuit '{cname}' has {n} parameters",
                    False,
                )
                for r, row in enumerate(values)
                if len(row) != n
            ]
        )
    if values is None:
        if n:
            return [
                (
                    here,
                    f"circuit '{cname}' has {n} parameters; give parameter_values, one row of {n} numbers per set",
                    False,
                )
            ]
        return []
    if isinstance(values, dict):
        return _from_findings(here + ("parameter_values", "from"), values["from"], here[1], cname, fact, data, facts)
    if n == 0:
        return [(here + ("parameter_values",), f"circuit '{cname}' has no parameters; remove parameter_values", False)]
    return [
        (here + ("parameter_values", r), f"row has {len(row)} values but circuit '{cname}' has {n} parameters", False)
        for r, row in enumerate(values)
        if len(row) != n
    ]


def _from_findings(where: Any, source: Any, index: Any, cname: Any, fact: Any, data: Any, facts: Any) -> list[Finding]:
    """A `from:` must name an earlier minimize job that optimizes as many parameters as this circuit has."""
    names = [j["name"] for j in data["jobs"]]
    if source not in names:
        return [(where, _unknown_ref("job", source, dict.fromkeys(names[:index])), False)]
    at = names.index(source)
    if at >= index:
        return [(where, f"job '{source}' runs after this one; from: must name an earlier minimize job", False)]
    other = data["jobs"][at]
    if other["primitive"] != "minimize":
        return [
            (
                where,
                f"job '{source}' is {article(other['primitive'])} {other['primitive']} job; from: must name a minimize job",
                False,
            )
        ]
    theirs = facts.get(other["circuit"])
    if theirs is not None and theirs.num_parameters != fact.num_parameters:
        return [
            (
                where,
                f"job '{source}' optimizes {theirs.num_parameters} parameters but circuit '{cname}' "
                f"has {fact.num_parameters}",
                False,
            )
        ]
    return []


def _minimize_findings(here: Any, job: Any, cname: Any, fact: Any) -> list[Finding]:
    n = fact.num_parameters
    out: list[Finding] = []
    if n == 0:
        out.append((here + ("circuit",), f"circuit '{cname}' has no parameters for minimize to vary", False))
    start = job.get("initial_point")
    if isinstance(start, list) and n and len(start) != n:
        out.append(
            (here + ("initial_point",), f"has {len(start)} values but circuit '{cname}' has {n} parameters", False)
        )
    optimizer = job.get("optimizer") or {}
    method = optimizer.get("method", DEFAULT_OPTIMIZER)
    if method in estimates.GRADIENT_METHODS and not optimizer.get("jac"):
        out.append(
            (
                here + ("optimizer", "method"),
                f"{method} needs a gradient; set jac: 2-point (or 3-point) to "
                "estimate it by finite differences, or use a gradient-free method: COBYLA, COBYQA, Nelder-Mead, Powell",
                False,
            )
        )
    return out


def _unknown_ref(what: str, name: str, defined: dict) -> str:
    hint = difflib.get_close_matches(name, list(defined), n=1)
    if hint:
        return f"unknown {what} '{name}'; did you mean '{hint[0]}'?"
    return f"unknown {what} '{name}'; defined: {', '.join(defined) or 'none'}"


def _session_findings(data: dict[str, Any]) -> list[Finding]:
    """Rules of the session itself: its length limit, per-job time limits, and what batch mode cannot do."""
    out: list[Finding] = []
    if "max_time" not in data:
        if backends.kind_of(data["backend"]) != "aer":
            # a device session bills its time: the budget must be the user's, not a default
            return [
                (
                    (),
                    "missing required key 'max_time': a session on a device needs a budget (on aer it is optional)",
                    False,
                )
            ]
        data = {**data, "max_time": estimates.LOCAL_MAX_TIME}
    parsed = {}
    for key, default in (("max_time", None), ("max_time_limit", estimates.DEFAULT_MAX_TIME_LIMIT)):
        try:
            parsed[key] = durations.parse(data.get(key, default))
        except DurationError as e:  # the schema says so too; this keeps the rule whatever validated it
            out.append(((key,), str(e), False))
    if out:
        return out
    max_time, limit = parsed["max_time"], parsed["max_time_limit"]
    if max_time > limit and backends.kind_of(data["backend"]) != "aer":  # a local aer run is no service session
        out.append(
            (
                ("max_time",),
                f"{durations.format(max_time)} is longer than the service allows for one session "
                f"({durations.format(limit)}); lower max_time, or set max_time_limit if your plan "
                "allows longer sessions",
                False,
            )
        )
    places: list[tuple[JsonPath, Any]] = [(("options",), data.get("options") or {})]
    places += [(("jobs", i, "options"), job.get("options") or {}) for i, job in enumerate(data["jobs"])]
    for where, options in places:
        met = options.get("max_execution_time")
        if met is not None and met >= max_time:
            # qiskit-ibm-runtime itself refuses a session whose max_time does not exceed a job's max_execution_time
            what = "as long as" if met == max_time else "longer than"
            out.append(
                (
                    where + ("max_execution_time",),
                    f"{met} s is {what} max_time ({durations.format(max_time)}); a job must end before its session "
                    "does, so max_time must be longer",
                    False,
                )
            )
    if (data.get("service") or {}).get("plan") == "open" and backends.kind_of(data["backend"]) == "service":
        mode, _ = modes.resolve(data)
        if mode == "session":  # known offline: say so now, not when the service refuses the session
            where = ("mode",) if "mode" in data else ("service", "plan")
            out.append((where, open_plan_refusal(modes.needs_session(data)), False))
    if data.get("mode") == "batch":
        for i, job in enumerate(data["jobs"]):
            if isinstance(job.get("parameter_values"), dict):
                out.append(
                    (
                        ("jobs", i, "parameter_values", "from"),
                        "mode: batch does not keep job order, so a job cannot use another's result; use mode: session",
                        False,
                    )
                )
    for i, job in enumerate(data["jobs"]):
        if job.get("dependent") is True and (i == 0 or data.get("mode") == "batch"):
            why = (
                "the first job has no job before it to depend on"
                if i == 0
                else "mode: batch opens no session; use mode: auto or session"
            )
            out.append((("jobs", i, "dependent"), why, False))
    return out
