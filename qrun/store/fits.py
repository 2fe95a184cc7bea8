"""A fitted derived value: scipy's least squares over the spec's model, weighted by the covariance its y values
propagate from the results they read (two y values that read one result are not independent)."""

from __future__ import annotations

import ast
import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DerivedError
from ..model.fit import MAX_POINTS, Fit, too_few
from ..model.readings import number
from .expressions import Block, Ref, Written, compute, gradient, indexed, parse, walk, written
from .propagate import Expansion, FitInputs, Input, covariance_matrix, linearized

if TYPE_CHECKING:
    import numpy as np

    from ..model.jobfile import JobFile

VARIABLE = "x"
# The model's terms times its points: what one pass over the curve costs. A fit of 1,000 points through a model of 100
# terms is past any curve a lab fits.
MAX_TERMS = 100_000
# ...times the solver's calls (a Jacobian counted as three passes): the work a fit may take, so one that does not
# converge stops at the bound rather than running on (RESULTS.md, "Fitted derived values")
MAX_WORK = 4_000_000
# (value, standard error, exact value), as any derived value's, then what derived.json adds: every parameter's value
# and standard error, whether the y values' covariance weighed the fit, and its chi^2 per degree of freedom
Fitted = tuple[float, float | None, float | None, dict[str, object]]


def as_fit(entry: object) -> Fit | None:
    """The fit a derived: entry writes (a mapping, or the model's Fit); None for an expression."""
    if isinstance(entry, Fit):
        return entry
    return Fit.of(entry) if isinstance(entry, Mapping) else None


def model_of(fit: Fit) -> ast.expr:
    """The model's tree, reading only x and the parameters `start` names."""
    if VARIABLE in fit.start:
        raise DerivedError(f"'{VARIABLE}' is the model's variable; start names its parameters")
    tree = parse(fit.model)
    terms = sum(1 for _ in ast.walk(tree))
    if terms * len(fit.x) > MAX_TERMS:
        raise DerivedError(
            f"a model of {terms} terms at {len(fit.x):,} points is more than qrun fits ({MAX_TERMS:,} terms over all "
            "points): fewer points, or a shorter model"
        )
    for ref in walk(tree):
        if ref and (len(ref) != 1 or ref[0] not in (VARIABLE, *fit.start)):
            raise DerivedError(
                f"the model reads '{written(ref)}', which is neither {VARIABLE} nor a parameter of start "
                f"({', '.join(fit.start)})"
            )
    return tree


def ys_of(fit: Fit, values: Block, trees: list[ast.expr] | None = None) -> list[Written]:
    """Each y with the block's derived values it names written out (`trees`: its trees, where parsed already)."""
    out = []
    for k, tree in enumerate(trees if trees is not None else _y_trees(fit, values)):
        try:
            out.append(values.expression(tree))
        except DerivedError as e:
            raise DerivedError(f"y[{k}]: {e}") from None
    return out


def _y_trees(fit: Fit, values: Block) -> list[ast.expr]:
    """Each y's tree: its own text's, or (`each`) the one text's read at each x's index."""
    if not fit.each:
        out = []
        for k, text in enumerate(fit.y):
            try:
                out.append(parse(text, values.known))
            except DerivedError as e:
                raise DerivedError(f"y[{k}]: {e}") from None
        return out
    try:
        tree = parse(fit.y[0], values.known)
    except DerivedError as e:
        raise DerivedError(f"y: {e}") from None
    return [indexed(tree, i) for i in range(len(fit.x) or 1)]  # x read from the run: validate reads the first


def references(fit: Fit, values: Block, own: bool = False) -> list[Ref]:
    """The results the fit's y values read, each once (own: only those their own text reads, as validate checks; else
    the job its x is read from too)."""
    model_of(fit)
    trees = _y_trees(fit, values)  # parsed once: written out below, and walked as written for validate
    ys = ys_of(fit, values, trees)
    if not own:
        job: list[Ref] = [(fit.x_job[0],)] if fit.x_from else []
        return list(dict.fromkeys([ref for y in ys for ref in y.references()] + job))
    out = [r for tree in trees for r in walk(tree) if r and not (len(r) == 1 and values.is_derived(r[0]))]
    return list(dict.fromkeys(out))


