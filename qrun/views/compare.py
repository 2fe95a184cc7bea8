"""`qrun diff A B`: how two runs' specs differ, then each value side by side with B - A, σ and z."""

from __future__ import annotations

import math

from ..backends import calibration
from ..errors import DerivedError
from ..jobs.kind import Pair, shown
from ..jobs.registry import kind_of
from ..jobs.sampler import outcome_pairs
from ..model.jobfile import JobFile, Point
from ..model.readings import number
from ..spec.diff import differences, said_once
from ..store.derived import evaluated, spec_jobs
from ..store.reader import Run
from ..store.specfile import read_spec


def diff_text(a: Run, b: Run, all_rows: bool = False) -> str:
    """`qrun diff A B`: how the resolved specs differ, then every headline value side by side with the difference,
    the combined standard error and the z-score. Of a long sweep, and of more than DIFF_ROWS values in all, those
    with the largest |z| and a count of the rest (all_rows: every one)."""
    spec_a, spec_b = read_spec(a.path), read_spec(b.path)
    changes = differences(spec_a, spec_b)
    lines = [f"spec: {a.path.name} -> {b.path.name}"]
    lines += [f"  {c}" for c in said_once(changes)] or ["  (the same spec)"]
    recalibrated = calibration.straddle_note(_calibrations(a), _calibrations(b), (_device(a), _device(b)))
    if recalibrated:
        lines.append(recalibrated)
    pairs = []
    moved: list[float] = []  # each pair's z, for choosing the pairs a long diff shows
    same = 0  # how many pairs are equal in value and σ: a reproduced run's all are
    notes = []
    warnings = {side: _warnings(run) for side, run in (("A", a), ("B", b))}
    for entry in a.metadata["jobs"]:
        name = entry["name"]
        paired, swept = _job_pairs(a, b, name)
        if swept:
            if len(paired) > SWEEP_ROWS and not all_rows and all(r[1] == r[2] for r in paired):
                notes.append(f"{name}: {len(paired):,} sweep points paired, each the same in both runs")
                paired = []  # a rerun that reproduced its sweep: no point moved to show
            elif len(paired) > SWEEP_ROWS and not all_rows:
                zs = [_z(*r[1], *r[2]) for r in paired]
                notes.append(f"{name}: {len(paired):,} sweep points paired; {_most_moved(zs, SWEEP_ROWS)}")
                paired = [paired[k] for k in _largest(zs, SWEEP_ROWS)]
        warned = {side: found.get(name, []) for side, found in warnings.items()}
        mark_a, mark_b = (" ⚠" if warned[side] else "" for side in ("A", "B"))
        notes += [f"⚠ {side} {name}: {w}" for side, found in warned.items() for w in found]
        for key, (va, sa), (vb, sb) in paired:
            sigma = math.hypot(sa, sb) if sa is not None and sb is not None else None
            z = _z(va, sa, vb, sb)
            moved.append(z)
            same += (va, sa) == (vb, sb)
            pairs.append(
                (
                    key,
                    f"{shown(va)}{mark_a}",
                    f"{shown(vb)}{mark_b}",
                    # a value stored as null (a NaN) is shown, and compared with nothing
                    shown(vb - va, "+.3g") if va is not None and vb is not None else "nan",
                    shown(sigma, ".2g"),
                    f"{z:+.2f}",
                )
            )
    if len(pairs) > DIFF_ROWS and not all_rows and same == len(pairs):
        notes.insert(0, f"{len(pairs):,} values paired, each the same in both runs (--all: every one)")
        pairs = []
    elif len(pairs) > DIFF_ROWS and not all_rows:
        notes.insert(0, f"{len(pairs):,} values paired; {_most_moved(moved, DIFF_ROWS)} (--all: every one)")
        pairs = [pairs[k] for k in _largest(moved, DIFF_ROWS)]
    pairs += _derived_pairs(a, b, spec_a, spec_b)
    if not pairs:
        return "\n".join([*lines, *(notes or ["values: none to compare"])])
    header = ("value", a.path.name, b.path.name, "B - A", "σ", "z")
    widths = [max(len(str(row[i])) for row in [header, *pairs]) for i in range(len(header))]
    lines.append("")
    lines += [
        "  ".join(
            str(cell).ljust(w) if i == 0 else str(cell).rjust(w) for i, (cell, w) in enumerate(zip(row, widths))
        ).rstrip()
        for row in [header, *pairs]
    ]
    return "\n".join([*lines, *notes])


