"""Load, check and plan a spec, short of running it: what `qrun validate`, `qrun plan` and a run share."""

from __future__ import annotations

import importlib.util
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..backends import service as ibm
from ..backends.kind import BackendInfo
from ..backends.registry import traits
from ..errors import MissingExtraError, OpenPlanError, Problem, SourceError, SpecError
from ..jobs import registry as kinds
from ..model import durations
from ..model.experiment import Job
from ..model.findings import by_key, first_of
from ..model.plan import Plan
from ..planning import batches, delays, faulty, gaps, simtime
from ..planning import estimates as model
from ..planning.modes import AUTO, RUN_BATCH_WHY, session_asked, without_sessions
from ..sources import circuits, pysource
from ..sources.facts import constructs, declared_parameters
from ..spec import Spec, layouts, load
from ..spec.validate import Checked, validate
from ..store.reader import History

if TYPE_CHECKING:
    from qiskit.providers import BackendV2
    from qiskit_ibm_runtime import QiskitRuntimeService

    from ..model.device import Deferred

# A job as the budget sees it: the job, its number of parameters, the seconds planned, and where they came from.
Row = tuple[Job, int, float, str]

# plan, execute and progress import numpy and qiskit; they are imported where a run or a plan needs them, so that
# `qrun validate` (this module's quick_check) stays fast and qiskit-free.


@dataclass
class Prepared:
    """A spec that was loaded, checked and planned: everything short of running it."""

    checked: Checked
    plan: Plan | None  # None: a service spec checked offline
    warnings: list = field(default_factory=list)
    service: QiskitRuntimeService | None = None
    estimated: list[tuple[str, float]] = field(default_factory=list)  # each job's seconds, as the budget counts them
    # per job, whether those seconds hold a device's runtime job overhead of its own (planning.batches.carrying): a
    # multirun's points go out together, and a point's first job may join another point's runtime job
    carrying: list[bool] = field(default_factory=list)

    @property
    def spec(self) -> Spec:
        return self.checked.spec

    @property
    def planned(self) -> Plan:
        """The plan, where there is one: a run and `qrun plan` always plan (only `qrun validate`, and a service spec
        checked offline, stop short of it)."""
        if self.plan is None:
            raise AssertionError("this spec was checked without being planned")
        return self.plan


def check(
    path: str | Path,
    overrides: dict[str, object] | None = None,
    vars_files: list[str] | None = None,
    swept: Collection[str] = (),
) -> Checked:
    """Load and validate a spec; SpecError lists every problem (`swept`: which overrides are a multirun point's)."""

    return validate(load(path, overrides, vars_files, swept))


def prepare(
    path: str | Path,
    overrides: dict[str, object] | None = None,
    vars_files: list[str] | None = None,
    estimates: str = "learned",
    out: str | Path = "results",
    enforce_budget: bool = True,
    online: bool = True,
    use_cache: bool = True,
    defer_device: bool = False,
    swept: Collection[str] = (),
) -> Prepared:
    """Check and plan a spec; with enforce_budget, a plan whose estimates do not fit max_time is a SpecError.

    A service backend is looked up, and pre-flight checked, only when `online`; offline the plan is None.
    `defer_device`: a plan that is only shown (`qrun plan`) holds a slow-to-build local device as its kind defers it
    (model.device.Deferred), built only if the plan needs more than the transpile cache keeps.
    """

    checked = check(path, overrides, vars_files, swept)
    require_run_extra()
    _stabilizer_rows(checked)
    experiment = checked.experiment
    service = None
    sessions = True  # False on an Open Plan instance, which opens none
    backend: BackendV2 | Deferred | None = None
    if defer_device and not traits(checked.backend.kind).remote:
        backend = traits(checked.backend.kind).deferred(experiment.backend)
    if traits(checked.backend.kind).remote:
        if not online:
            return Prepared(checked, None)
        service = ibm.connect(experiment.service)
        widest = max(qc.num_qubits for qc in checked.circuits.values())
        used = experiment.used_circuits
        flow = {name: found for name, qc in checked.circuits.items() if name in used and (found := constructs(qc))}
        backend = ibm.choose_backend(service, experiment.backend, widest, set().union(*flow.values()))
        ibm.check_backend(backend, widest, flow)
        chosen = BackendInfo(backend.name, checked.backend.kind, backend.num_qubits)  # least_busy's, once known
        if misplaced := layouts.findings(experiment.circuits, checked.facts, chosen):
            raise SpecError([checked.spec.problem(path, message, at_key) for path, message, at_key in misplaced])
        if ibm.on_open_plan(service, experiment.service):
            asked, marked = session_asked(experiment.mode, experiment.jobs)
            if asked:  # before planning: nothing to transpile for a session the instance cannot open
                raise OpenPlanError(ibm.open_plan_refusal(marked))
            sessions = False
    past = _history(out, checked, estimates)
    from ..planning import plan as planning  # numpy and qiskit: `qrun validate` (quick_check) never plans

    the_plan = planning.build(
        checked, backend=backend, source=estimates, history=past, use_cache=use_cache, sessions=sessions
    )
    if enforce_budget:
        plan_errors(checked.spec, the_plan)
    if service is not None:
        if experiment.service.dry_run:
            from ..planning import dryrun  # numpy, through the PUBs it builds

            the_plan.service_estimates = dryrun.estimate(the_plan)
            if dryrun.floor(the_plan, experiment) and enforce_budget:
                plan_errors(checked.spec, the_plan)  # the service's figures, higher than qrun's, may not fit
        needed = max(the_plan.budget.total, getattr(the_plan.service_estimates, "total", 0.0))
        the_plan.instance_usage = ibm.preflight(service, needed)
    rows = [(j.job, len(j.parameter_names), j.estimate, j.estimate_source) for j in the_plan.jobs]
    warnings = [*estimate_warnings(checked.spec, rows), *gaps.warnings(the_plan), *simtime.warnings(the_plan)]
    warnings += the_plan.budget.overruns()
    placed = frozenset(name for name, source in experiment.circuits.items() if "layout" in source)
    warnings += (
        faulty.warnings(the_plan, placed)
        + layouts.routed(the_plan, experiment.circuits, checked.circuits)
        + _unused_layouts(checked)
        + _unmitigated(checked)
        + row_order(checked)
        + delays.notes(the_plan, checked.circuits)
    )
    estimated = [(j.name, j.estimate) for j in the_plan.jobs]
    carrying = batches.carrying(the_plan.jobs, the_plan.batches, checked.backend.kind)
    return Prepared(checked, the_plan, warnings, service, estimated, carrying)


