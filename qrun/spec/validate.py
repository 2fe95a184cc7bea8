"""Check a loaded spec: JSON Schema first, then meaning (references, widths, budget); every problem located."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .. import backends, collector
from ..backends.service import open_plan_refusal
from ..errors import BackendError, DurationError, SourceError, SpecError
from ..jobs.registry import kind_of
from ..model import durations
from ..model.defaults import DEFAULT_MAX_TIME_LIMIT, LOCAL_MAX_TIME
from ..model.experiment import Experiment
from ..model.raw import Raw, Yaml
from ..planning import modes
from ..sources import circuits, observables, pysource, valuefiles
from ..sources.facts import CircuitFacts, of_circuit
from ..sources.observables import Terms
from . import JsonPath, Spec, derivedrefs, layouts
from .build import experiment as typed
from .jobchecks import estimate_findings, job_findings, shot_findings
from .schema import Finding, schema_findings

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

# What the meaning checks build on the way (a Checked's fields after the spec and its experiment).
_Parts = tuple[
    backends.BackendInfo, dict[str, "QuantumCircuit"], dict[str, Terms], dict[str, CircuitFacts], dict[str, list[str]]
]


@dataclass
class Checked:
    """A spec that passed every check, with what the checks had to build anyway."""

    spec: Spec
    experiment: Experiment  # the spec as typed data: what planning and running read
    backend: backends.BackendInfo
    circuits: dict[str, QuantumCircuit] = field(default_factory=dict)  # built QuantumCircuits (empty on the quick path)
    observables: dict[str, Terms] = field(default_factory=dict)
    facts: dict[str, CircuitFacts] = field(default_factory=dict)
    # an observable whose Python returned a list: its name -> its members' names (each in `observables`)
    expansions: dict[str, list[str]] = field(default_factory=dict)

    def members(self, names: list[str]) -> list[str]:
        """Observable names as jobs list them, each list-valued one replaced by its members, in order."""
        return [m for n in names for m in self.expansions.get(n, [n])]


def validate(spec: Spec, build: bool = True) -> Checked:
    """Raise SpecError with every problem found, or return the checked spec.

    build=False is the quick path of `qrun validate`: circuit facts are read from their sources without qiskit where
    that is exact (see circuits.cheap_facts), so QASM is checked for shape, not parsed. The run path builds.
    """
    found = schema_findings(spec.data)
    if found:
        raise _located(spec, found + _despite_schema(spec, found))
    with collector.paused():  # the model and the facts: many objects kept, none freed
        return _meaning(spec, spec.data, build)


def _despite_schema(spec: Spec, found: list[Finding]) -> list[Finding]:
    """The meaning problems of the parts the schema found nothing wrong with, so one pass reports both kinds.

    The parts with schema problems are left out, and so are the jobs that use a circuit or observable left out;
    the rest is checked as a valid spec would be, and its findings keep the original jobs' indices. Where the
    problems are at the top level (a missing or unknown key, a bad backend or max_time), nothing more is said."""
    data, files = valuefiles.inlined(spec.data, spec.base_dir)
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
    names = {job["name"] for _, job in kept}
    gone_jobs = {str(j.get("name")) for j in data["jobs"] if isinstance(j, dict)} - names  # naming one is no error
    if not kept:
        return []
    pruned = {
        **data,
        "jobs": [job for _, job in kept],
        **{key: {k: v for k, v in (data.get(key) or {}).items() if k not in gone} for key, gone in dropped.items()},
        "derived": derivedrefs.reading_only(data, names),
    }
    try:
        more, _ = _meaning_findings(spec, pruned, build=False)
    except Exception:  # a part the schema did not refuse can still be odd enough to trip a check: say no more
        return []
    index = [i for i, _ in kept]
    return files.findings(
        [
            (
                (path[0], index[int(path[1])], *path[2:]) if path[:1] == ("jobs",) and len(path) > 1 else path,
                message,
                at_key,
            )
            for path, message, at_key in more
            if not (path[2:] == ("parameter_values", "from") and _source_of(kept[int(path[1])][1]) in gone_jobs)
        ]
    )


def _meaning(spec: Spec, data: dict[str, Yaml], build: bool) -> Checked:
    data, files = valuefiles.inlined(data, spec.base_dir)  # parameter values and observables' terms from files
    found, parts = _meaning_findings(spec, data, build)
    found = files.findings(found)
    if found:
        raise _located(spec, found)
    order = {name: fact.parameter_names for name, fact in parts[3].items()}  # values by name go in this order
    return Checked(spec if data is spec.data else replace(spec, read=data), typed(data, order), *parts)


def _meaning_findings(spec: Spec, data: dict[str, Yaml], build: bool) -> tuple[list[Finding], _Parts]:
    """Every meaning problem of a schema-valid spec (references, widths, limits, the session), and what checking
    it built."""
    found: list[Finding] = []
    built: dict[str, QuantumCircuit] = {}
    facts: dict[str, CircuitFacts] = {}
    gate_limit = (data.get("limits") or {}).get("gates", circuits.DEFAULT_GATE_LIMIT)
    allowed = bool(data.get("allow_python"))
    # which sources the jobs name is a pass over every job: only a deep check of a spec with Python asks
    used = pysource.in_use(data) if build and pysource.any_python(data) else {"circuits": set(), "observables": set()}
    for name, source in data["circuits"].items():
        if "python" in source:
            try:
                _python_allowed(source, spec, allowed)
                if build and name in used["circuits"]:  # only here is the user's code run, and only what jobs use
                    built[name] = circuits.build(source, spec.base_dir)
                    facts[name] = of_circuit(built[name])
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
                facts[name] = of_circuit(built[name])
            else:
                facts[name] = circuits.cached_facts(source, spec.base_dir)
        except SourceError as e:
            found.append((("circuits", name) + e.subpath, str(e), False))
    terms: dict[str, Terms] = {}
    expansions: dict[str, list[str]] = {}
    for name, value in (data.get("observables") or {}).items():
        try:
            if isinstance(value, dict) and "file" in value:  # a file qrun could not read: said where it was read
                continue
            if isinstance(value, dict) and "python" in value:
                _python_allowed(value, spec, allowed)
                if build and name in used["observables"]:
                    made = pysource.observable(value, spec.base_dir)
                    if made and isinstance(made[0], list):  # a list of observables: one name per member
                        expansions[name] = pysource.expanded_names(name, len(made))
                        terms.update(zip(expansions[name], made))
                        terms[name] = made[0]  # (for its width, as jobs name it)
                    else:
                        terms[name] = made  # type: ignore[assignment]
                continue
            terms[name] = observables.parse_observable(value)
        except SourceError as e:
            found.append((("observables", name) + e.subpath, str(e), False))
    try:
        info = backends.info(data["backend"])
    except BackendError as e:
        found.append((("backend",), str(e), False))
        info = backends.BackendInfo(data["backend"], "service", None)
    widths = {n: observables.observable_width(t) for n, t in terms.items()}
    found += semantic_findings(data, facts, widths, info.num_qubits, info.clifford_wider)
    found += _expansion_findings(data, expansions) + layouts.findings(data["circuits"], facts, info)
    return found, (info, built, terms, facts, expansions)


def _expansion_findings(data: dict[str, Yaml], expansions: dict[str, list[str]]) -> list[Finding]:
    """A list-valued observable's members must not clash with declared names, and a minimize job takes one."""
    found: list[Finding] = []
    declared = data.get("observables") or {}
    for name, members in expansions.items():
        clash = [m for m in members if m in declared]
        if clash:
            found.append(
                (
                    ("observables", name),
                    f"returned {len(members)} observables, named {', '.join(members)}; "
                    f"{clash[0]} is declared too: rename one",
                    False,
                )
            )
    for i, job in enumerate(data["jobs"] if expansions else ()):  # no list-valued observable: nothing to find
        for k, oname in enumerate(job.get("observables") or []):
            if kind_of(job["primitive"]).optimizes and oname in expansions:  # a loop minimizes one value
                message = f"observable '{oname}' is a list of {len(expansions[oname])}; a minimize job takes one"
                found.append((("jobs", i, "observables", k), message, False))
    return found


