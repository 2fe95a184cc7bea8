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
from ..jobs.kind import against
from ..model.fit import Fit
from ..model.jobfile import Headline, JobFile
from ..model.raw import Yaml
from ..model.readings import Reading, number
from . import fits
from .expressions import Block, Ref, Written, own_references
from .fsio import write_json
from .propagate import Expansion, computed
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
    (validate checks each of those at its own entry, and a bad one was blamed on every value naming it); else a fit a
    value reads stands for the results the fit reads."""
    block = {str(k): v for k, v in block.items()}  # a stored spec's keys are whatever its file holds
    values = Block(block, jobs)
    out: dict[str, list[tuple[str, ...]] | DerivedError] = {}
    ordered = set(values.order)
    for name in [*values.order, *(n for n in block if n not in ordered)]:  # a fit before what reads it
        try:
            if isinstance(failed := values.done.get(name), DerivedError):  # it names itself, say
                raise failed
            if name in values.fits:
                found = fits.references(_fit(block[name]), values, own)
            else:
                found = own_references(name, values) if own else values.value(name).references()
            out[name] = found if own else _through_fits(found, values, out)
        except DerivedError as e:
            out[name] = e
    return {name: out[name] for name in block}


def _through_fits(refs: list[Ref], values: Block, done: Mapping[str, list[Ref] | DerivedError]) -> list[Ref]:
    """The results, a fit among them replaced by the results it reads."""
    out: list[Ref] = []
    for ref in refs:
        if len(ref) == 1 and ref[0] in values.fits and values.is_derived(ref[0]):
            found = done.get(ref[0])
            if not isinstance(found, list):
                raise DerivedError(f"it names '{ref[0]}', which cannot be computed: {found}")
            out += found
        else:
            out.append(ref)
    return list(dict.fromkeys(out))


def _fit(entry: object) -> Fit:
    fit = fits.as_fit(entry)
    assert fit is not None  # Block took the entry as a fit: a mapping, or the model's Fit
    return fit


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
    values = Block(block or {}, bodies)
    through = _evaluated(block or {}, bodies, run_dir)[1] if values.fits else {}
    value, sigma, _ = computed(_written(text, values, name), bodies, run_dir, through)
    return value, sigma


def evaluate_block(
    block: Mapping[str, object],
    bodies: Mapping[str, JobFile],
    run_dir: Path | None = None,
    jobs: Collection[str] | None = None,
) -> dict[str, tuple[float, float | None, float | None] | DerivedError]:
    """Each value of a derived: block, or why it cannot be computed; the block written out once for all of them."""
    return {
        name: found if isinstance(found, DerivedError) else found[:3]
        for name, found in evaluated(block, bodies, run_dir, jobs).items()
    }


Computed = tuple[float, float | None, float | None] | fits.Fitted | DerivedError


def evaluated(
    block: Mapping[str, object],
    bodies: Mapping[str, JobFile],
    run_dir: Path | None,
    jobs: Collection[str] | None = None,
) -> dict[str, Computed]:
    """evaluate_block's values, a fit's with what derived.json adds (its model, points, parameters, weights and
    chi^2)."""
    return _evaluated(block, bodies, run_dir, jobs)[0]


def _evaluated(
    block: Mapping[str, object],
    bodies: Mapping[str, JobFile],
    run_dir: Path | None,
    jobs: Collection[str] | None = None,
) -> tuple[dict[str, Computed], dict[str, Expansion | DerivedError]]:
    """Each value in the block's order, computed in an order where each comes after the values (and fits) it reads;
    and each fit as the input an expression reading it takes. `jobs`: every job of the run, where some have no
    result (a running or interrupted run): `z-basis.meas` names the job, not `z - basis.meas`, with or without one."""
    block = {str(k): v for k, v in block.items()}  # a stored spec's keys are whatever its file holds
    values = Block(block, bodies if jobs is None else {*jobs, *bodies})
    done: dict[str, Computed] = {}
    through: dict[str, Expansion | DerivedError] = {}
    for name in values.order:
        try:
            if isinstance(failed := values.done.get(name), DerivedError):
                raise failed
            if name in values.fits:
                done[name], through[name] = fits.fitted(_fit(block[name]), values, bodies, run_dir, through)
            else:
                done[name] = computed(values.value(name), bodies, run_dir, through)
        except DerivedError as e:
            done[name] = e
            if name in values.fits:
                through[name] = e
    for name in block:
        if name not in done:  # a value that could not be ordered: its text did not parse, or it names itself
            failed = values.done.get(name)
            done[name] = failed if isinstance(failed, DerivedError) else DerivedError(f"'{name}' cannot be ordered")
    return {name: done[name] for name in block}, through


def shown(entry: object) -> str:
    """A derived: entry as views write it: an expression's text, or what a fit fits."""
    try:
        fit = fits.as_fit(entry)
    except DerivedError as e:
        return f"a fit that cannot be read: {e}"
    return fit.text() if fit is not None else str(entry)


