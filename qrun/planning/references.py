"""Whether `exact: stabilizer` can give each job's reference at every parameter set it runs: the values meet the
circuit only here, so `qrun validate` and every run check it before anything is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..jobs.registry import kind_of
from ..sources import circuits, stabilizer
from ..spec.jobchecks import non_clifford_message
from .sweeps import Column
from .transpile import prepared, variant_of
from .work import sweep_points

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from ..model.experiment import Job
    from ..spec.validate import Checked
    from .sweeps import Points


def stabilizer_problems(checked: Checked) -> list[tuple[tuple[str | int, ...], str]]:
    """Each job with `exact: stabilizer` that a tableau cannot take at one of its rows, with why. A circuit's fixed
    gates validate has checked (CircuitFacts.non_clifford); here are the angles the rows give and, for a sampler, how
    many outcomes its registers have. Circuits validate did not build (its quick path) are built here, only for these
    jobs."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    built: dict[str, QuantumCircuit] = dict(checked.circuits)
    seen: dict[tuple, str] = {}
    for job in checked.experiment.jobs:
        fact = checked.facts.get(job.circuit)
        counts = kind_of(job.primitive).runs == "sampler"
        # a random circuit's facts the quick path read from its arguments, which say nothing of its gates
        unread = job.circuit not in checked.circuits and "random" in checked.experiment.circuits[job.circuit]
        if job.exact != "stabilizer" or fact is None or fact.non_clifford:
            continue
        if not (fact.num_parameters or counts or unread):
            continue
        qc = _circuit(job.circuit, checked, built)
        if qc is None:
            continue  # a Python source the quick path does not run: checked where it is built
        if unread and (why := stabilizer.non_clifford(qc)):
            out.append((("jobs", job.index, "exact"), non_clifford_message(job.circuit, why)))
            continue
        variant = variant_of(job)
        key = (job.circuit, variant, job.parameter_values, id(job.sweep) if job.sweep is not None else None)
        if key not in seen:
            reference = prepared(qc, variant)
            names = [p.name for p in reference.parameters]  # the plan's order: qiskit sorts them by name
            points = sweep_points(job)
            rows = _rows(job, points, names)
            label, step = ("parameter set", 1) if points is None else ("sweep point", len(points.observables))
            seen[key] = stabilizer.row_refusal(reference, names, rows, counts, label, step)
        if seen[key]:
            out.append((("jobs", job.index, "exact"), seen[key]))
    return out


def _circuit(name: str, checked: Checked, built: dict[str, QuantumCircuit]) -> QuantumCircuit | None:
    source = checked.experiment.circuits[name]
    if name not in built and "python" not in source:
        built[name] = circuits.build(source, checked.spec.base_dir)
    return built.get(name)


def _rows(job: Job, points: Points | None, names: list[str]) -> np.ndarray:
    """The parameter sets the job binds, a row each: its rows, or each sweep point's swept values over its fixed
    ones (a point of each base, before the observables it is measured with), made as columns."""
    values = job.parameter_values if isinstance(job.parameter_values, tuple) else ()
    if points is None:
        return np.asarray(values, dtype=float).reshape(len(values), len(names)) if values else np.zeros((0, len(names)))
    fixed = dict(zip(names, values[0])) if values else {}
    out = np.empty((points.base, len(names)))
    bases = np.arange(points.base)
    for j, name in enumerate(names):
        if name not in points.names:
            out[:, j] = float(fixed.get(name, 0.0))
            continue
        k = points.names.index(name)
        column = points.columns[k]
        own = np.asarray(column.take(range(len(column))) if isinstance(column, Column) else column, dtype=float)
        out[:, j] = own[bases if points.zip else bases // points.strides[k] % len(own)]
    return out