def fitted(
    fit: Fit, values: Block, bodies: Mapping[str, JobFile], run_dir: Path | None, others: FitInputs | None = None
) -> tuple[Fitted, Expansion]:
    """The fit's parameter `value`, its standard error from the fit's covariance, and the same fit to the y values'
    exact ones where every y has one and they determine the parameters (a noisy device's T1 curve has none: its
    exact <Z> never decays); and the fit as an input to what reads it (`others`: the block's fits its y values
    read, computed before it)."""
    import numpy as np

    fit = resolved(fit, bodies)
    tree = model_of(fit)
    linear = [linearized(y, bodies, run_dir, others) for y in ys_of(fit, values)]
    y = np.array([v for v, _, _, _ in linear])
    inputs: dict[Ref, Input] = {ref: found for _, _, _, each in linear for ref, found in each.items()}
    slopes = [s for _, s, _, _ in linear if s is not None]
    weights = cov = None
    if len(slopes) == len(linear):  # every y has a standard error
        cov = covariance_matrix(slopes, inputs)
        if _positive_definite(cov):
            weights = cov
    names = list(fit.start)
    if len(y) < len(names):  # x read from a job's rows, which a file may hold: known only now
        raise DerivedError(too_few(len(y), names, "x has"))
    params, pcov = _least_squares(tree, fit, y, weights, [fit.start[n] for n in names])
    jac = _jacobian(tree, fit, names, params)  # at the optimum: whether it pins each parameter, and the chain below
    loose = _undetermined(jac, names, params)
    if loose is not None:
        raise DerivedError(
            f"the points do not determine {loose}: the model fits them as well over a range of its values (the fit "
            f"drifted to {loose} = {params[names.index(loose)]:.3g})"
        )
    sigmas = [math.sqrt(v) if math.isfinite(v) and v >= 0 else None for v in np.diag(pcov)]
    found = {n: (float(p), s) for n, p, s in zip(names, params, sigmas)}
    reduced = None
    if weights is not None and len(y) > len(names):
        r = y - _curve(tree, fit.x, names, params)
        reduced = float(r @ np.linalg.solve(weights, r)) / (len(y) - len(names))
    exacts = [e for _, _, e, _ in linear]
    exact = _exact(tree, fit, exacts, params) if all(e is not None for e in exacts) else None
    value, sigma = found[fit.value]
    chain = None
    if weights is not None:  # the value's slope in each result, through the y values: (J'WJ)^-1 J'W dy/dr
        row = (pcov @ np.linalg.solve(weights, jac).T)[names.index(fit.value)]
        chain = _through(row, slopes)
    spread = [math.sqrt(max(float(v), 0.0)) for v in np.diag(cov)] if cov is not None else None
    extras: dict[str, object] = {
        "model": fit.model,
        # what a figure of the fit draws (views/fitplots), so it reads the stored run alone
        "points": {
            "x": list(fit.x),
            "y": [float(v) for v in y],
            "stderr": spread,
            "exact": exacts if all(e is not None for e in exacts) else None,
        },
        "parameter": fit.value,
        **({"x": fit.x_from} if fit.x_from else {}),  # what x was read from: a figure's axis
        **({"y": fit.y[0]} if fit.each else {}),  # and the one expression y was read at each x's index
        "parameters": {n: {"value": v, "stderr": s} for n, (v, s) in found.items()},
        "weighted": weights is not None,
        "chi2_reduced": reduced,
    }
    return (value, sigma, exact, extras), (value, exact, chain, inputs)