def require_run_extra() -> None:
    """Planning and running need Aer, the runtime, scipy and orjson: core dependencies, so only a damaged or
    hand-pruned environment lacks them."""

    missing = [
        p for p in ("qiskit_ibm_runtime", "qiskit_aer", "scipy", "orjson") if importlib.util.find_spec(p) is None
    ]
    if missing:
        raise MissingExtraError(
            f"this needs {', '.join(missing)}, which this environment lacks: pip install --force-reinstall qrun"
        )


def plan_errors(spec: Spec, the_plan: Plan, budget: bool = True) -> None:
    """SpecError for what only a plan can see: estimates below qrun's own figure, and (`budget`) a budget that does
    not fit (a multirun's point is budgeted with the others: multirun.joint_budget)."""
    problems = [spec.problem(path, message) for path, message in the_plan.problems]
    if budget and not the_plan.budget.fits and not the_plan.budget.local:  # aer bills nothing: its budget informs
        problems.append(spec.problem(("max_time",), the_plan.budget.explain()))
    if problems:
        raise SpecError(problems)


def quick_check(
    path: str | Path,
    overrides: dict[str, object] | None = None,
    vars_files: list[str] | None = None,
    estimates: str = "learned",
    out: str | Path = "results",
    swept: Collection[str] = (),
) -> Prepared:
    """`qrun validate`: every check that needs no qiskit, and the budget on declared or learned estimates.

    A job with neither counts its fixed per-job overhead, a lower bound; `qrun plan` and every run check the
    computed estimates too.
    """

    checked = validate(load(path, overrides, vars_files, swept), build=False)
    _stabilizer_rows(checked)
    experiment = checked.experiment
    past = _history(out, checked, estimates)
    rows: list[Row] = []
    hashed: dict[object, str] = {}
    local = not traits(checked.backend.kind).device
    joined = set() if local else batches.joined_in_spec(experiment.jobs)
    for job in experiment.jobs:
        fact = checked.facts.get(job.circuit)  # none for a Python source: validate runs no user code
        n = fact.num_parameters if fact is not None else 0
        learned = past.get((job.name, model.content_hash(experiment, job, hashed))) if past else None
        bound = partial(model.lower_bound, job, n, local)
        seconds, source = model.choose(job, n, estimates, learned, bound, "lower bound")
        if source == "lower bound" and job.index in joined:  # its runtime job's overhead is the first job's
            seconds = 0.0
        rows.append((job, n, seconds, source))
    estimated = [(r[0].name, r[2]) for r in rows]
    verdict = model.budget_for(experiment, checked.backend.kind, estimated)
    if not verdict.fits and not verdict.local:
        raise SpecError([checked.spec.problem(("max_time",), verdict.explain())])
    sources = experiment.python_sources
    used = pysource.in_use(checked.spec.data) if sources else {}  # only these are ever imported
    unrun = [f"{names} ({ref})" for names, ref in by_key((f"{k}.{n}", ref) for k, n, ref in sources if n in used[k])]
    notes = (
        [f"note: {', '.join(unrun)}: Python, not imported here; qrun validate --deep, plan and run import and run it"]
        if unrun
        else []
    )
    bounded = [job.name for job, _, _, source in rows if source == "lower bound"]
    if bounded and not verdict.local:  # the verdict could differ from the run's: say on what it stands
        named = first_of(bounded)
        notes.append(
            f"note: {named}: no declared or learned estimate, so the budget was checked on a lower bound; "
            "qrun validate --deep, plan and run check the computed estimate"
        )
    warnings = [*estimate_warnings(checked.spec, rows), *_unused_layouts(checked), *_unmitigated(checked)]
    warnings += [*row_order(checked), *notes]
    warnings += _open_plan_note(checked)
    carrying = [not local and source == "lower bound" and job.index not in joined for job, _, _, source in rows]
    return Prepared(checked, None, warnings, estimated=estimated, carrying=carrying)


