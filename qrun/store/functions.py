"""The functions a derived value may call, each with its number of arguments and its partial slopes (for the
propagated standard error)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Function:
    value: Callable[..., float]
    slopes: Callable[..., tuple[float, ...]]  # each argument's partial derivative at the arguments
    arity: int = 1


FUNCTIONS: dict[str, Function] = {
    "abs": Function(abs, lambda x: (float((x > 0) - (x < 0)),)),
    "sqrt": Function(math.sqrt, lambda x: (0.5 / math.sqrt(x),)),
    "exp": Function(math.exp, lambda x: (math.exp(x),)),
    "log": Function(math.log, lambda x: (1 / x,)),
    "cos": Function(math.cos, lambda x: (-math.sin(x),)),
    "sin": Function(math.sin, lambda x: (math.cos(x),)),
    "tan": Function(math.tan, lambda x: (1 / math.cos(x) ** 2,)),
    # an angle from a probability: amplitude estimation's 2 asin(sqrt(p))
    "asin": Function(math.asin, lambda x: (1 / math.sqrt(1 - x * x),)),
    "acos": Function(math.acos, lambda x: (-1 / math.sqrt(1 - x * x),)),
    "atan": Function(math.atan, lambda x: (1 / (1 + x * x),)),
    # a phase from two expectation values: atan2(<Y>, <X>), a Ramsey fringe's or a Hadamard test's
    "atan2": Function(math.atan2, lambda y, x: (x / (x * x + y * y), -y / (x * x + y * y)), 2),
}