def resolved(fit: Fit, bodies: Mapping[str, JobFile]) -> Fit:
    """The fit with its x read from the run where `x: job.parameter` names them: the parameter's value in each of
    the job's parameter sets, or the swept variable's at each of its sweep's points (those of its first observable,
    in the order `job.observable[i]` reads them)."""
    if not fit.x_from or fit.x:
        return fit
    job, name = fit.x_job
    body = bodies.get(job)
    if body is None:
        raise DerivedError(f"x: job '{job}' has no result in this run")
    if "points_file" in body:  # a sweep past 10,000 points streams them: past what a fit takes
        raise DerivedError(f"x: job '{job}' streamed its sweep's points, more than a fit takes ({MAX_POINTS:,})")
    xs = _swept(body, name) if "points" in body else _column(body, name)
    if len(xs) < 2:
        raise DerivedError(f"x: {fit.x_from} has {len(xs)} value; a fit needs at least 2 points")
    if len(xs) > MAX_POINTS:
        raise DerivedError(f"x: {fit.x_from} has {len(xs):,} values; a fit takes at most {MAX_POINTS:,} points")
    if not fit.each and len(xs) != len(fit.y):
        raise DerivedError(f"x: {fit.x_from} has {len(xs)} values and y {len(fit.y)}; they pair one to one")
    return dataclasses.replace(fit, x=tuple(xs))


def _column(body: JobFile, name: str) -> list[float]:
    """A parameter's value in each of a job's parameter sets."""
    names = [str(n) for n in body.get("parameters") or []]
    if name not in names:
        said = f"its parameters: {', '.join(names)}" if names else "its circuit has none"
        raise DerivedError(f"x: job '{body.get('job')}' has no parameter '{name}' ({said})")
    k = names.index(name)
    out = [row[k] if isinstance(row, list) and k < len(row) else None for row in body.get("parameter_values") or []]
    return _numbers(out, body, name)


def _swept(body: JobFile, name: str) -> list[float]:
    """A swept variable's value at each of a sweep's points, those of its first observable where it has several
    (each observable's points run over the same values in a grid; in a zip they may not, and that is refused)."""
    variables = [str(v) for v in (body.get("sweep") or {}).get("variables", [])]
    if name not in variables or name == "observable":
        said = ", ".join(v for v in variables if v != "observable")
        raise DerivedError(f"x: job '{body.get('job')}' sweeps no '{name}' (it sweeps {said or 'no number'})")
    each: dict[str, list[object]] = {}
    for point in body.get("points") or []:
        if isinstance(point, Mapping):
            each.setdefault(str(point.get("observable", "")), []).append(point.get(name))
    runs = list(each.values())
    if any(other != runs[0] for other in runs[1:]):
        raise DerivedError(
            f"x: job '{body.get('job')}' sweeps '{name}' over other values for each observable: write x out"
        )
    return _numbers(runs[0] if runs else [], body, name)


def _numbers(values: Sequence[object], body: JobFile, name: str) -> list[float]:
    out = [number(v) for v in values]
    if any(v is None for v in out):
        raise DerivedError(f"x: job '{body.get('job')}' has a value of '{name}' that is not a number")
    return [v for v in out if v is not None]


def _exact(tree: ast.expr, fit: Fit, exacts: list[float | None], start: np.ndarray) -> float | None:
    """The same fit to the exact values, where they pin every parameter down."""
    import numpy as np

    names = list(fit.start)
    try:
        at, cov = _least_squares(tree, fit, np.array(exacts, dtype=float), None, list(start))
    except DerivedError:
        return None
    if not np.isfinite(cov).all() or _undetermined(_jacobian(tree, fit, names, at), names, at) is not None:
        return None
    return float(at[names.index(fit.value)])


def _through(row: np.ndarray, slopes: list[dict[Ref, float]]) -> dict[Ref, float]:
    """The value's slope in each result: its slope in each y (`row`) times the y's in the result."""
    chain: dict[Ref, float] = {}
    for k, each in enumerate(slopes):
        for ref, slope in each.items():
            chain[ref] = chain.get(ref, 0.0) + float(row[k]) * slope
    return chain


