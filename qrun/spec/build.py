"""The schema-valid spec made into the typed experiment (model/experiment.py), once, and nothing else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import DerivedError
from ..jobs.registry import kind_of
from ..model import durations, named
from ..model.defaults import DEFAULT_MARGIN, DEFAULT_MAX_TIME_LIMIT
from ..model.experiment import (
    EMPTY,
    Experiment,
    FromJob,
    Job,
    Limits,
    Optimizer,
    Options,
    Service,
    Sweep,
)
from ..model.raw import Raw

if TYPE_CHECKING:
    from ..model.fit import Fit


def experiment(data: Raw, order: Mapping[str, Sequence[str]] = EMPTY) -> Experiment:
    """The experiment of a spec the schema accepted (its durations parse; they are re-checked by the meaning
    checks, which say where). `order`: each circuit's parameter names in qiskit's order, which values given by name
    are put in (where a circuit's are not known, as a quick validate of a Python source: by name, as qiskit sorts
    plain names)."""
    options = Options(data.get("options") or EMPTY)
    limits = data.get("limits") or {}
    return Experiment(
        name=data["name"],
        backend=data["backend"],
        options=options,
        jobs=jobs(data["jobs"], options, order),
        circuits=data["circuits"],
        observables=data.get("observables") or EMPTY,
        max_time=durations.parse(data["max_time"]) if "max_time" in data else None,
        max_time_limit=durations.parse(data.get("max_time_limit", DEFAULT_MAX_TIME_LIMIT)),
        budget_margin=data.get("budget_margin", DEFAULT_MARGIN),
        mode=data.get("mode", "auto"),
        allow_python=bool(data.get("allow_python")),
        service=service_of(data.get("service") or EMPTY),
        limits=Limits(limits.get("shots"), limits.get("gates"), limits.get("sweep_points")),
        derived=derived(data.get("derived") or EMPTY),
        raw=data,
    )


def derived(block: Mapping[str, Any]) -> Mapping[str, str | Fit]:
    """The derived: block, each fit (a mapping) as the model's Fit; an expression stays its text."""
    if all(isinstance(v, str) for v in block.values()):
        return block  # most blocks: no fit, and its module is not imported
    from ..model.fit import Fit  # a spec with no fit does not import it: a run's fixed cost is its imports

    out: dict[str, str | Fit] = {}
    for name, entry in block.items():
        try:
            out[name] = entry if isinstance(entry, str) else Fit.of(entry)
        except DerivedError:  # validate refuses it at derived.NAME; a check that types the spec first goes without
            continue
    return MappingProxyType(out)


def jobs(raws: list[Raw], spec_options: Options, order: Mapping[str, Sequence[str]] = EMPTY) -> tuple[Job, ...]:
    """Every job of a schema-valid spec. A job written as the one before it but for its name is that job's copy
    with its own name, place and text: job() makes each field from the text and the spec's options alone, so the
    copy holds what job() would make (numbers compare by value: a 1.0 where the job before has 1 is kept as 1, the
    same number), and a spec of thousands of such jobs is read field by field once."""
    out: list[Job] = []
    for index, raw in enumerate(raws):
        last = out[-1] if out else None
        if last is not None and written_alike(raw, last.raw):
            out.append(Job.made({**last.__dict__, "index": index, "name": raw["name"], "raw": raw}))
        else:
            out.append(job(index, raw, spec_options, order))
    return tuple(out)


def written_alike(raw: Raw, before: Raw) -> bool:
    """Whether a job's text is `before`'s but for its name: then jobs() made it as a copy of that job, and planning
    takes that job's plan for it."""
    return {**before, "name": raw["name"]} == raw


def job(index: int, raw: Raw, spec_options: Options, order: Mapping[str, Sequence[str]] = EMPTY) -> Job:
    """One job of a schema-valid spec (`order`: as experiment() takes it)."""
    get = raw.get
    values = get("parameter_values")
    sweep = get("sweep")
    point = get("initial_point", "zeros")
    estimate = get("estimate")
    own = get("options")
    primitive = raw["primitive"]
    return Job.made(
        {
            "index": index,
            "name": raw["name"],
            "primitive": primitive,
            "circuit": raw["circuit"],
            "options": Options(own).over(spec_options) if own else spec_options,
            "observables": tuple(get("observables") or ()),
            "parameter_values": (
                None
                if values is None
                else _by_name(values, order.get(raw["circuit"]), sweep)
                if named.is_named(values)
                else FromJob(values["from"])
                if isinstance(values, Mapping)
                else tuple(map(tuple, values))
            ),
            "shots": get("shots"),
            "precision": get("precision"),
            "estimate": None if estimate is None else durations.parse(estimate),
            "exact": get("exact"),
            "dependent": get("dependent") is True,
            "trust_estimate": get("trust_estimate") is True,
            "own_options": bool(own),
            "sweep": None if sweep is None else sweep_of(sweep),
            "measure_all": get("measure_all") is True,
            "optimizer": _optimizer(get("optimizer") or EMPTY) if kind_of(primitive).optimizes else None,
            "initial_point": point if isinstance(point, str) else tuple(float(x) for x in point),
            "rungs": tuple(get("rungs") or ()),
            "target_error": get("target_error"),
            "raw": raw,
        }
    )


def service_of(raw: Raw) -> Service:
    """A `service:` block (also as a stored run's spec.yaml holds it)."""
    return Service(
        raw.get("channel"), raw.get("instance"), raw.get("account"), raw.get("plan"), raw.get("dry_run", True)
    )


def sweep_of(raw: Raw) -> Sweep:
    """A schema-valid `sweep:` block."""
    return Sweep(raw["values"], raw.get("mode", "grid"))


def _optimizer(given: Raw) -> Optimizer:
    return Optimizer(
        **{k: given[k] for k in ("method", "maxiter", "tol", "jac") if k in given},
        options=given.get("options") or EMPTY,
    )


def _by_name(values: Mapping[str, object], order: Sequence[str] | None, sweep: Raw | None) -> tuple[tuple, ...]:
    """Values given by name as rows in the circuit's parameter order (model/named.py)."""
    swept = list((sweep or {}).get("values") or ())
    names = order if order is not None else sorted({*values, *swept})
    return tuple(map(tuple, named.rows(values, names, swept)))