def _derived_pairs(a: Run, b: Run, spec_a: object, spec_b: object) -> list[tuple[str, str, str, str, str, str]]:
    """Each derived value both runs' specs define and can compute, compared as any value is."""
    rows: list[tuple[str, str, str, str, str, str]] = []
    for key, (va, sa), (vb, sb) in _derived_values(a, b, spec_a, spec_b):
        rows.append(
            (
                key,
                f"{va:.6g}",
                f"{vb:.6g}",
                f"{vb - va:+.3g}",
                f"{math.hypot(sa, sb):.2g}",
                f"{_z(va, sa, vb, sb):+.2f}",
            )
        )
    return rows


def _derived_values(
    a: Run, b: Run, spec_a: object, spec_b: object
) -> list[tuple[str, tuple[float, float], tuple[float, float]]]:
    """Each derived value both runs' specs define and can compute, as a pair ("derived NAME", (value, σ) in A, in B);
    a value with no propagated error has σ 0."""
    block_a, block_b = ((s.get("derived") if isinstance(s, dict) else None) or {} for s in (spec_a, spec_b))
    if not isinstance(block_a, dict) or not isinstance(block_b, dict):
        return []
    out: list[tuple[str, tuple[float, float], tuple[float, float]]] = []
    in_a = evaluated(block_a, a.jobs, a.path, spec_jobs(spec_a))
    in_b = evaluated(block_b, b.jobs, b.path, spec_jobs(spec_b))
    for name in [n for n in in_a if n in in_b]:
        found_a, found_b = in_a[name], in_b[name]
        if isinstance(found_a, DerivedError) or isinstance(found_b, DerivedError):
            continue  # qrun show says why; there is nothing to compare
        out.append((f"derived {name}", (found_a[0], found_a[1] or 0.0), (found_b[0], found_b[1] or 0.0)))
        # a fit's other parameters, each compared too: a T1 fit's amplitude says whether readout moved
        extras_a, extras_b = (found[3] if len(found) > 3 else {} for found in (found_a, found_b))
        params_a, params_b = extras_a.get("parameters"), extras_b.get("parameters")
        if isinstance(params_a, dict) and isinstance(params_b, dict):
            for key in [k for k in params_a if k in params_b and k != extras_a.get("parameter")]:
                pa, pb = params_a[key], params_b[key]
                out.append(
                    (f"derived {name}.{key}", (pa["value"], pa["stderr"] or 0.0), (pb["value"], pb["stderr"] or 0.0))
                )
    return out


def diff_data(a: Run, b: Run) -> dict[str, object]:
    """`qrun diff --json`: the comparison as numbers, every value (a script chooses): the two runs, how their specs
    differ, the recalibration between them if any, and each value paired, A's and B's value and standard error, B - A,
    the combined σ and z (null where one is unknown), and whether a warning recorded with its job weakens it."""
    spec_a, spec_b = read_spec(a.path), read_spec(b.path)
    warned = {side: _warnings(run) for side, run in (("a", a), ("b", b))}
    values: list[dict[str, object]] = []
    for entry in a.metadata["jobs"]:
        name = entry["name"]
        weak = any(name in found for found in warned.values())
        values += [_compared(key, va, sa, vb, sb, weak) for key, (va, sa), (vb, sb) in _job_pairs(a, b, name)[0]]
    for key, (va, sa), (vb, sb) in _derived_values(a, b, spec_a, spec_b):
        values.append(_compared(key, va, sa, vb, sb, False))
    return {
        "a": str(a.path),
        "b": str(b.path),
        "spec": differences(spec_a, spec_b),
        "recalibrated": calibration.straddle_note(_calibrations(a), _calibrations(b), (_device(a), _device(b))) or None,
        "values": values,
    }


def _compared(
    key: str, va: float | None, sa: float | None, vb: float | None, sb: float | None, warned: bool
) -> dict[str, object]:
    sigma = math.hypot(sa, sb) if sa is not None and sb is not None else None
    z = _z(va, sa, vb, sb)
    return {
        "value": key,
        "a": va,
        "a_stderr": sa,
        "b": vb,
        "b_stderr": sb,
        "difference": vb - va if va is not None and vb is not None else None,
        "sigma": sigma,
        "z": None if math.isnan(z) else z,
        "warned": warned,
    }


