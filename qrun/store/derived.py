"""Derived values: arithmetic over a run's results, as a spec's `derived:` block writes it, with its standard error.

`S: "chsh.zz - chsh.zx + chsh.xz + chsh.xx"` is read with Python's own parser and evaluated by walking the tree
over an allow-list of nodes: numbers, + - * / **, unary minus, a few functions, and references to results. No
eval, no attribute of any Python object, no name outside the run's jobs and its other derived values."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection, Mapping
from pathlib import Path

from ..errors import DerivedError, RunFolderError
from ..jobs.kind import against, nth
from ..model.jobfile import Headline, JobFile
from ..model.raw import Yaml
from ..model.readings import Reading, number
from .expressions import Block, Written, compute, gradient, own_references, written
from .fsio import write_json
from .readings import job_readings
from .runfolder import read_json
from .specfile import read_spec, read_spec_text


def references(
    text: str, block: Mapping[str, object] | None = None, jobs: Collection[str] = (), name: str | None = None
) -> list[tuple[str, ...]]:
    """The results an expression reads, each once, as (job,), (job, observable[, index]) or (job, register,
    outcome[, index]); the derived values of `block` it names (a bare name that is no job's) are written out first,
    so their results are listed instead."""
    return _written(text, Block(block or {}, jobs), name).references()


def block_references(
    block: Mapping[str, object], jobs: Collection[str], own: bool = False
) -> dict[str, list[tuple[str, ...]] | DerivedError]:
    """Each value of a derived: block's results (as references gives them), or why it cannot be written out; the
    block read once for all of them. `own`: only the results its own text reads, not those of the values it names
    (validate checks each of those at its own entry, and a bad one was blamed on every value naming it)."""
    values = Block(block, jobs)
    out: dict[str, list[tuple[str, ...]] | DerivedError] = {}
    for name in values.texts:
        try:
            found = values.value(name)
        except DerivedError as e:
            out[name] = e
            continue
        out[name] = own_references(name, values) if own else found.references()
    return out


def _written(text: str, values: Block, name: str | None) -> Written:
    """The block's value `name` where the text is its, else the text with the block's values written out."""
    return values.value(name) if name is not None and values.texts.get(name) == text else values.expression(text)


def evaluate(
    text: str,
    bodies: Mapping[str, JobFile],
    run_dir: Path | None = None,
    block: Mapping[str, object] | None = None,
    name: str | None = None,
) -> tuple[float, float | None]:
    """(value, standard error) of an expression over the run's job bodies (and the derived values of `block` it
    names). The error is propagated to first order from each result's own standard error, taking the results as
    independent (separate runtime jobs are)."""
    value, sigma, _ = _computed(_written(text, Block(block or {}, bodies), name), bodies, run_dir)
    return value, sigma


def evaluate_block(
    block: Mapping[str, object], bodies: Mapping[str, JobFile], run_dir: Path | None = None
) -> dict[str, tuple[float, float | None, float | None] | DerivedError]:
    """Each value of a derived: block, or why it cannot be computed; the block written out once for all of them."""
    values = Block(block, bodies)
    out: dict[str, tuple[float, float | None, float | None] | DerivedError] = {}
    for name in values.texts:
        try:
            out[name] = _computed(values.value(name), bodies, run_dir)
        except DerivedError as e:
            out[name] = e
    return out


def _computed(
    written: Written, bodies: Mapping[str, JobFile], run_dir: Path | None
) -> tuple[float, float | None, float | None]:
    """(value, standard error, exact value): the exact one is the expression over its inputs' exact values, where
    every input has one (a statevector's, a stated number's, a sampler's ideal distribution)."""
    inputs = {ref: _value(ref, bodies, run_dir) for ref in written.references()}
    centre = {ref: v for ref, (v, _, _, _) in inputs.items()}
    value = compute(written.tree, centre)
    exacts = {ref: e for ref, (_, _, e, _) in inputs.items()}
    exact = None if None in exacts.values() else compute(written.tree, exacts)  # type: ignore[arg-type]
    if any(sigma is None for _, sigma, _, _ in inputs.values()):
        return value, None, exact
    slopes = gradient(written.tree, centre)
    if slopes is None:
        return value, None, exact
    variance = sum((slopes.get(ref, 0.0) * (sigma or 0.0)) ** 2 for ref, (_, sigma, _, _) in inputs.items())
    # Outcomes of one register in one parameter set are counted from the same shots: multinomial, each pair's
    # covariance -p_a p_b / N. Taken as independent, P(0…0) + P(1…1) of a GHZ state had σ 0.022 in 1,000 shots
    # where it has none (the two sum to 1), and a difference of two outcomes too small a σ.
    shared: dict[tuple[str, ...], list[tuple[tuple[str, ...], float, int]]] = {}
    for ref, (p, _, _, shots) in inputs.items():
        if shots:
            shared.setdefault((ref[0], ref[1], ref[3] if len(ref) == 4 else "#0"), []).append((ref, p, shots))
    for outcomes in shared.values():
        for k, (a, pa, shots) in enumerate(outcomes):
            for b, pb, _ in outcomes[k + 1 :]:
                variance -= 2 * slopes.get(a, 0.0) * slopes.get(b, 0.0) * pa * pb / shots
    return value, math.sqrt(max(variance, 0.0)), exact  # max: rounding, where the terms cancel to zero


def _value(
    ref: tuple[str, ...], bodies: Mapping[str, JobFile], run_dir: Path | None
) -> tuple[float, float | None, float | None, int]:
    """(value, standard error, exact value, shots): shots for an outcome's probability, whose covariance with the
    register's other outcomes _computed counts; 0 for any other value."""
    job = ref[0]
    body = bodies.get(job)
    if body is None:
        raise DerivedError(f"job '{job}' has no result in this run")
    if len(ref) in (3, 4) and not ref[2].startswith("#") and ("counts" in body or "points" in body):
        return _probability(ref, body)
    readings = job_readings(run_dir, body)
    if len(ref) == 1:
        chosen = [r for r in readings if r.key.startswith("min <")]
    elif "rungs" in body and "." in ref[1]:  # a ladder's rung: climb.zne.zz, climb.zne.zz[1]
        rung, _, observable = ref[1].partition(".")
        index = int(ref[2][1:]) if len(ref) == 3 and ref[2].startswith("#") else 0
        chosen = [r for r in readings if r.key == f"{rung} <{observable}>" and r.index == index]
    else:
        index = int(ref[2][1:]) if len(ref) == 3 and ref[2].startswith("#") else 0
        chosen = [r for r in readings if r.key == f"<{ref[1]}>" and r.index == index and not r.at]
        if not chosen:  # a sweep's: its points in order, as its CSV lists them (scan.m[2], the third point's <m>)
            chosen = [r for r in readings if r.key == f"<{ref[1]}>" and r.at][index : index + 1]
    if not chosen:
        raise DerivedError(f"'{written(ref)}' names no value of job '{job}'")
    return chosen[0].value, chosen[0].stderr, chosen[0].exact, 0


def _probability(ref: tuple[str, ...], body: JobFile) -> tuple[float, float, float | None, int]:
    """An outcome's probability in a sampler's parameter set (or sweep point), its binomial standard error, its ideal
    probability and the shots it was counted in."""
    job, register, outcome = ref[:3]
    index = int(ref[3][1:]) if len(ref) == 4 else 0
    ideal = None
    if "counts" in body:
        sets = body["counts"].get(register)
        if not sets:
            raise DerivedError(f"job '{job}' has no register '{register}'")
        counts = nth(sets, index)
        ideal = nth((body.get("ideal") or {}).get(register), index)
    else:  # a sweep: each point holds its counts
        point: object = nth(body["points"], index)
        held = point.get("counts") if isinstance(point, Mapping) else None
        counts = held.get(register) if isinstance(held, Mapping) else None
        if isinstance(point, Mapping) and counts is None:
            raise DerivedError(f"job '{job}' has no register '{register}'")
    if not isinstance(counts, Mapping):
        raise DerivedError(f"'{written(ref)}' names no value of job '{job}': it has no parameter set or point {index}")
    if not outcome or set(outcome) - {"0", "1"}:  # validate refuses it; a stored spec is read as it was written
        raise DerivedError(f"'{outcome}' is not an outcome: a register's bits as 0s and 1s")
    width = len(next(iter(counts), outcome))  # every key of one register's counts is as wide as the register
    if len(outcome) != width:
        raise DerivedError(f"'{outcome}' has {len(outcome)} bits; register '{register}' of job '{job}' has {width}")
    shots = sum(counts.values())
    if not shots:
        raise DerivedError(f"job '{job}' counted no shots in register '{register}'")
    p = counts.get(outcome, 0) / shots
    exact = number(ideal.get(outcome, 0.0)) if isinstance(ideal, Mapping) else None
    return p, math.sqrt(p * (1 - p) / shots), exact, shots  # a binomial proportion's standard error


def of_run(spec: object, bodies: Mapping[str, JobFile], run_dir: Path | None = None) -> list[tuple[str, str]]:
    """Each derived value of a stored run as a line's text: "S = 2.81 ± 0.03", or why it cannot be computed."""
    block = spec.get("derived") if isinstance(spec, dict) else None
    computed = evaluate_block(block, bodies, run_dir) if isinstance(block, dict) else {}
    return [
        (name, f"cannot be computed: {found}" if isinstance(found, DerivedError) else value_text(*found))
        for name, found in computed.items()
    ]


def derived_line(name: str, text: str) -> str:
    """ "derived: S = 2.81 ± 0.03", or "derived: S cannot be computed: ...", as the text views print a value."""
    return f"derived: {name} {text}" if text.startswith("cannot") else f"derived: {name} = {text}"


def value_text(value: float, sigma: float | None, exact: object) -> str:
    """ "2.81 ± 0.03 (exact 2.83, -0.7σ)", or "(σ unknown)" where no standard error propagates."""
    if sigma is None:
        return f"{value:.6g} (σ unknown)"
    return f"{value:.6g} ± {sigma:.2g}{against(value, sigma, exact)}"


def readings_of(spec: object, bodies: Mapping[str, JobFile], run_dir: Path | None = None) -> list[Reading]:
    """The run's derived values as readings (job "derived"), so views draw them as any value: a multirun group's
    figures plot each against the swept keys. A value that cannot be computed is left out."""
    block = spec.get("derived") if isinstance(spec, dict) else None
    computed = evaluate_block(block, bodies, run_dir) if isinstance(block, dict) else {}
    return [
        Reading("derived", name, 0, *found)
        for name, found in computed.items()
        if not isinstance(found, DerivedError) and math.isfinite(found[0])
    ]


DERIVED_FILE = "derived.json"
MAX_DERIVED_BYTES = 1 << 20  # a derived: block is at most a few hundred short expressions


def record(run_dir: Path, block: Mapping[str, str], bodies: Mapping[str, JobFile]) -> None:
    """derived.json: each derived value of a completed run, with its expression, standard error and exact value (or
    why it cannot be computed), so a script reads them as it reads the job files."""
    if block:
        write_json(run_dir / DERIVED_FILE, entries(block, bodies, run_dir))


def entries(block: Mapping[str, object], bodies: Mapping[str, JobFile], run_dir: Path) -> dict[str, dict[str, object]]:
    """Each value of the block as derived.json holds it: {expression, value, stderr, exact}, or {expression, error}."""
    out: dict[str, dict[str, object]] = {}
    for name, found in evaluate_block(block, bodies, run_dir).items():
        if isinstance(found, DerivedError):
            out[name] = {"expression": str(block[name]), "error": str(found)}
        else:
            out[name] = {"expression": str(block[name]), "value": found[0], "stderr": found[1], "exact": found[2]}
    return out


def values_of(run_dir: Path, bodies: Mapping[str, JobFile]) -> dict[str, dict[str, object]]:
    """The run's derived values as derived.json holds them; where the run wrote none (it has not completed), computed
    from the jobs it finished (`bodies`), a value that reads an unfinished one giving its error."""
    if stored := _stored(run_dir):
        return stored
    spec = stored_spec(run_dir)
    block = spec.get("derived") if isinstance(spec, dict) else None
    return entries(block, bodies, run_dir) if isinstance(block, dict) and block else {}


def recorded(run_dir: Path) -> list[tuple[str, str]]:
    """Each derived value derived.json holds, as of_run words it: what a run prints as it ends, without reading
    its jobs again; nothing where the run recorded none (no derived: block, or the run did not complete)."""
    out = []
    for name, entry in _stored(run_dir).items():
        value, sigma = (entry.get(key) for key in ("value", "stderr"))
        if isinstance(value, int | float) and (sigma is None or isinstance(sigma, int | float)):
            out.append((name, value_text(float(value), sigma, entry.get("exact"))))
        elif isinstance(entry.get("error"), str):
            out.append((name, f"cannot be computed: {entry['error']}"))
    return out


def failures(run_dir: Path) -> dict[str, str | None]:
    """Each derived value derived.json holds, in the spec's order, and why it could not be computed (None: it was)."""
    return {
        name: error if isinstance(error := entry.get("error"), str) else None
        for name, entry in _stored(run_dir).items()
    }


def headlines(run_dir: Path) -> dict[str, Headline]:
    """The derived values derived.json holds as `qrun list` columns (derived.S), in the numbers a headline has."""
    out: dict[str, Headline] = {}
    for name, entry in _stored(run_dir).items():
        value = number(entry.get("value"))
        if value is not None:  # as a job's headline: a σ or exact value it has not is None
            out[f"derived.{name}"] = {
                "value": value,
                "stderr": number(entry.get("stderr")),
                "exact": number(entry.get("exact")),
            }
    return out


def _stored(run_dir: Path) -> dict[str, dict[str, object]]:
    """derived.json's entries that are objects; none where it is missing or damaged (a view still shows the run)."""
    if not os.path.lexists(os.path.join(run_dir, DERIVED_FILE)):  # most runs have none: `qrun list` asks each
        return {}
    try:
        stored = read_json(run_dir, DERIVED_FILE, MAX_DERIVED_BYTES, missing_ok=True)
    except RunFolderError:
        return {}
    items = stored.items() if isinstance(stored, dict) else []
    return {str(name): entry for name, entry in items if isinstance(entry, dict)}


def stored_spec(run_dir: Path) -> Yaml:
    """The run's stored spec, for its derived: block; None where it cannot be read (a view still shows the run), or
    where it has no derived: key at the top (a 10,000-job spec is seconds of parsing for nothing)."""
    try:
        text = read_spec_text(run_dir)  # read once: searched, then parsed only where it has the block
        return read_spec(run_dir, text) if re.search(r"(?m)^derived\s*:", text) else None
    except RunFolderError:
        return None
