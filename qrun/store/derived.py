"""Derived values: arithmetic over a run's results, as a spec's `derived:` block writes it, with its standard error.

`S: "chsh.zz - chsh.zx + chsh.xz + chsh.xx"` is read with Python's own parser and evaluated by walking the tree
over an allow-list of nodes: numbers, + - * / **, unary minus, a few functions, and references to results. No
eval, no attribute of any Python object, no name outside the run's jobs and its other derived values."""

from __future__ import annotations

import ast
import math
import os
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from ..errors import DerivedError, RunFolderError
from ..jobs.kind import against, nth
from ..jobs.ladder import ORDER as RUNGS
from ..model.jobfile import Headline, JobFile
from ..model.raw import Yaml
from ..model.readings import Reading, number
from .fsio import write_json
from .reader import load, read_spec, read_spec_text
from .readings import job_readings
from .runfolder import read_json

MAX_CHARS = 500
# A derived value named in another is written out in its place; these bound what that can grow to (`b: a + a`,
# `c: b + b`, ... doubles at each step) and how deep the tree gets (the walks below recurse once a level).
MAX_NODES = 10_000
MAX_NESTING = 600
FUNCTIONS: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "cos": math.cos,
    "sin": math.sin,
}
_BINARY = {ast.Add: float.__add__, ast.Sub: float.__sub__, ast.Mult: float.__mul__, ast.Div: float.__truediv__}


def references(
    text: str, block: Mapping[str, object] | None = None, jobs: Collection[str] = (), name: str | None = None
) -> list[tuple[str, ...]]:
    """The results an expression uses, each as (job,), (job, observable[, index]) or (job, register, outcome); the
    derived values of `block` it names (a bare name that is no job's) are written out first, so their results are
    listed instead."""
    return [ref for ref in _walk(expanded(text, block or {}, jobs, name)) if ref]


def expanded(text: str, block: Mapping[str, object], jobs: Collection[str], name: str | None = None) -> ast.expr:
    """The expression (the derived value `name`'s, if it has one) with each derived value it names written out in its
    place, so an error propagates from the job results themselves: `a + b` of two values that read the same
    result are not independent. A job's name means the job (its optimum), as it did before derived values could
    be named."""
    nodes = [0]

    def inline(node: ast.expr, chain: tuple[str, ...], depth: int) -> ast.expr:
        nodes[0] += 1
        if nodes[0] > MAX_NODES:
            raise DerivedError(f"with the derived values it names written out, it has more than {MAX_NODES:,} terms")
        if depth > MAX_NESTING:
            raise DerivedError(f"with the derived values it names written out, it nests deeper than {MAX_NESTING}")
        if isinstance(node, ast.Name) and node.id not in jobs and node.id in block:
            if node.id in chain:
                raise DerivedError(f"'{node.id}' is defined by itself: {' -> '.join((*chain, node.id))}")
            return inline(_parse(str(block[node.id])), (*chain, node.id), depth + 1)
        if isinstance(node, ast.BinOp):
            return ast.BinOp(inline(node.left, chain, depth + 1), node.op, inline(node.right, chain, depth + 1))
        if isinstance(node, ast.UnaryOp):
            return ast.UnaryOp(node.op, inline(node.operand, chain, depth + 1))
        if isinstance(node, ast.Call):
            return ast.Call(node.func, [inline(a, chain, depth + 1) for a in node.args], node.keywords)
        return node

    return inline(_parse(text), (name,) if name else (), 0)


def _parse(text: str) -> ast.expr:
    if len(text) > MAX_CHARS:
        raise DerivedError(f"longer than {MAX_CHARS} characters")
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError as e:
        raise DerivedError(f"not an expression qrun reads ({e.msg})") from None