def _source_of(job: Raw) -> object:
    """The job a job's parameter values come `from:`, or None."""
    values = job.get("parameter_values")
    return values.get("from") if isinstance(values, dict) else None


def _python_allowed(source: dict[str, Yaml], spec: Spec, allowed: bool) -> None:
    """A Python source's reference names a file inside the spec's repository or an installed module (found without
    running it), and the spec allows Python; SourceError otherwise."""

    if not allowed:
        raise SourceError(pysource.OFF, pysource.WHERE)
    pysource.source_file(pysource.parse(source["python"], spec.base_dir), spec.base_dir)


def _located(spec: Spec, found: list[Finding]) -> SpecError:
    return SpecError([spec.problem(path, message, at_key) for path, message, at_key in found])


# ---------------------------------------------------------------- meaning


def semantic_findings(
    data: dict[str, Yaml],
    facts: dict[str, CircuitFacts],
    observable_widths: dict[str, tuple[int, bool]],
    backend_qubits: int | None,
    clifford_wider: bool = False,
) -> list[Finding]:
    """Cross-field checks on a structurally valid spec; plain data in, findings out (`clifford_wider`: the backend's
    width is a state vector's, BackendInfo.clifford_wider)."""
    out: list[Finding] = []
    backend = backends.kind_for(data["backend"])
    positions: dict[str, int] = {}  # where each name is first declared
    for i, job in enumerate(data["jobs"]):
        positions.setdefault(job["name"], i)
    clean: Raw | None = None  # the job before, where it had no findings: one equal to it but for its name has none
    for i, job in enumerate(data["jobs"]):
        here = ("jobs", i)
        first = positions[job["name"]]
        if first != i:
            out.append((here + ("name",), f"duplicate job name '{job['name']}' (also jobs[{first}])", False))
        if clean is not None and {**job, "name": clean["name"]} == clean:
            continue  # (a from: job is never `clean`: whether its job comes before it depends on its place)
        found = job_findings(
            here, job, data, facts, observable_widths, backend_qubits, backend, positions, clifford_wider
        )
        out += found
        clean = job if not found and not isinstance(job.get("parameter_values"), dict) else None
    out += _session_findings(data)
    out += estimate_findings(data)
    out += shot_findings(data)
    out += derivedrefs.findings(data, facts)
    return out


