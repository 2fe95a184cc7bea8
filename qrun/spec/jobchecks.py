"""The checks of one job, and of the shots a spec asks for: references, widths, sweeps, parameters, optimizers."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TypeGuard

from .. import backends
from ..backends.kind import BackendKind
from ..errors import DurationError, SweepError
from ..jobs.kind import JobContext
from ..jobs.registry import kind_of
from ..model import durations, named
from ..model.experiment import count
from ..model.findings import Finding, JsonPath, article, unknown_ref
from ..model.raw import Raw, Yaml
from ..planning import sweeps
from ..sources import exact
from ..sources.facts import CircuitFacts
from .build import sweep_of

DEFAULT_SHOT_LIMIT = 1_000_000
MAX_SHOTS = 10**9  # the schema's bound on any shots value
MIN_PRECISION = 1e-6  # the schema's bound on any precision: 10^12 shots


def shot_findings(data: Raw) -> list[Finding]:
    """On a device (or a fake device rehearsing one), no job may ask for more shots per configuration than
    limits.shots: precision p costs 1/p^2 shots, so a typo like 1e-4 would buy 10^8 shots per evaluation."""
    if not backends.kind_for(data["backend"]).device:
        return []  # emulated shot noise on a simulator costs nothing
    limit = (data.get("limits") or {}).get("shots", DEFAULT_SHOT_LIMIT)
    defaults = data.get("options") or {}
    out: list[Finding] = []
    for i, job in enumerate(data["jobs"]):
        own = job.get("options") or {}
        swept = (job.get("sweep") or {}).get("values") or {}
        kind = kind_of(job["primitive"])
        if kind.runs == "sampler" or "shots" in job:  # an estimator's shots are checked as shots
            where: JsonPath | None = None
            value: object = None
            w: JsonPath
            for w, v in (
                (("jobs", i, "shots"), job.get("shots")),
                (("jobs", i, "options", "default_shots"), own.get("default_shots")),
                (("options", "default_shots"), defaults.get("default_shots")),
            ):
                if v is not None:
                    where, value = w, v
                    break
            candidates: list[tuple[JsonPath, object]] = [(where, value)] if where is not None else []
            candidates += [
                (("jobs", i, "sweep", "values", "shots", k), v) for k, v in enumerate(swept.get("shots") or [])
            ]
            for w, v in candidates:
                if is_number(v) and v > limit:
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
        per = "evaluation" if kind.optimizes else "configuration"
        for w, v in candidates:
            if isinstance(v, (int, float)) and is_number(v) and v > 0 and 1 / v**2 > limit:
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


def is_number(v: object) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def job_findings(
    here: JsonPath,
    job: Raw,
    data: Raw,
    facts: Mapping[str, CircuitFacts],
    observable_widths: Mapping[str, tuple[int, bool]],
    backend_qubits: int | None,
    backend: BackendKind,
    positions: Mapping[str, int],
    clifford_wider: bool = False,
) -> list[Finding]:
    """The rules every job obeys (the circuit and observables it names, its sweep, its parameter values, its width
    against the backend), then its kind's own (jobs/). `backend` is the kind of data's backend, and `positions` where
    each job name is first declared, both made once a spec (a `from:` looks its job up there)."""
    kind = kind_of(job["primitive"])
    cname = job["circuit"]
    fact = facts.get(cname)  # None where the circuit is unknown, or failed to build (reported where it is defined)
    options = {**(data.get("options") or {}), **(job.get("options") or {})}
    out = kind.findings(job, JobContext(here, cname, fact, data["backend"], backend.device, options))
    if cname not in data["circuits"]:
        out.append((here + ("circuit",), unknown_ref("circuit", cname, data["circuits"]), False))
        return out
    if fact is None:
        return out
    for k, oname in enumerate(job.get("observables") or []):
        out += _observable_findings(here + ("observables", k), oname, cname, fact, data, observable_widths)
    if "sweep" in job:
        out += _sweep_findings(here, job, cname, fact, data, observable_widths)
    if not kind.optimizes and "parameter_values" in kind.hints and fact.num_parameters:  # a kind that takes none
        message = f"circuit '{cname}' has {fact.num_parameters} parameters{kind.hints['parameter_values']}"
        out.append((here + ("circuit",), message, False))
    elif not kind.optimizes:  # a loop chooses its parameter values itself
        out += _parameter_findings(here, job, cname, fact, data, facts, positions)
    if job.get("exact") == "statevector" and fact.num_qubits > exact.MAX_QUBITS:
        # a circuit not known to be non-Clifford (a build says; a text's scan cannot) may take the tableau's value
        clifford = "" if fact.non_clifford or kind.optimizes else " (or exact: stabilizer, for a Clifford circuit)"
        message = f"exact: statevector simulates at most {exact.MAX_QUBITS} qubits; circuit '{cname}' has "
        out.append(
            (here + ("exact",), f"{message}{fact.num_qubits}; give the exact value as a number{clifford}", False)
        )
    elif job.get("exact") == "statevector" and fact.unfollowable:
        message = f"exact: statevector cannot follow circuit '{cname}': {fact.unfollowable}; give the exact value"
        out.append((here + ("exact",), message + " as a number", False))
    elif job.get("exact") == "stabilizer" and kind.optimizes:
        message = "exact: stabilizer gives <O> of a Clifford circuit, not a ground energy: use exact: statevector"
        out.append(
            (here + ("exact",), message + f" (up to {exact.MAX_QUBITS} qubits) or give the ground energy", False)
        )
    elif job.get("exact") == "stabilizer" and fact.num_parameters and "from" in (job.get("parameter_values") or ()):
        message = "exact: stabilizer checks each parameter set before the run, and a minimize job's optimum comes"
        out.append((here + ("exact",), message + " only during it: use exact: statevector or give the value", False))
    elif job.get("exact") == "stabilizer" and fact.non_clifford:
        out.append((here + ("exact",), non_clifford_message(cname, fact.non_clifford), False))
    if fact.num_qubits == 0:
        out.append((here + ("circuit",), f"circuit '{cname}' has no qubits; there is nothing to run", False))
        return out
    if backend_qubits is not None and fact.num_qubits > backend_qubits:
        # aer's width is its state vector's: a Clifford circuit goes to its stabilizer method, which takes any
        if not (clifford_wider and backends.stabilizer_runs(fact)):
            message = f"circuit '{cname}' needs {fact.num_qubits} qubits but backend {data['backend']} has "
            wide = " for a state vector (a Clifford circuit, run by its stabilizer method, may have any)"
            out.append((here + ("circuit",), f"{message}{backend_qubits}{wide * clifford_wider}", False))
    elif backend.rehearsed and fact.num_qubits > backends.aer_width():
        # A fake device is rehearsed by Aer on this machine: the device's size is not the limit, memory is. A
        # Clifford circuit runs noiseless at any width on aer, by its stabilizer method.
        clifford = ", or on aer without noise (backend: aer)" if backends.stabilizer_runs(fact) else ""
        out.append(
            (
                here + ("circuit",),
                f"circuit '{cname}' has {fact.num_qubits} qubits; {data['backend']} is simulated on this machine, "
                f"which holds at most {backends.aer_width()} (a statevector of n qubits takes 16 x 2^n bytes); "
                f"use fewer qubits, or run on the IBM service{clifford}",
                False,
            )
        )
    return out


def non_clifford_message(cname: str, why: str) -> str:
    """What `exact: stabilizer` on a circuit that is never Clifford says (validate's, and the quick path's for a
    random circuit, whose facts it reads from its arguments)."""
    return (
        f"exact: stabilizer needs a Clifford circuit; in circuit '{cname}', {why}; use exact: statevector (up to "
        f"{exact.MAX_QUBITS} qubits)"
    )


def _observable_findings(
    where: JsonPath,
    oname: str,
    cname: str,
    fact: CircuitFacts,
    data: Raw,
    observable_widths: Mapping[str, tuple[int, bool]],
) -> list[Finding]:
    if oname not in (data.get("observables") or {}):
        return [(where, unknown_ref("observable", oname, data.get("observables") or {}), False)]
    width, at_least = observable_widths.get(oname, (fact.num_qubits, False))
    if width > fact.num_qubits and at_least:
        message = f"observable '{oname}' acts on qubit {width - 1} but circuit '{cname}' has {fact.num_qubits} qubits"
        return [(where, message, False)]
    if width != fact.num_qubits and not at_least:
        message = f"observable '{oname}' acts on {width} qubits but circuit '{cname}' has {fact.num_qubits}"
        return [(where, message, False)]
    return []


def _sweep_findings(
    here: JsonPath,
    job: Raw,
    cname: str,
    fact: CircuitFacts,
    data: Raw,
    observable_widths: Mapping[str, tuple[int, bool]],
) -> list[Finding]:
    """Each swept name is a circuit parameter or a setting of this job kind; every parameter is swept or fixed."""
    at = here + ("sweep",)
    kind = kind_of(job["primitive"])
    special = kind.swept
    out: list[Finding] = []
    if not special:  # the schema lets no such kind declare a sweep; a plug-in's schema entry might
        return [(at, f"{article(kind.name)} {kind.name} job takes no sweep", False)]
    values = job["sweep"]["values"]
    limit = (data.get("limits") or {}).get("sweep_points")
    unread = [name for name, spec in values.items() if isinstance(spec, dict) and "file" in spec]
    for name, spec in values.items():
        if name in unread:  # a file qrun could not read: validate said why where it read it
            continue
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
            if limit is not None and count(spec) > limit:
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
    if not out and not unread:
        try:
            observables = len(job.get("observables") or []) if "observable" not in values else 1
            shots = job.get("shots", (data.get("options") or {}).get("default_shots", 0))
            sweeps.check_size(sweep_of(job["sweep"]), kind.runs, observables, shots, limit)
        except SweepError as e:
            out.append((at + e.subpath, str(e), False))
    return out + _fixed_findings(here, job.get("parameter_values"), cname, fact, list(values))


def _fixed_findings(here: JsonPath, fixed: Yaml, cname: str, fact: CircuitFacts, swept: list[str]) -> list[Finding]:
    """A sweep's fixed values for the parameters it does not sweep: by name, or one row of every parameter."""
    unswept = [p for p in fact.parameter_names if p not in swept]
    if unswept and fixed is None:
        # a name YAML's flow mapping would misread ("θ[1]") is quoted, as the sweep's own keys must be
        shown = [f'"{p}"' if re.search(r"[\[\]{},:#'\"]", p) else p for p in unswept]
        by_name = ", ".join(f"{p}: 0" for p in shown) if len(shown) <= 4 else f"{shown[0]}: 0, ..."
        message = (
            f"circuit '{cname}' parameters {', '.join(unswept)} are not swept; fix them with parameter_values: "
            f"{{{by_name}}} by name, or one row of {fact.num_parameters} numbers"
        )
        return [(here, message, False)]
    if named.is_named(fixed):
        return named.problems(fixed, fact.parameter_names, cname, swept, here + ("parameter_values",))
    if isinstance(fixed, list) and len(fixed) != 1:
        message = "with a sweep, parameter_values is one row of fixed values (swept parameters override their columns)"
        return [(here + ("parameter_values",), message, False)]
    return []


