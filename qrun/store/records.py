"""What each job's result file holds: per-primitive payloads, the sweep CSV, and the runtime's JSON codec."""

from __future__ import annotations

import base64
import binascii
import csv
import dataclasses
import io
import itertools
import json
import operator
import zlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RunFolderError
from ..jobs.registry import kind_of
from ..jobs.sampler import hellinger_fidelity
from ..model.jobfile import JobFile, Point
from ..model.outcomes import set_counts
from ..model.readings import number
from ..model.words import counted
from ..sources import exact
from . import runfolder

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from qiskit.primitives import PrimitiveResult

    from ..model.outcomes import SweepOutcome
    from ..model.plan import JobPlan
    from ..planning import sweeps

# numpy and the runtime are imported inside the functions that need them: `qrun validate` reads past runs (through
# results) and must not pay for either.


def runtime_json_text(result: PrimitiveResult) -> str:
    """The runtime's own JSON encoding of a PrimitiveResult, as compact text (json's C encoder writes it; an
    indented dump goes through json's Python encoder, which was a fifth of a 1,000-job run).

    What Aer's and qiskit's primitives return (results, data bins, arrays, plain metadata) is encoded here, the
    same text RuntimeEncoder writes (a test pins it); anything else goes to RuntimeEncoder itself. Importing the
    runtime costs half a second that a local run on aer otherwise never pays."""
    try:
        return json.dumps(result, default=_runtime_default)
    except _NotPlain:
        pass
    from qiskit_ibm_runtime import RuntimeEncoder  # deferred: loading a run's metadata needs no runtime

    class Encoder(RuntimeEncoder):
        # The client-side primitives put the executor's timing dataclass in the metadata, which the runtime's
        # own encoder (0.51) cannot write; it comes back as a plain dict.
        def default(self, obj: object) -> Any:
            if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
                return dataclasses.asdict(obj)
            if hasattr(obj, "model_dump"):
                return obj.model_dump()
            return super().default(obj)

    return json.dumps(result, cls=Encoder)


_NPY_HEADERS: dict[tuple[str, tuple[int, ...]], bytes] = {}


def _npy(array: np.ndarray) -> bytes:
    """np.save's bytes for `array`: its header (made by np.save once per dtype and shape, then reused: building it
    was most of encoding 10,000 small results) and its data."""
    import numpy as np

    key = (array.dtype.str, array.shape)
    header = _NPY_HEADERS.get(key) if array.flags.c_contiguous else None
    if header is not None:
        return header + array.tobytes()
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    saved = buffer.getvalue()
    if array.flags.c_contiguous:  # its data is the last nbytes, in order; anything else is np.save's own business
        _NPY_HEADERS[key] = saved[: len(saved) - array.nbytes]
    return saved


class _NotPlain(Exception):
    """A value only RuntimeEncoder knows how to write."""


@cache
def _encoded_types() -> tuple[Any, ...]:
    """numpy and qiskit's result types, imported on the first result encoded: this module is also read by the views,
    which never import qiskit, and importing them in every call cost a 10,000-job run 0.3 s."""
    import numpy as np
    from qiskit.primitives import BitArray, DataBin, PrimitiveResult, PubResult, SamplerPubResult

    return np, BitArray, DataBin, PrimitiveResult, PubResult, SamplerPubResult