def _open_plan_findings(data: dict[str, Yaml]) -> list[Finding]:
    """An Open Plan instance opens no session: a spec that asks for one in so many words is refused now, not when
    the service refuses it (mode: auto runs as a batch there: modes.blocks)."""
    try:
        jobs = typed(data).jobs
    except DurationError:  # a duration too long for the model: reported at its place
        return []
    asked, marked = modes.session_asked(data.get("mode", modes.AUTO), jobs)
    if not asked:
        return []
    where = ("mode",) if marked is None else ("jobs", [job.name for job in jobs].index(marked), "dependent")
    return [(where, open_plan_refusal(marked), False)]


def _session_findings(data: dict[str, Yaml]) -> list[Finding]:
    """Rules of the session itself: its length limit, per-job time limits, and what batch mode cannot do."""
    out: list[Finding] = []
    if "max_time" not in data:
        if backends.kind_for(data["backend"]).device:
            # a device session bills its time: the budget must be the user's, not a default
            return [
                (
                    (),
                    "missing required key 'max_time': a session on a device needs a budget (on aer it is optional)",
                    False,
                )
            ]
        data = {**data, "max_time": LOCAL_MAX_TIME}
    parsed = {}
    for key, default in (("max_time", None), ("max_time_limit", DEFAULT_MAX_TIME_LIMIT)):
        try:
            parsed[key] = durations.parse(data.get(key, default))
        except DurationError as e:  # the schema says so too; this keeps the rule whatever validated it
            out.append(((key,), str(e), False))
    if out:
        return out
    max_time, limit = parsed["max_time"], parsed["max_time_limit"]
    if max_time > limit and backends.kind_for(data["backend"]).device:  # a local aer run is no service session
        out.append(
            (
                ("max_time",),
                f"{durations.format(max_time)} is longer than the service allows for one session "
                f"({durations.format(limit)}); lower max_time, or set max_time_limit if your plan "
                "allows longer sessions",
                False,
            )
        )
    places: list[tuple[JsonPath, Yaml]] = [(("options",), data.get("options") or {})]
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
    if (data.get("service") or {}).get("plan") == "open" and backends.kind_for(data["backend"]).remote:
        out += _open_plan_findings(data)
    for i, job in enumerate(data["jobs"]):
        if job.get("dependent") is True and (i == 0 or data.get("mode") == "batch"):
            why = (
                "the first job has no job before it to depend on"
                if i == 0
                else "mode: batch opens no session; use mode: auto or session"
            )
            out.append((("jobs", i, "dependent"), why, False))
    return out