def _job_pairs(a: Run, b: Run, name: str) -> tuple[list[Pair], bool]:
    """A job's values paired between two runs (its kind's pairing; a sweep's points by their variables), and whether
    they are a sweep's points."""
    paired = _paired(name, a.jobs.get(name), b.jobs.get(name))
    if not paired and _is_sweep(a.jobs.get(name)) and _is_sweep(b.jobs.get(name)):
        return _paired_points(name, a.points(name), b.points(name)), True
    return paired, False


def _device(run: Run) -> object:
    """The backend the run's session was on, as its metadata records it."""
    return (run.metadata.get("session") or {}).get("backend")


def _calibrations(run: Run) -> list[str]:
    meta = run.metadata
    return calibration.label([u for e in meta["jobs"] for u in e.get("usage") or []], meta.get("session"))


SWEEP_ROWS = 20  # a longer sweep's diff shows the points that moved most, and counts the rest
DIFF_ROWS = 25  # so does a diff of more values than that in all (a run of many jobs): nobody reads 10,000 rows


def _largest(zs: list[float], n: int) -> list[int]:
    """The places of the n largest |z|, largest first; a z that is NaN (a value stored as null) last."""
    return sorted(range(len(zs)), key=lambda k: (math.isnan(zs[k]), -abs(zs[k]) if not math.isnan(zs[k]) else 0))[:n]


def _most_moved(zs: list[float], n: int) -> str:
    """What a long diff says of the values it leaves out: "the 20 with the largest |z| are shown, 3 have |z| > 2"."""
    return f"the {n} with the largest |z| are shown, {sum(abs(z) > 2 for z in zs):,} have |z| > 2"


def _warnings(run: Run) -> dict[str, list[str]]:
    """The warnings recorded with each job that has any (a fit that fell back, a library's complaint): they weaken
    its values. The first entry of a name counts, as a lookup by name finds it."""
    found: dict[str, list[str]] = {}
    for entry in reversed(run.metadata["jobs"]):
        found[entry["name"]] = list(entry.get("warnings") or [])
    return {name: w for name, w in found.items() if w}


def _z(va: float | None, sa: float | None, vb: float | None, sb: float | None) -> float:
    """How many standard errors apart two values are; NaN where either is unknown (stored as null)."""
    if va is None or sa is None or vb is None or sb is None:
        return float("nan")
    sigma = math.hypot(sa, sb)
    return (vb - va) / sigma if sigma > 0 else float("nan")


def _is_sweep(body: JobFile | None) -> bool:
    return body is not None and ("points" in body or "points_file" in body)


def _point_label(name: str, value: object) -> str:
    """One sweep variable in a diff label: t=0.5, shots=100, or the observable's bare name."""
    if name == "observable":
        return str(value)
    return f"{name}={value:.6g}" if isinstance(value, float) else f"{name}={value}"


def _paired_points(job: str, a: list[Point], b: list[Point]) -> list[Pair]:
    """Sweep points of two runs paired by their variables (and observable), labelled job[t=0.5, zz]; a sampler's
    by its likeliest outcomes, job[t=0.5].meas["01"]."""
    results = ("value", "stderr", "exact", "counts")

    def key(p: Point) -> tuple:
        return tuple((k, v) for k, v in p.items() if k not in results)

    others = {key(p): p for p in b if "value" in p or "counts" in p}
    out: list[Pair] = []
    for p in a:
        q = others.get(key(p))
        if q is None:
            continue
        label = f"{job}[{', '.join(_point_label(k, v) for k, v in key(p))}]"
        if "value" in p and "value" in q:
            out.append((label, _measured(p), _measured(q)))
        elif isinstance(ca := p.get("counts"), dict) and isinstance(cb := q.get("counts"), dict):  # a sampler's
            out += outcome_pairs(label, ca, cb)
    return out


def _paired(job: str, a: JobFile | None, b: JobFile | None) -> list[Pair]:
    if not a or not b or a.get("primitive") != b.get("primitive"):
        return []
    return kind_of(a["primitive"]).paired(job, a, b)


def _measured(point: Point) -> tuple[float | None, float | None]:
    """A stored sweep point's value and standard error, None where either is not a number (the file is untrusted)."""
    return number(point.get("value")), number(point.get("stderr"))