def fit_text(extras: Mapping[str, object]) -> str:
    """ " (fit: a = 0.98 ± 0.004, b = 0.011 ± 0.003; χ²/dof 0.82)": the fit's other parameters, and how well it fits
    (unweighted where the y values' covariance could not weigh it)."""
    parameters = extras.get("parameters")
    shown_ = []
    for name, found in parameters.items() if isinstance(parameters, Mapping) else []:
        if name == extras.get("parameter"):
            continue  # the value itself, which the line gives first
        value, sigma = (number(found.get(k)) if isinstance(found, Mapping) else None for k in ("value", "stderr"))
        if value is not None:
            shown_.append(f"{name} = {value:.6g}" + (f" ± {sigma:.2g}" if sigma is not None else " (σ unknown)"))
    chi2 = number(extras.get("chi2_reduced"))
    how = "fit" if extras.get("weighted") else "fit, unweighted"
    return (
        f" ({how}"
        + (f": {', '.join(shown_)}" if shown_ else "")
        + (f"; χ²/dof {chi2:.3g}" if chi2 is not None else "")
        + ")"
    )


def of_run(spec: object, bodies: Mapping[str, JobFile], run_dir: Path | None = None) -> list[tuple[str, str]]:
    """Each derived value of a stored run as a line's text: "S = 2.81 ± 0.03", or why it cannot be computed."""
    block = spec.get("derived") if isinstance(spec, dict) else None
    found = evaluated(block, bodies, run_dir, spec_jobs(spec)) if isinstance(block, dict) else {}
    return [(name, _text(each)) for name, each in found.items()]


def spec_jobs(spec: object) -> list[str]:
    """The job names a stored spec lists (untrusted: what is not a job's name is passed over)."""
    listed = spec.get("jobs") if isinstance(spec, dict) else None
    return [str(j["name"]) for j in listed if isinstance(j, dict) and "name" in j] if isinstance(listed, list) else []


def _text(found: tuple[float, float | None, float | None] | fits.Fitted | DerivedError) -> str:
    if isinstance(found, DerivedError):
        return f"cannot be computed: {found}"
    return value_text(*found[:3]) + (fit_text(found[3]) if len(found) > 3 else "")


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
    computed = evaluate_block(block, bodies, run_dir, spec_jobs(spec)) if isinstance(block, dict) else {}
    return [
        Reading("derived", name, 0, *found)
        for name, found in computed.items()
        if not isinstance(found, DerivedError) and math.isfinite(found[0])
    ]


DERIVED_FILE = "derived.json"
MAX_DERIVED_BYTES = 1 << 20  # a derived: block is at most a few hundred short expressions


def record(run_dir: Path, block: Mapping[str, object], bodies: Mapping[str, JobFile]) -> None:
    """derived.json: each derived value of a completed run, with its expression, standard error and exact value (or
    why it cannot be computed), so a script reads them as it reads the job files."""
    if block:
        write_json(run_dir / DERIVED_FILE, entries(block, bodies, run_dir))


def entries(block: Mapping[str, object], bodies: Mapping[str, JobFile], run_dir: Path) -> dict[str, dict[str, object]]:
    """Each value of the block as derived.json holds it: {expression, value, stderr, exact}, or {expression, error}."""
    out: dict[str, dict[str, object]] = {}
    for name, found in evaluated(block, bodies, run_dir).items():
        if isinstance(found, DerivedError):
            out[name] = {"expression": shown(block[name]), "error": str(found)}
        else:
            out[name] = {"expression": shown(block[name]), "value": found[0], "stderr": found[1], "exact": found[2]}
            out[name].update(found[3] if len(found) > 3 else {})
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
            text = value_text(float(value), sigma, entry.get("exact"))
            out.append((name, text + fit_text(entry) if "parameters" in entry else text))
        elif isinstance(entry.get("error"), str):
            out.append((name, f"cannot be computed: {entry['error']}"))
    return out


def failures(run_dir: Path) -> dict[str, str | None]:
    """Each derived value derived.json holds, in the spec's order, and why it could not be computed (None: it was)."""
    return {
        name: error if isinstance(error := entry.get("error"), str) else None
        for name, entry in _stored(run_dir).items()
    }


def fitted_curves(run_dir: Path) -> dict[str, dict[str, object]]:
    """The fits derived.json holds with the points they were fitted to (what a figure of each draws)."""
    return {name: entry for name, entry in _stored(run_dir).items() if isinstance(entry.get("points"), dict)}


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