def _open_plan_note(checked: Checked) -> list[str]:
    """A spec on the Open Plan, whose mode: auto runs as a batch even where a minimize loop would have had a session:
    say what that costs before the run does."""
    experiment = checked.experiment
    if experiment.service.plan != "open" or experiment.mode != AUTO or not traits(checked.backend.kind).remote:
        return []
    why = without_sessions(experiment.jobs)
    return [f"note: mode: batch: {why}"] if why != RUN_BATCH_WHY else []


def row_order(checked: Checked) -> list[str]:
    """A warning where jobs give an OpenQASM circuit's parameters as rows and qiskit's order of them (by name) is not
    the order the circuit declares them: `theta` then `phi` is `[phi, theta]` in a row, which binds silently."""
    experiment, out = checked.experiment, []
    for name, fact in checked.facts.items():
        source = experiment.circuits.get(name)
        if fact.num_parameters < 2 or not isinstance(source, Mapping) or not {"qasm", "file"} & set(source):
            continue
        rows = [
            j.name for j in experiment.jobs if j.circuit == name and isinstance(j.raw.get("parameter_values"), list)
        ]
        if not rows:
            continue  # values by name, or none: the source is not read again
        try:
            declared = declared_parameters(circuits.qasm_text(source, checked.spec.base_dir))
        except SourceError:
            continue
        order = list(fact.parameter_names)
        if sorted(declared) == sorted(order) and declared != order:
            by_name = ", ".join(f"{p}: ..." for p in declared)
            out.append(
                f"warning: {first_of(rows)} (parameter_values): a row of circuit '{name}' is in qiskit's order of its "
                f"parameters, {', '.join(order)}, not the order it declares them, {', '.join(declared)}; values by "
                f"name need no order: {{{by_name}}}"
            )
    return out


def _unused_layouts(checked: Checked) -> list[str]:
    experiment = checked.experiment
    return layouts.unused(experiment.circuits, experiment.used_circuits, checked.backend.kind, experiment.backend)


def _unmitigated(checked: Checked) -> list[str]:
    """The spec's resilience_level where no job is mitigated by it: the runtime's Sampler has no such option (a
    sampler job's own is refused; the spec's, which estimator jobs take, would be silently moot)."""
    experiment = checked.experiment
    level = experiment.options.given.get("resilience_level")
    if (
        not isinstance(level, int)
        or level < 1
        or any(kinds.kind_of(j.primitive).runs == "estimator" for j in experiment.jobs)
    ):
        return []
    return [
        f"warning: options.resilience_level: {level} mitigates estimator jobs, and this spec has none: the runtime's "
        "Sampler mitigates nothing, and its counts are raw (an estimator job of the parities a sampler counts, Z0 Z1, "
        "is mitigated)"
    ]


def estimate_warnings(spec: Spec, rows: list[Row]) -> list[Problem]:
    """A declared estimate that a matching earlier run took more than twice as long as: the spec is out of date."""
    out = []
    for job, n, seconds, source in rows:
        declared = kinds.declared(job, n)
        if not source.startswith("learned") or declared is None:
            continue
        if seconds > 2 * declared:
            out.append(
                spec.problem(
                    ("jobs", job.index, "estimate"),
                    f"warning: a matching earlier run took {durations.format(seconds)}, more than "
                    f"twice the declared {durations.format(declared)}; qrun plans with the learned time",
                )
            )
    return out


def _stabilizer_rows(checked: Checked) -> None:
    """SpecError for a job whose rows a stabilizer tableau cannot take (`exact: stabilizer`), as validate's own."""
    if any(job.exact == "stabilizer" for job in checked.experiment.jobs):
        from ..planning import references  # qiskit: only a spec that asks for a tableau needs it here

        problems = references.stabilizer_problems(checked)
        if problems:
            raise SpecError([checked.spec.problem(path, message) for path, message in problems])


def _history(out: str | Path, checked: Checked, estimates: str) -> History | None:
    """The earlier runs estimates learn from; none but where asked for, and none on a fake device: its runs took the
    simulator's time on this machine, while its estimates rehearse the real device's (a rehearsal's second plan
    checked the budget against the simulator's seconds)."""
    if estimates != "learned" or traits(checked.backend.kind).rehearsed:
        return None
    return History(Path(out), checked.experiment.name)
