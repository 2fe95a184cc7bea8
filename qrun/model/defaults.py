"""Every default a spec may leave out, in one place: planning, checks, estimates and records read them here."""

from __future__ import annotations

DEFAULT_SHOTS = 4096
DEFAULT_PRECISION = 0.015625  # the runtime's own default: 4096 ** -0.5
DEFAULT_OPTIMIZATION_LEVEL = 2
DEFAULT_RESILIENCE_LEVEL = 1
DEFAULT_OPTIMIZER = "COBYLA"
GRADIENT_METHODS = ("BFGS", "L-BFGS-B", "CG", "SLSQP", "TNC", "trust-constr")  # scipy methods that need a jac
DEFAULT_MAXITER = 100
# SPSA's options (running/spsa.py) and their defaults, as qiskit-algorithms' SPSA has them: c the perturbation,
# alpha and gamma Spall's gain exponents, stability his A, calibration the gradient samples that set `a` where the
# spec gives none
SPSA_DEFAULTS: dict[str, float] = {"c": 0.2, "alpha": 0.602, "gamma": 0.101, "stability": 0.0, "calibration": 25}
SPSA_OPTIONS = ("a", *SPSA_DEFAULTS)
DEFAULT_MARGIN = "10%"  # of the summed estimates, for classical time between jobs
DEFAULT_MAX_TIME_LIMIT = 8 * 3600  # the service's longest session unless the spec says otherwise
LOCAL_MAX_TIME = 86400  # max_time on aer when the spec gives none: aer bills nothing, so this only stops a runaway
# The most instructions an OpenQASM loop the importer built is written out into (sources/qasm_unroll.flattened:
# qiskit's UnrollForLoops takes about a second for that many, RESULTS.md "Loops written out after the import"); a
# longer loop stays qiskit's for_loop, which aer runs as it is
MAX_LOOP_WRITTEN_OUT = 100_000
# A sweep of more points than this streams its rows to disk chunk by chunk instead of holding them for one JSON file.
INLINE_POINTS = 10_000