def _least_squares(
    tree: ast.expr, fit: Fit, y: np.ndarray, weights: np.ndarray | None, start: list[float]
) -> tuple[np.ndarray, np.ndarray]:
    """scipy's curve_fit (Levenberg-Marquardt) from `start`: the parameters and their covariance, infinite where
    the points do not determine them. Weighted, the covariance is the y values' own (absolute); unweighted, scaled
    by the residuals."""
    import numpy as np
    from scipy.optimize import OptimizeWarning, curve_fit

    names = list(fit.start)
    x = np.array(fit.x)
    try:
        first = _curve(tree, fit.x, names, start)
    except DerivedError as e:
        raise DerivedError(f"the model cannot be computed at the start values: {e}") from None
    if not np.isfinite(first).all():
        raise DerivedError("the model cannot be computed at the start values")

    def model(_: np.ndarray, *p: float) -> np.ndarray:
        try:
            return _curve(tree, fit.x, names, p)
        except DerivedError:  # a step the solver tries past where the model is defined: not this way
            return np.full(len(fit.x), np.nan)

    def slopes(_: np.ndarray, *p: float) -> np.ndarray:
        return np.array([_slopes(tree, xi, names, p) for xi in fit.x])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)  # an infinite covariance is said as "σ unknown"
        try:
            size = sum(1 for _ in ast.walk(tree)) * len(fit.x)
            params, pcov = curve_fit(
                model,
                x,
                y,
                p0=start,
                sigma=weights,
                absolute_sigma=weights is not None,
                jac=slopes,
                maxfev=max(10, MAX_WORK // (4 * size)),
            )
        except (RuntimeError, ValueError) as e:  # MINPACK's "Optimal parameters not found: ..."
            raise DerivedError(f"the fit did not converge from start {_start_text(names, start)}: {e}") from None
    if not np.isfinite(params).all() or not np.isfinite(_curve(tree, fit.x, names, params)).all():
        raise DerivedError(f"the fit did not converge from start {_start_text(names, start)}")
    return params, pcov


def _curve(tree: ast.expr, xs: tuple[float, ...], names: list[str], params: Sequence[float] | np.ndarray) -> np.ndarray:
    import numpy as np

    at: dict[Ref, float] = {(n,): float(p) for n, p in zip(names, params)}
    return np.array([compute(tree, {**at, (VARIABLE,): xi}) for xi in xs])


def _slopes(tree: ast.expr, xi: float, names: list[str], params: tuple[float, ...]) -> list[float]:
    at: dict[Ref, float] = {(n,): float(p) for n, p in zip(names, params)}
    try:
        found = gradient(tree, {**at, (VARIABLE,): xi})
    except DerivedError:
        found = None
    return [found.get((n,), 0.0) if found is not None else math.nan for n in names]


def _jacobian(tree: ast.expr, fit: Fit, names: list[str], params: np.ndarray) -> np.ndarray:
    """The model's slope in each parameter at each x, at `params`."""
    import numpy as np

    return np.array([_slopes(tree, xi, names, tuple(params)) for xi in fit.x])


def _undetermined(jac: np.ndarray, names: list[str], params: np.ndarray) -> str | None:
    """The parameter the points do not pin down at `params`, or None where they pin every one: values that never
    decay fit a * exp(-x / T) as well with T = 10^19 as with any T. Each parameter's slope is scaled by its size, so
    a T that only drifted off is one the points say nothing about."""
    import numpy as np

    scaled = jac * np.where(params == 0, 1.0, abs(params))
    if not np.isfinite(scaled).all():
        return names[0]
    _, spread, directions = np.linalg.svd(scaled, full_matrices=False)
    if spread[0] > 0 and spread[-1] > 1e-8 * spread[0]:
        return None
    return names[int(np.argmax(abs(directions[-1])))]  # the parameter the flat direction moves most


def _positive_definite(matrix: np.ndarray) -> bool:
    """Whether the y values' covariance can weigh a fit: not where one has no spread (a sampler's outcome counted
    in every shot) or two are the same value."""
    import numpy as np

    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return bool(np.isfinite(matrix).all())


def _start_text(names: list[str], start: list[float]) -> str:
    return "{" + ", ".join(f"{n}: {float(v):g}" for n, v in zip(names, start)) + "}"
