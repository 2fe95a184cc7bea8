"""A job file's JSON body, typed as store/folder_schema.JOB_SCHEMA checks it: what each kind writes, what views read.

Every key is optional here: a kind's payload makes part of a body (jobs/), the store adds the header, and the schema
requires only `job`, `primitive` and `status` of a file read back. Numbers read back may be null: qrun writes a NaN
as null (strict JSON)."""

# Without `from __future__ import annotations`: a TypedDict turns each string annotation into a typing.ForwardRef,
# compiling it as the module is imported, on every command (benchmarks/RESULTS.md, "Patterns compiled where used").
from collections.abc import Mapping, Sequence
from typing import TypedDict

Number = float | None
# A sweep point: its swept values under the spec's own variable names, beside its result (observable, value, stderr,
# exact; or counts). Its keys are the user's, so no TypedDict describes it: readers narrow each value they take.
Point = dict[str, object]


class ObservableValues(TypedDict, total=False):
    """One observable's values, one per parameter set, with their standard errors (both always present). Lists are
    typed as Sequence where a reader only reads them, so that a writer's list[float] is one."""

    values: Sequence[Number]
    stderrs: Sequence[Number]
    exact: Sequence[Number]
    unit: str
    runtime_stderrs: Sequence[Number]  # a ladder's zne rung: the runtime's own error of the fit (jobs/ladder.py)


class TraceEntry(TypedDict, total=False):
    """One evaluation of a minimize loop as stored (model.records.Evaluation, as written)."""

    evaluation: int
    parameters: Sequence[Number]
    value: Number
    stderr: Number
    seconds: Number


class StoredOptimum(TypedDict, total=False):
    """Where a minimize loop ended, as stored (model.records.Optimum, as written)."""

    parameters: Sequence[Number]
    value: Number
    stderr: Number
    final_evaluation: bool


class StoredRung(TypedDict, total=False):
    """One rung of a mitigation ladder: its values per observable, its error against the exact value, its cost."""

    rung: str
    engine: str
    estimated_qpu_seconds: Number
    error: Number
    observables: dict[str, ObservableValues]


class SweepAxes(TypedDict, total=False):
    mode: str
    variables: Sequence[str]


class JobFile(TypedDict, total=False):
    """jobs/NN-name.json."""

    # the header every job file starts with (store/jobfile.header)
    job: str
    index: int
    primitive: str
    circuit: str
    backend: str
    job_ids: list[str]
    physical_qubits: list[int]  # on a device: the physical qubit each of the circuit's qubits was read from
    parameters: Sequence[str]
    parameter_values: list[list[float]]
    parameter_values_from: str
    status: str
    seconds: Number
    # estimator, ladder
    precision: Number
    observables: dict[str, ObservableValues]
    rungs: list[StoredRung]
    target_error: Number
    cheapest: str | None
    # sampler
    shots: int | None
    shots_requested: int | None
    counts: dict[str, list[dict[str, int]]]
    ideal: dict[str, Sequence[Mapping[str, Number]]]
    # minimize
    observable: str
    unit: str
    optimizer: Mapping[str, object]  # OptimizerSettings as written; read back, only `method` is checked (a str)
    initial_point: list[float]
    max_evaluations: int | None
    exact: Number
    trace: list[TraceEntry]
    optimum: StoredOptimum | None
    nfev: int | None
    message: str | None
    success: bool | None
    stopped: str | None
    # a sweep
    sweep: SweepAxes
    groups: Sequence[Mapping[str, object]]  # one per runtime PUB: its settings, named by the user's sweep
    runtime_jobs: int
    units: dict[str, str]
    points: list[Point]
    point_count: int
    points_file: str
    lowest: dict[str, Point]  # a long sweep's lowest point per observable, kept as its points streamed to their file
    # the runtime's own encoding of the result (qiskit_ibm_runtime.utils.RuntimeEncoder), parsed back on request
    primitive_result: dict[str, object]


class Headline(TypedDict, total=False):
    """One headline result of a job, as `qrun list` and the dataframe show it: a value with its standard error (and
    where a sweep found its lowest point, or how many parameter sets it is the first of), or a sampler register's
    most frequent outcome; `warnings` are its job's."""

    value: Number
    stderr: Number
    exact: Number
    at: str
    sets: int  # an estimator's parameter sets, where more than one: the value is the first set's
    outcome: str
    probability: float
    warnings: list[str]