def _walk(node: ast.expr) -> list[tuple[str, ...]]:
    """Every reference in the tree, checking each node against the allow-list on the way."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return [()]
    if isinstance(node, ast.BinOp) and (type(node.op) in _BINARY or isinstance(node.op, ast.Pow)):
        return _walk(node.left) + _walk(node.right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _walk(node.operand)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        if len(node.args) != 1 or node.keywords:
            raise DerivedError(f"{node.func.id}() takes one argument")
        return _walk(node.args[0])
    ref = _reference(node)
    if ref is None:
        raise DerivedError(
            f"'{ast.unparse(node)}' is not a number, an operation, a function ({', '.join(FUNCTIONS)}) or a result"
        )
    return [ref]


def written(ref: tuple[str, ...]) -> str:
    """A reference as an expression writes it: est.zz[2], samp.meas["01"][1], climb.zne.zz."""
    text = ".".join(ref[:2])
    for part in ref[2:]:
        text += f"[{part[1:]}]" if part.startswith("#") else f'["{part}"]'
    return text


def _reference(node: ast.expr) -> tuple[str, ...] | None:
    """job, job.observable, job.observable[i], job.register["0101"], job.register["0101"][i], ladder.rung.observable
    (as (ladder, "rung.observable"), the name `qrun list` and `qrun diff` give that value). An index [i] is the
    i-th parameter set, or the i-th point of a sweep, kept as "#i"."""
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return (node.value.id, node.attr)
    # a rung's name in the middle, and nothing else: `e.zz.__class__` is no result
    if (
        isinstance(node, ast.Attribute)
        and isinstance(inner := node.value, ast.Attribute)
        and isinstance(inner.value, ast.Name)
        and inner.attr in RUNGS
    ):
        return (inner.value.id, f"{inner.attr}.{node.attr}")
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and isinstance(node.slice, ast.Constant)
    ):
        base = _reference(node.value)
        key = node.slice.value
        if base is not None and isinstance(key, (int, str)) and not isinstance(key, bool):
            return (*base, str(key) if isinstance(key, str) else f"#{key}")
    if (  # an outcome's probability in a sampler's i-th parameter set or sweep point
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and type(node.slice.value) is int
    ):
        base = _reference(node.value)
        if base is not None and len(base) == 3 and not base[2].startswith("#"):
            return (*base, f"#{node.slice.value}")
    return None


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
    value, sigma, _ = evaluate_all(text, bodies, run_dir, block, name)
    return value, sigma


def evaluate_all(
    text: str,
    bodies: Mapping[str, JobFile],
    run_dir: Path | None = None,
    block: Mapping[str, object] | None = None,
    name: str | None = None,
) -> tuple[float, float | None, float | None]:
    """(value, standard error, exact value): the exact one is the expression over its inputs' exact values, where
    every input has one (a statevector's, a stated number's, a sampler's ideal distribution)."""
    tree = expanded(text, block or {}, bodies, name)
    inputs: dict[tuple[str, ...], tuple[float, float | None, float | None]] = {}
    for ref in (r for r in _walk(tree) if r):  # the tree parsed once, checked and read in the same walk
        inputs[ref] = _value(ref, bodies, run_dir)

    def compute(values: dict[tuple[str, ...], float]) -> float:
        return _compute(tree, values)

    centre = {ref: v for ref, (v, _, _) in inputs.items()}
    value = compute(centre)
    exacts = {ref: e for ref, (_, _, e) in inputs.items()}
    exact = compute({ref: e for ref, e in exacts.items() if e is not None}) if None not in exacts.values() else None
    variance = 0.0
    for ref, (v, sigma, _) in inputs.items():
        if sigma is None:
            return value, None, exact
        if sigma == 0:
            continue
        step = sigma * 1e-3
        slope = (compute({**centre, ref: v + step}) - compute({**centre, ref: v - step})) / (2 * step)
        variance += (slope * sigma) ** 2
    return value, math.sqrt(variance), exact


def _compute(node: ast.expr, values: dict[tuple[str, ...], float]) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.BinOp):
        left, right = _compute(node.left, values), _compute(node.right, values)
        try:
            result = left**right if isinstance(node.op, ast.Pow) else _BINARY[type(node.op)](left, right)
        except ZeroDivisionError as e:
            raise DerivedError(f"'{ast.unparse(node)}': {e}") from None
        except OverflowError:  # float ** says "(34, 'Numerical result out of range')"
            raise DerivedError(f"'{ast.unparse(node)}': too large a number") from None
        if isinstance(result, complex):  # Python's (-8.0) ** (1 / 3): a complex number, which no value is
            raise DerivedError(f"'{ast.unparse(node)}': a negative number to a fractional power is not a real number")
        return result
    if isinstance(node, ast.UnaryOp):
        operand = _compute(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        try:
            return float(FUNCTIONS[node.func.id](_compute(node.args[0], values)))  # type: ignore[attr-defined]
        except ValueError as e:
            raise DerivedError(f"'{ast.unparse(node)}': {e}") from None
        except OverflowError:
            raise DerivedError(f"'{ast.unparse(node)}': too large a number") from None
    ref = _reference(node)
    assert ref is not None  # _walk allowed nothing else
    return values[ref]


def _value(
    ref: tuple[str, ...], bodies: Mapping[str, JobFile], run_dir: Path | None
) -> tuple[float, float | None, float | None]:
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
    return chosen[0].value, chosen[0].stderr, chosen[0].exact


def _probability(ref: tuple[str, ...], body: JobFile) -> tuple[float, float, float | None]:
    """An outcome's probability in a sampler's parameter set (or sweep point) and its binomial standard error."""
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
    shots = sum(counts.values())
    if not shots:
        raise DerivedError(f"job '{job}' counted no shots in register '{register}'")
    p = counts.get(outcome, 0) / shots
    exact = number(ideal.get(outcome, 0.0)) if isinstance(ideal, Mapping) else None
    return p, math.sqrt(p * (1 - p) / shots), exact  # a binomial proportion's standard error


def of_run(spec: object, bodies: Mapping[str, JobFile], run_dir: Path | None = None) -> list[tuple[str, str]]:
    """Each derived value of a stored run as a line's text: "S = 2.81 ± 0.03", or why it cannot be computed."""
    block = spec.get("derived") if isinstance(spec, dict) else None
    out = []
    for name, text in (block or {}).items() if isinstance(block, dict) else []:
        try:
            value, sigma, exact = evaluate_all(str(text), bodies, run_dir, block, str(name))
        except DerivedError as e:
            out.append((name, f"cannot be computed: {e}"))
            continue
        out.append((name, value_text(value, sigma, exact)))
    return out


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
    out = []
    for name, text in (block or {}).items() if isinstance(block, dict) else []:
        try:
            value, sigma, exact = evaluate_all(str(text), bodies, run_dir, block, str(name))
        except DerivedError:
            continue
        if math.isfinite(value):
            out.append(Reading("derived", str(name), 0, value, sigma, exact))
    return out


DERIVED_FILE = "derived.json"
MAX_DERIVED_BYTES = 1 << 20  # a derived: block is at most a few hundred short expressions


def record(run_dir: Path, block: Mapping[str, str]) -> None:
    """derived.json: each derived value of a completed run, with its expression, standard error and exact value (or
    why it cannot be computed), so a script reads them as it reads the job files."""
    if not block:
        return
    run = load(run_dir)
    out: dict[str, object] = {}
    for name, text in block.items():
        try:
            value, sigma, exact = evaluate_all(str(text), run.jobs, run_dir, block, str(name))
        except DerivedError as e:
            out[str(name)] = {"expression": str(text), "error": str(e)}
            continue
        out[str(name)] = {"expression": str(text), "value": value, "stderr": sigma, "exact": exact}
    write_json(run_dir / DERIVED_FILE, out)


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
