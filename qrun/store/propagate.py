"""A derived value's inputs, read from a run's job bodies, and its standard error propagated to first order from
theirs: the gradient over the results it reads, and their covariance (an outcome's probability shares its shots
with the register's other outcomes)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DerivedError
from ..jobs.kind import nth
from ..model.jobfile import JobFile
from ..model.readings import number
from .expressions import Ref, Written, compute, gradient, written
from .readings import job_readings

if TYPE_CHECKING:
    import numpy as np

HEAVY = "heavy"  # qv.meas["heavy"]: not an outcome, the heavy outputs' probability
XEB = "xeb"  # rc.meas["xeb"]: the linear cross-entropy fidelity
SUMMED = (HEAVY, XEB)
MAX_SUMMED_BITS = 24  # 2^24 outcomes' median: past the 20 qubits an exact distribution is computed for
# (value, standard error, exact value, shots): shots for an outcome's probability, 0 for any other value
Input = tuple[float, float | None, float | None, int]


# A fit as an input to an expression that reads it: (its value, its exact value, its slope in each result its y
# values read, or None where no standard error propagates through it, and those results)
Expansion = tuple[float, float | None, dict[Ref, float] | None, dict[Ref, Input]]
FitInputs = Mapping[str, "Expansion | DerivedError"]  # each fit of the block by name, computed before what reads it


def computed(
    written: Written, bodies: Mapping[str, JobFile], run_dir: Path | None, fitted: FitInputs | None = None
) -> tuple[float, float | None, float | None]:
    """(value, standard error, exact value): the exact one is the expression over its inputs' exact values, where
    every input has one (a statevector's, a stated number's, a sampler's ideal distribution)."""
    value, slopes, exact, inputs = linearized(written, bodies, run_dir, fitted)
    if slopes is None:
        return value, None, exact
    return value, math.sqrt(max(covariance(slopes, slopes, inputs), 0.0)), exact  # max: rounding, where terms cancel


def linearized(
    written: Written, bodies: Mapping[str, JobFile], run_dir: Path | None, fitted: FitInputs | None = None
) -> tuple[float, dict[Ref, float] | None, float | None, dict[Ref, Input]]:
    """(value, its slope in each result it reads, exact value, those results): no slopes where a result has no
    standard error or a slope is not finite. A fit it reads stands for the results the fit read: its slope in each is
    the expression's in the fit times the fit's in the result, so a value that reads a fit and one of the fit's own
    results counts their covariance."""
    fits = fitted or {}
    inputs: dict[Ref, Input] = {}
    through: dict[Ref, Expansion] = {}
    for ref in written.references():
        found = fits.get(ref[0]) if len(ref) == 1 else summed(ref, bodies) if is_summed(ref) else None
        if isinstance(found, DerivedError):
            raise DerivedError(f"it names '{ref[0]}', which cannot be computed: {found}")
        if found is not None:
            through[ref] = found
        else:
            inputs[ref] = value_of(ref, bodies, run_dir)
    centre = {ref: v for ref, (v, _, _, _) in inputs.items()} | {ref: f[0] for ref, f in through.items()}
    value = compute(written.tree, centre)
    exacts = {ref: e for ref, (_, _, e, _) in inputs.items()} | {ref: f[1] for ref, f in through.items()}
    exact = None if None in exacts.values() else compute(written.tree, exacts)  # type: ignore[arg-type]
    base = {**inputs, **{r: each for f in through.values() for r, each in f[3].items()}}
    if any(sigma is None for _, sigma, _, _ in inputs.values()) or any(f[2] is None for f in through.values()):
        return value, None, exact, base
    slopes = gradient(written.tree, centre)
    if slopes is None or not through:
        return value, slopes, exact, base
    out = {ref: s for ref, s in slopes.items() if ref not in through}
    for ref, (_, _, chain, _) in through.items():
        for r, s in (chain or {}).items():
            out[r] = out.get(r, 0.0) + slopes.get(ref, 0.0) * s
    return value, out, exact, base


def covariance(a: Mapping[Ref, float], b: Mapping[Ref, float], inputs: Mapping[Ref, Input]) -> float:
    """The covariance of two values with these slopes over these results (a value with itself: its variance)."""
    total = sum(a.get(ref, 0.0) * b.get(ref, 0.0) * (sigma or 0.0) ** 2 for ref, (_, sigma, _, _) in inputs.items())
    # Outcomes of one register in one parameter set are counted from the same shots: multinomial, each pair's
    # covariance -p_a p_b / N. Taken as independent, P(0…0) + P(1…1) of a GHZ state had σ 0.022 in 1,000 shots
    # where it has none (the two sum to 1), and a difference of two outcomes too small a σ.
    shared: dict[tuple[str, ...], list[tuple[Ref, float, int]]] = {}
    for ref, (p, _, _, shots) in inputs.items():
        if shots:
            shared.setdefault((ref[0], ref[1], ref[3] if len(ref) == 4 else "#0"), []).append((ref, p, shots))
    for outcomes in shared.values():
        for k, (r, pr, shots) in enumerate(outcomes):
            for s, ps, _ in outcomes[k + 1 :]:
                total -= (a.get(r, 0.0) * b.get(s, 0.0) + a.get(s, 0.0) * b.get(r, 0.0)) * pr * ps / shots
    return total


def value_of(
    ref: tuple[str, ...], bodies: Mapping[str, JobFile], run_dir: Path | None
) -> tuple[float, float | None, float | None, int]:
    """(value, standard error, exact value, shots): shots for an outcome's probability, whose covariance with the
    register's other outcomes `covariance` counts; 0 for any other value."""
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


def is_summed(ref: tuple[str, ...]) -> bool:
    """`qv.meas["heavy"]`, `rc.meas["xeb"]`: a register's outcomes summed with weights its ideal distribution gives."""
    return len(ref) in (3, 4) and ref[2] in SUMMED


def summed(ref: tuple[str, ...], bodies: Mapping[str, JobFile]) -> Expansion:
    """A sum over a register's outcomes, weighted by its ideal distribution p: the heavy output probability (quantum
    volume's, Cross et al. 2019: the outcomes whose p is above the median of all 2^n, those it leaves out 0), or the
    linear cross-entropy fidelity (Arute et al. 2019: (2^n sum p(x) q(x) - 1) / (2^n sum p(x)^2 - 1) of the measured
    q, 1 for a perfect device, 0 for uniform noise). It stands for the outcomes it sums, as a fit stands for its
    results: so its σ is the multinomial one, and its covariance with the register's other outcomes counts."""
    body = bodies.get(ref[0])
    if body is None:
        raise DerivedError(f"job '{ref[0]}' has no result in this run")
    counts, ideal = _distributions(ref, body)
    if not sum(counts.values()):
        raise DerivedError(f"job '{ref[0]}' counted no shots in register '{ref[1]}'")
    if not isinstance(ideal, Mapping) or not ideal:
        raise DerivedError(f"'{written(ref)}' needs the job's ideal distribution: give it exact: statevector")
    weights = {str(k): number(p) or 0.0 for k, p in ideal.items()}
    width = len(next(iter(weights)))
    if width > MAX_SUMMED_BITS:
        raise DerivedError(f"'{written(ref)}': a register of {width} bits; it is read up to {MAX_SUMMED_BITS}")
    if not width or any(len(k) != width or set(k) - {"0", "1"} for k in weights):  # a stored file is untrusted
        raise DerivedError(f"job '{ref[0]}' has an ideal distribution of register '{ref[1]}' that is not outcomes")
    if ref[2] == HEAVY:
        median = _median(sorted(weights.values()), 2**width)
        slopes, offset = {k: 1.0 for k, p in weights.items() if p > median}, 0.0
        exact = sum(weights[k] for k in slopes)
    else:
        spread = 2**width * sum(p * p for p in weights.values()) - 1
        if not spread > 1e-9:
            raise DerivedError(
                f"'{written(ref)}': the ideal distribution is uniform, so cross-entropy cannot tell the device from noise"
            )
        slopes, offset = {k: 2**width * p / spread for k, p in weights.items()}, -1 / spread
        exact = 1.0
    # an outcome never seen adds nothing: its probability, and its covariance with any other, are 0
    chain: dict[Ref, float] = {(*ref[:2], k, *ref[3:]): c for k, c in slopes.items() if counts.get(k)}
    inputs: dict[Ref, Input] = {r: _probability(r, body) for r in chain}
    value = float(sum(chain[r] * v for r, (v, _, _, _) in inputs.items()) + offset)
    return value, float(exact), chain, inputs


def _median(ascending: list[float], total: int) -> float:
    """The median of `total` values, of which `ascending` are the largest and the rest 0."""
    zeros = total - len(ascending)
    at = [ascending[i - zeros] if i >= zeros else 0.0 for i in (total // 2 - 1, total // 2)]
    return at[0] if total % 2 else (at[0] + at[1]) / 2


def _distributions(ref: tuple[str, ...], body: JobFile) -> tuple[Mapping[str, int], object]:
    """A register's counts in a parameter set (or sweep point), and its ideal distribution there, where the job has
    one."""
    job, register = ref[:2]
    index = int(ref[-1][1:]) if ref[-1].startswith("#") else 0
    if "counts" in body:
        sets = body["counts"].get(register)
        if not sets:
            raise DerivedError(f"job '{job}' has no register '{register}'")
        counts = nth(sets, index)
        ideal = nth((body.get("ideal") or {}).get(register), index)
    else:  # a sweep: each point holds its counts, and its ideal distribution
        point: object = nth(body.get("points"), index)
        held = point.get("counts") if isinstance(point, Mapping) else None
        counts = held.get(register) if isinstance(held, Mapping) else None
        if isinstance(point, Mapping) and counts is None:
            raise DerivedError(f"job '{job}' has no register '{register}'")
        kept = point.get("ideal") if isinstance(point, Mapping) else None
        ideal = kept.get(register) if isinstance(kept, Mapping) else None
    if not isinstance(counts, Mapping):
        raise DerivedError(f"'{written(ref)}' names no value of job '{job}': it has no parameter set or point {index}")
    return counts, ideal


def _probability(ref: tuple[str, ...], body: JobFile) -> tuple[float, float, float | None, int]:
    """An outcome's probability in a sampler's parameter set (or sweep point), its binomial standard error, its ideal
    probability and the shots it was counted in."""
    job, register, outcome = ref[:3]
    counts, ideal = _distributions(ref, body)
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


def covariance_matrix(slopes: Sequence[Mapping[Ref, float]], inputs: Mapping[Ref, Input]) -> np.ndarray:
    """covariance() of every pair of these values at once: G diag(σ²) Gᵀ, less each register's multinomial terms
    (a fit's thousand y values over a thousand results are a product of matrices, not a million sums)."""
    import numpy as np

    refs = list(inputs)
    column = {ref: k for k, ref in enumerate(refs)}
    grad = np.zeros((len(slopes), len(refs)))
    for i, each in enumerate(slopes):
        for ref, slope in each.items():
            if ref in column:
                grad[i, column[ref]] = slope
    sigma = np.array([inputs[ref][1] or 0.0 for ref in refs])
    out = (grad * sigma**2) @ grad.T
    shared: dict[tuple[str, ...], list[int]] = {}
    for ref, (_, _, _, shots) in inputs.items():
        if shots:
            shared.setdefault((ref[0], ref[1], ref[3] if len(ref) == 4 else "#0"), []).append(column[ref])
    for members in shared.values():
        if len(members) > 1:
            p = np.array([inputs[refs[k]][0] for k in members])
            pairs = np.outer(p, p) / inputs[refs[members[0]]][3]
            np.fill_diagonal(pairs, 0.0)  # each outcome's own variance is p(1 - p)/N, its σ² above
            g = grad[:, members]
            out -= g @ pairs @ g.T
    return out