def _runtime_default(obj: Any) -> Any:
    """json's default hook (any object json cannot write) as RuntimeEncoder.default (qiskit-ibm-runtime 0.51) for the types qiskit's and Aer's primitives return; exact
    types only, so a runtime subclass (EstimatorPubResult, ...) is left to the runtime's own encoder."""
    np, BitArray, DataBin, PrimitiveResult, PubResult, SamplerPubResult = _encoded_types()
    kind = type(obj)
    if kind is np.ndarray and obj.dtype != object:
        return {"__type__": "ndarray", "__value__": base64.standard_b64encode(zlib.compress(_npy(obj))).decode()}
    if kind is np.int64:
        return obj.item()
    if kind is complex:
        return {"__type__": "complex", "__value__": [obj.real, obj.imag]}
    if kind is BitArray:
        return {"__type__": "BitArray", "__value__": {"array": obj.array, "num_bits": obj.num_bits}}
    if kind is DataBin:
        return {
            "__type__": "DataBin",
            "__value__": {"field_names": list(obj), "shape": obj.shape, "fields": dict(obj.items())},
        }
    if kind in (PubResult, SamplerPubResult):
        return {"__type__": kind.__name__, "__value__": {"data": obj.data, "metadata": obj.metadata}}
    if kind is PrimitiveResult:
        return {"__type__": "PrimitiveResult", "__value__": {"pub_results": obj._pub_results, "metadata": obj.metadata}}
    raise _NotPlain


# What a primitive's result is made of, as qrun and the service encode it. A job file is untrusted input: any
# other encoded type (circuits, settings, noise models) is refused before the runtime's decoder sees it.
RESULT_TYPES = frozenset(
    {
        "PrimitiveResult",
        "PubResult",
        "SamplerPubResult",
        "EstimatorPubResult",
        "DataBin",
        "BitArray",
        "ndarray",
        "complex",
        "datetime",
        "set",
        "ExecutionSpans",
        "ExecutionSpanCollection",
        "ExecutionSpan",
        "DoubleSliceSpan",
        "SliceSpan",
        "TwirledSliceSpan",
        "TwirledSliceSpanV2",
    }
)
MAX_DECODED_BYTES = 1024 * 1024 * 1024  # all arrays of one result together, once decompressed


def from_runtime_json(value: object, where: str = "the result") -> PrimitiveResult:
    """A PrimitiveResult from the runtime's JSON encoding, after checking what it holds: only RESULT_TYPES, and
    arrays that decompress to at most MAX_DECODED_BYTES in all (a small file can inflate without end)."""

    from qiskit_ibm_runtime import RuntimeDecoder

    budget = MAX_DECODED_BYTES
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            kind = item.get("__type__")
            if kind is not None and kind not in RESULT_TYPES:
                raise RunFolderError(f"{where}: holds a value of type {str(kind)[:40]!r}, which no result has")
            if kind == "ndarray" and isinstance(item.get("__value__"), str):
                try:
                    packed = base64.standard_b64decode(item["__value__"])
                    size = len(zlib.decompressobj().decompress(packed, budget + 1))
                except (binascii.Error, zlib.error):
                    raise RunFolderError(f"{where}: holds an array that does not decode") from None
                budget -= size
                if budget < 0:
                    raise RunFolderError(f"{where}: its arrays decompress to more than {MAX_DECODED_BYTES:,} bytes")
            else:
                stack.extend(item.values())
    return json.loads(json.dumps(value), cls=RuntimeDecoder)


def fill_points(
    job: JobPlan, points: list[dict[str, Any]], groups: list[sweeps.Group], results: list[PrimitiveResult]
) -> None:
    """Give each of a chunk's points its result, in place: value/stderr (and exact) for an estimator, counts per
    register for a sampler. `groups` index into `points`; results are one PrimitiveResult per group."""
    import numpy as np

    for g, result in zip(groups, results):
        data = result[0].data
        if job.runs != "estimator":
            # a sampler's counts, every set of a register at once (a point reads its row's; one without sets, all)
            counted = {reg: set_counts(bits) for reg, bits in data.items()}
            for i, (_, r) in zip(g.points, g.where):
                points[i]["counts"] = {reg: counted[reg][r if bits.shape else 0] for reg, bits in data.items()}
                if job.reference_circuit is not None:  # exact: the ideal distribution beside each point's counts
                    row = _point_row(job, points[i])
                    ideal = exact.ideal_counts(job.reference_circuit, job.parameter_names, row, str(job.job.exact))
                    points[i]["ideal"] = {reg: ideal.get(reg, {}) for reg in data}
            continue
        evs, stds = np.asarray(data.evs), np.asarray(data.stds)
        # Each point's cell of the flattened arrays, read as Python floats from lists: a grid's (observable, row)
        # cell, or the point's own place in an aligned PUB (numpy's scalar indexing, point by point, took longer).
        width = evs.shape[1] if evs.ndim == 2 else 0
        cells = [o * width + r if width else o for o, r in g.where] if g.product else range(len(g.points))
        values, errors = evs.ravel().tolist(), stds.ravel().tolist()
        for i, at in zip(g.points, cells):
            point = points[i]
            point["value"], point["stderr"] = values[at], errors[at]
            if job.reference_circuit is not None:
                name = point.get("observable") or job.observables[0][0]
                point["exact"] = exact.expectation(
                    job.reference_circuit,
                    job.reference_observables[name],
                    job.parameter_names,
                    _point_row(job, point),
                    str(job.job.exact),
                )


