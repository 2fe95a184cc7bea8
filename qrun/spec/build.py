"""The schema-valid spec made into the typed experiment (model/experiment.py), once, and nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import durations
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


def experiment(data: Mapping[str, Any]) -> Experiment:
    """The experiment of a spec the schema accepted (its durations parse; they are re-checked by the meaning
    checks, which say where)."""
    options = Options(data.get("options") or EMPTY)
    limits = data.get("limits") or {}
    return Experiment(
        name=data["name"],
        backend=data["backend"],
        options=options,
        jobs=tuple(job(i, raw, options) for i, raw in enumerate(data["jobs"])),
        circuits=data["circuits"],
        observables=data.get("observables") or EMPTY,
        max_time=durations.parse(data["max_time"]) if "max_time" in data else None,
        max_time_limit=durations.parse(data.get("max_time_limit", DEFAULT_MAX_TIME_LIMIT)),
        budget_margin=data.get("budget_margin", DEFAULT_MARGIN),
        mode=data.get("mode", "auto"),
        allow_python=bool(data.get("allow_python")),
        service=service_of(data.get("service") or EMPTY),
        limits=Limits(limits.get("shots"), limits.get("gates"), limits.get("sweep_points")),
        derived=data.get("derived") or EMPTY,
        raw=data,
    )


def job(index: int, raw: Mapping[str, Any], spec_options: Options) -> Job:
    """One job of a schema-valid spec."""
    values = raw.get("parameter_values")
    sweep = raw.get("sweep")
    optimizer = raw.get("optimizer")
    point = raw.get("initial_point", "zeros")
    estimate = raw.get("estimate")
    return Job(
        index=index,
        name=raw["name"],
        primitive=raw["primitive"],
        circuit=raw["circuit"],
        options=Options(raw["options"]).over(spec_options) if raw.get("options") else spec_options,
        own_options=bool(raw.get("options")),
        observables=tuple(raw.get("observables") or ()),
        parameter_values=(
            FromJob(values["from"])
            if isinstance(values, Mapping)
            else None
            if values is None
            else tuple(tuple(row) for row in values)
        ),
        shots=raw.get("shots"),
        precision=raw.get("precision"),
        estimate=None if estimate is None else durations.parse(estimate),
        exact=raw.get("exact"),
        dependent=raw.get("dependent") is True,
        trust_estimate=raw.get("trust_estimate") is True,
        sweep=None if sweep is None else sweep_of(sweep),
        measure_all=raw.get("measure_all") is True,
        optimizer=None if raw["primitive"] != "minimize" else _optimizer(optimizer or EMPTY),
        initial_point=point if isinstance(point, str) else tuple(float(x) for x in point),
        rungs=tuple(raw.get("rungs") or ()),
        target_error=raw.get("target_error"),
        raw=raw,
    )


def service_of(raw: Mapping[str, Any]) -> Service:
    """A `service:` block (also as a stored run's spec.yaml holds it)."""
    return Service(
        raw.get("channel"), raw.get("instance"), raw.get("account"), raw.get("plan"), raw.get("dry_run", True)
    )


def sweep_of(raw: Mapping[str, Any]) -> Sweep:
    """A schema-valid `sweep:` block."""
    return Sweep(raw["values"], raw.get("mode", "grid"))


def _optimizer(given: Mapping[str, Any]) -> Optimizer:
    return Optimizer(
        **{k: given[k] for k in ("method", "maxiter", "tol", "jac") if k in given},
        options=given.get("options") or EMPTY,
    )