def _parameter_findings(
    here: JsonPath,
    job: Raw,
    cname: str,
    fact: CircuitFacts,
    data: Raw,
    facts: Mapping[str, CircuitFacts],
    positions: Mapping[str, int],
) -> list[Finding]:
    values = job.get("parameter_values")
    n = fact.num_parameters
    if named.is_named(values) and n:
        at = here + ("parameter_values",)
        return [] if "sweep" in job else named.problems(values, fact.parameter_names, cname, None, at)
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
    if isinstance(values, dict) and not named.is_named(values):
        if "from" not in values:  # a file qrun could not read: validate said why where it read it
            return []
        index = here[1]  # here is ("jobs", i)
        assert isinstance(index, int)
        return _from_findings(
            here + ("parameter_values", "from"), values["from"], index, cname, fact, data, facts, positions
        )
    if n == 0:
        return [(here + ("parameter_values",), f"circuit '{cname}' has no parameters; remove parameter_values", False)]
    return [
        (here + ("parameter_values", r), f"row has {len(row)} values but circuit '{cname}' has {n} parameters", False)
        for r, row in enumerate(values)
        if len(row) != n
    ]


def _from_findings(
    where: JsonPath,
    source: str,
    index: int,
    cname: str,
    fact: CircuitFacts,
    data: Raw,
    facts: Mapping[str, CircuitFacts],
    positions: Mapping[str, int],
) -> list[Finding]:
    """A `from:` must name an earlier minimize job that optimizes as many parameters as this circuit has."""
    at = positions.get(source)
    if at is None:
        earlier = dict.fromkeys(j["name"] for j in data["jobs"][:index])
        return [(where, unknown_ref("job", source, earlier), False)]
    if at >= index:
        return [(where, f"job '{source}' runs after this one; from: must name an earlier minimize job", False)]
    other = data["jobs"][at]
    if not kind_of(other["primitive"]).optimizes:
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


def estimate_findings(data: Raw) -> list[Finding]:
    """A declared estimate (or a margin given as a duration) that the schema's pattern admits but that is longer
    than any session or job."""
    places: list[tuple[JsonPath, Yaml]] = [
        (("jobs", i, "estimate"), j["estimate"]) for i, j in enumerate(data["jobs"]) if "estimate" in j
    ]
    margin = data.get("budget_margin")
    if isinstance(margin, str) and not margin.endswith("%") or isinstance(margin, int) and margin:
        places.append((("budget_margin",), margin))
    out: list[Finding] = []
    for where, value in places:
        try:
            durations.parse(value)
        except DurationError as e:
            out.append((where, str(e), False))
    return out