def keep_lowest(lowest: dict[str, Point], points: Sequence[Point]) -> None:
    """Keep in `lowest` each observable's lowest point so far: a long sweep's, whose points stay in their file, so that
    its job file heads it as a short sweep's points do (views.listing.headline)."""
    if not points or "value" not in points[0]:  # a sampler's sweep: counts, no values
        return
    # in C where it can be (itemgetter, min): a sweep of a million points calls this for every chunk
    if "observable" not in points[0]:  # one observable, named by the job
        chunk = {"": min(points, key=operator.itemgetter("value"))}
    else:
        chunk = {}
        for k, (observable, value) in enumerate(map(operator.itemgetter("observable", "value"), points)):
            if observable not in chunk or value < chunk[observable]["value"]:
                chunk[observable] = points[k]
    for observable, point in chunk.items():
        value, held = number(point["value"]), lowest.get(str(observable))
        below = number(held["value"]) if held is not None else None
        if value is not None and (below is None or value < below):
            lowest[str(observable)] = point


def sweep_payload(job: JobPlan, outcome: SweepOutcome, points: list[Point] | None) -> JobFile:
    """A swept job's JSON body: its points inline, or (points None: a long sweep) where they were streamed to."""
    body: JobFile = {
        "status": "done",
        "sweep": {"mode": job.job.sweep.mode if job.job.sweep else "grid", "variables": job.sweep_variables},
        "groups": outcome.settings,
        "runtime_jobs": outcome.runtime_jobs,
    }
    if job.observable_units:  # per observable, for the figures and views (a point holds only its observable's name)
        body["units"] = dict(job.observable_units)
    if points is not None:
        body["points"] = points
    else:
        body["point_count"] = int(sum(s["points"] or 0 for s in outcome.settings))
        body["points_file"] = f"{job.file_stem}.points.jsonl"
    return body


def _point_row(job: JobPlan, point: dict[str, Any]) -> list[float]:
    """A sweep point's full parameter row: its swept values, the job's fixed ones for the rest."""
    fixed = dict(zip(job.parameter_names, job.parameter_values[0])) if job.parameter_values is not None else {}
    return [float(point.get(p, fixed.get(p, 0.0))) for p in job.parameter_names]


