"""SPSA (Spall's simultaneous perturbation stochastic approximation) as a method scipy.optimize.minimize calls."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..model.defaults import SPSA_DEFAULTS

if TYPE_CHECKING:
    from scipy.optimize import OptimizeResult

# scipy has no SPSA; qiskit-algorithms has one inside a package of algorithms on qiskit's primitives, a dependency
# with its own releases for a loop this short (docs/development.md, "Written here"). The gains are Spall's
# ("Implementation of the simultaneous perturbation algorithm for stochastic optimization", IEEE TAES 34, 817, 1998),
# as qiskit-algorithms' SPSA uses them: a_k = a / (k + 1 + stability)^alpha, c_k = c / (k + 1)^gamma.
TARGET_STEP = 2 * np.pi / 10  # the first step's size calibration aims at, as qiskit-algorithms' SPSA.calibrate does


def setting(options: Mapping[str, object], key: str) -> float:
    """An option as given (validate checked it is a number), else its default."""
    value = options.get(key, SPSA_DEFAULTS.get(key))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"SPSA's {key} is {value!r}, not a number")
    return float(value)


def spsa(
    fun: Callable[[np.ndarray], float],
    x0: np.ndarray,
    args: tuple = (),
    maxiter: int = 100,
    seed: int | None = None,
    **options: object,
) -> OptimizeResult:
    """Minimize `fun` from `x0`: each step estimates the gradient from two evaluations at x ± c_k Δ (Δ a random
    ±1 vector) and moves by a_k times it. Without `a`, it is calibrated from `calibration` gradient samples at x0 so
    that the first step has about TARGET_STEP's size. The other keywords scipy passes (jac, bounds, ...) are
    unused."""
    from scipy.optimize import OptimizeResult

    c, alpha, gamma, stability = (setting(options, k) for k in ("c", "alpha", "gamma", "stability"))
    rng = np.random.default_rng(seed)
    x = np.asarray(x0, dtype=float).copy()

    def gradient(at: np.ndarray, ck: float) -> np.ndarray:
        delta = rng.choice([-1.0, 1.0], size=at.shape)
        return (fun(at + ck * delta, *args) - fun(at - ck * delta, *args)) / (2 * ck) * delta

    if "a" in options:
        a = setting(options, "a")
    else:
        samples = int(setting(options, "calibration"))
        magnitude = np.mean([np.abs(gradient(x, c)).mean() for _ in range(samples)]) if samples else 0.0
        a = TARGET_STEP * (stability + 1) ** alpha / magnitude if magnitude > 0 else TARGET_STEP
    for k in range(maxiter):
        x = x - a / (k + 1 + stability) ** alpha * gradient(x, c / (k + 1) ** gamma)
    return OptimizeResult(x=x, nit=maxiter, success=True, message=f"SPSA: {maxiter} steps (a={a:.4g}, c={c:g})")