def sweep_table(job: JobPlan, points: list[dict[str, Any]], header: bool = True) -> str:
    """The tidy CSV of a swept job (or the next rows of it): one row per point, swept variables first, then the
    results beside them."""
    names = list(job.sweep_variables)
    plain = None
    if job.runs == "estimator":
        names += [n for n in ("observable",) if n not in names] + ["value", "stderr"]
        names += ["exact"] if job.reference_circuit is not None else []  # exact: statevector, beside each value
        try:
            columns = [list(map(operator.itemgetter(n), points)) for n in names]  # C speed; every point has every name
        except KeyError:
            columns = [[p.get(n) for p in points] for n in names]
        plain = _plain_rows(columns)
        rows: Any = zip(*columns)
    else:
        registers = list(points[0]["counts"]) if points else []
        ideal = registers if job.reference_circuit is not None else []  # exact: the ideal distribution beside them
        names += [f"counts_{reg}" for reg in registers] + [f"ideal_{reg}" for reg in ideal]
        rows = [
            [p.get(n) for n in job.sweep_variables]
            + [json.dumps(p["counts"][reg]) for reg in registers]
            + [json.dumps(p["ideal"][reg]) for reg in ideal]
            for p in points
        ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(names)
    if plain is not None:
        return out.getvalue() + plain
    writer.writerows(rows)
    return out.getvalue()


_QUOTED = frozenset(',"\r\n')  # what makes the csv module quote a field (QUOTE_MINIMAL, its default dialect)


def _plain_rows(columns: list[list[Any]]) -> str | None:
    """CSV rows of columns whose every value the csv module writes as it stands (a float as its repr, an int, a
    non-empty string with nothing to quote), joined column by column: the csv writer's work for each field was most
    of a long sweep's table. None where any value is anything else (None, a bool, a numpy scalar, a string to quote):
    the writer's own rules apply to those."""
    texts: list[Any] = []
    for column in columns:
        kinds = set(map(type, column))
        if kinds <= {float}:
            texts.append(map(repr, column))
        elif kinds <= {int}:
            texts.append(map(str, column))
        elif kinds == {str} and all(value and _QUOTED.isdisjoint(value) for value in set(column)):
            texts.append(column)
        else:
            return None
    lines = "\n".join(map(",".join, zip(*texts)))
    return f"{lines}\n" if lines else ""


def stored_points(run_dir: Path, body: JobFile, every: int = 1) -> list[Point]:
    """A swept job's points as stored (every `every`-th of them): inline in its JSON body, or one JSON line each in
    its points file, of which only the lines kept are decoded. The file is read as untrusted (runfolder)."""
    if "points" in body:
        return list(body["points"][::every])
    if "points_file" not in body:
        return []
    name = f"jobs/{body['points_file']}"
    points = []
    limit = runfolder.MAX_POINTS_LINE_BYTES
    with runfolder.open_lines(run_dir, name) as f:
        lines = iter(lambda: f.readline(limit + 1), b"")  # bounded: a damaged file may hold one endless line
        for number, line in enumerate(itertools.islice(lines, 0, None, every)):
            if not line.strip():
                continue
            try:
                point = json.loads(line) if len(line) <= limit else None
            except ValueError:
                point = None
            if not isinstance(point, dict):
                raise RunFolderError(
                    f"{run_dir / name}: line {number * every + 1} is not a JSON object; the run folder is damaged"
                )
            points.append(point)
    runfolder.check_points(run_dir / name, points, every)
    return points


def result_text(body: JobFile) -> str:
    """One job's result in a line: a sweep's size, else what its kind says."""
    if "points" in body or "points_file" in body:
        count = len(body["points"]) if "points" in body else body["point_count"]
        runtime_jobs = body.get("runtime_jobs", len(body["groups"]))
        text = f"{counted(count, 'sweep point')} in {counted(runtime_jobs, 'runtime job')}"
        return text + _lowest_fidelity(body.get("points") or [])
    return kind_of(body["primitive"]).text(body)


def _lowest_fidelity(points: list[Point]) -> str:
    """ "; Hellinger fidelity to the ideal 0.962 at its lowest (a=3.14159)": a sampler sweep's point furthest from its
    ideal distribution (`exact:`), over its first register; empty without one."""
    found = []
    for point in points:
        counts, ideal = point.get("counts"), point.get("ideal")
        if isinstance(counts, dict) and counts and isinstance(ideal, dict):
            reg = next(iter(counts))
            fidelity = hellinger_fidelity(counts[reg], ideal.get(reg, {}))
            if fidelity is not None:
                found.append((fidelity, point))
    if not found:
        return ""
    fidelity, point = min(found, key=operator.itemgetter(0))
    at = ", ".join(
        f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in point.items() if k not in ("counts", "ideal")
    )
    return f"; Hellinger fidelity to the ideal {fidelity:.3f} at its lowest ({at})"
