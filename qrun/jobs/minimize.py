"""The minimize job (VQE): scipy's optimizer over estimator evaluations in one session, and its optimum."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..model.defaults import DEFAULT_OPTIMIZER, GRADIENT_METHODS, SPSA_OPTIONS
from ..model.experiment import Optimizer
from ..model.findings import JsonPath, close_matches
from ..model.jobfile import Headline, JobFile, StoredOptimum, TraceEntry
from ..model.outcomes import MinimizeOutcome
from ..model.readings import Reading, number
from ..sources import exact
from .kind import (
    NO_MEASURE,
    Facts,
    Finding,
    JobContext,
    Pair,
    Planning,
    Submitter,
    against,
    control_flow_findings,
    floats,
    observable_ref_error,
    shown,
    sigma_text,
    sigmas,
    unit_suffix,
)

if TYPE_CHECKING:
    from types import ModuleType

    import numpy as np
    from matplotlib.figure import Figure

    from ..backends.kind import OpenSession
    from ..model.experiment import Job
    from ..model.outcomes import JobResult
    from ..model.plan import JobPlan, Planned


def settings(job: JobPlan) -> JobFile:
    """What a minimize job's file says of its setup, while it runs and after."""
    unit = job.observable_units.get(job.observables[0][0])
    return {
        "observable": job.observables[0][0],
        "precision": job.precision,
        "optimizer": job.optimizer,
        "initial_point": [] if job.initial_point is None else job.initial_point.tolist(),
        **({"unit": unit} if unit else {}),
        "max_evaluations": job.max_evaluations,
    }


class Minimize:
    """primitive: minimize."""

    name = "minimize"
    runs = "estimator"
    swept: tuple[str, ...] = ()
    optimizes = True
    hints = {
        "parameter_values": "; a minimize job starts from initial_point",
        "shots": "; minimize runs estimator jobs, which take precision",
    }

    def findings(self, job: Mapping[str, object], at: JobContext) -> list[Finding]:
        """Parameters to vary, a starting point of their number, and an optimizer that can run without a gradient
        or is given a way to estimate one."""
        out: list[Finding] = []
        fact = at.circuit
        n = 0 if fact is None else fact.num_parameters
        cname = job["circuit"]
        if fact is not None and n == 0:
            out.append((at.here + ("circuit",), f"circuit '{cname}' has no parameters for minimize to vary", False))
        start = job.get("initial_point")
        if isinstance(start, list) and n and len(start) != n:
            message = f"has {len(start)} values but circuit '{cname}' has {n} parameters"
            out.append((at.here + ("initial_point",), message, False))
        optimizer = job.get("optimizer")
        optimizer = optimizer if isinstance(optimizer, dict) else {}
        method = optimizer.get("method", DEFAULT_OPTIMIZER)
        if method in GRADIENT_METHODS and not optimizer.get("jac"):
            message = (
                f"{method} needs a gradient; set jac: 2-point (or 3-point) to estimate it by finite differences, "
                "or use a gradient-free method: COBYLA, COBYQA, Nelder-Mead, Powell"
            )
            out.append((at.here + ("optimizer", "method"), message, False))
        if method == "SPSA":
            out += _spsa_findings(optimizer, at.here + ("optimizer",))
        return out + control_flow_findings(at, self.runs, at.options)

    def reference_error(self, ref: tuple[str, ...], job: Mapping[str, object], circuit: Facts | None) -> str | None:
        return observable_ref_error(ref, job)

    def session_reason(self, job: Job) -> str | None:
        return f"job '{job.name}' is a minimize loop: each evaluation waits for the one before"

    def evaluations(self, job: Job, num_parameters: int) -> int:
        return (job.optimizer or Optimizer()).evaluations(num_parameters)

    def planned(self, job: Job, num_parameters: int, planning: Planning) -> Planned:
        optimizer = job.optimizer or Optimizer()
        return {
            "precision": job.target_precision(),
            "initial_point": initial_point(job.initial_point, num_parameters, planning.seed),
            "optimizer": optimizer.settings(),
        }

    def variant(self, job: Job) -> str:
        return NO_MEASURE

    def run(self, submitter: Submitter, job: JobPlan, session: OpenSession) -> JobResult:
        return submitter.minimize(job, session)

    def payload(self, job: JobPlan, outcome: JobResult) -> JobFile:
        """The trace (one entry per evaluation), the optimum, and how the optimizer ended."""
        if not isinstance(outcome, MinimizeOutcome):
            raise TypeError(f"a {type(outcome).__name__} where a minimize loop's outcome belongs")
        reference: JobFile = {}
        if job.reference_circuit is not None:
            ((name, _),) = job.observables
            reference = {"exact": exact.ground_energy(job.reference_observables[name])}
        elif isinstance(job.job.exact, (int, float)):
            reference = {"exact": float(job.job.exact)}  # the value the spec states
        return {
            "status": outcome.stopped or "done",
            **settings(job),
            **reference,
            "trace": [TraceEntry(**e) for e in outcome.trace],
            "optimum": StoredOptimum(**outcome.optimum) if outcome.optimum else None,
            "nfev": outcome.nfev,
            "message": outcome.message,
            "success": outcome.success,
            "stopped": outcome.stopped,
        }

    def text(self, body: JobFile) -> str:
        opt = body.get("optimum") or {}
        note = f" ({body['stopped']})" if body.get("stopped") else ""
        ref = against(opt.get("value"), opt.get("stderr"), body.get("exact"))
        return (
            f"min <{body.get('observable')}> = {shown(opt.get('value'))} ± {shown(opt.get('stderr'), '.2g')}{ref} "
            f"after {body.get('nfev')} evaluations{note}"
        )

    def readings(self, job: str, body: JobFile, stated: float | None, limit: int | None) -> list[Reading]:
        opt = body.get("optimum")
        if not isinstance(opt, dict) or (value := number(opt.get("value"))) is None:
            return []
        exact_m = number(body.get("exact"))
        key = f"min <{body.get('observable')}>"
        return [
            Reading(
                job,
                key,
                0,
                value,
                number(opt.get("stderr")),
                exact_m if exact_m is not None else stated,
                body.get("unit"),
            )
        ]

    def headline(self, name: str, body: JobFile) -> dict[str, Headline]:
        opt = body.get("optimum")
        return {name: {"value": opt["value"], "stderr": opt.get("stderr"), "exact": body.get("exact")}} if opt else {}

    def paired(self, name: str, a: JobFile, b: JobFile) -> list[Pair]:
        mine, theirs = a.get("optimum"), b.get("optimum")
        if not mine or not theirs:
            return []
        return [(name, (mine.get("value"), mine.get("stderr")), (theirs.get("value"), theirs.get("stderr")))]

    def rows(self, body: JobFile) -> list[list[object]]:
        opt = body.get("optimum")
        if not opt:
            return []
        return [[body.get("job"), self.name, body["observable"], 0, opt["value"], opt["stderr"], body.get("exact", "")]]

    def figure(self, plt: ModuleType, body: JobFile, exact: float | None) -> Figure | None:
        """Every evaluation with its error bar, the re-estimated optimum marked, and the exact value where known.

        No "best so far" line: the lowest of many noisy values is biased low; the optimum qrun reports is a fresh
        estimate at the optimizer's final point, drawn as such.
        """
        exact = body.get("exact", exact)  # its own statevector ground energy, else the stated value
        trace = body["trace"]
        n = [t["evaluation"] for t in trace]
        values = floats(t["value"] for t in trace)
        unit = unit_suffix(body)
        if exact is None:
            fig, ax = plt.subplots(figsize=(7, 4.2))
        else:  # a second panel shows the approach to the exact value, invisible on the first panel's scale
            fig, (ax, err) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
            err.semilogy(
                n, [max(abs(v - exact), 1e-9) for v in values], ".", ms=4, color="C0", label="|evaluation - exact|"
            )
            from matplotlib.ticker import LogFormatter  # (plots import matplotlib only to draw)

            # plain "0.01", not the default's "$10^{-2}$": figures draw their text as written (plots.literal_text),
            # so the default's mathematics stood on the axis as its source
            err.yaxis.set_major_formatter(LogFormatter())
            err.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))
            err.set_xlabel("evaluation")
            err.set_ylabel(f"|<{body['observable']}> - exact|{unit}")
            err.legend(fontsize="small")
            err.grid(alpha=0.3, which="both")
        ax.errorbar(
            n, values, yerr=sigmas(t.get("stderr") for t in trace), fmt=".", ms=4, lw=0.8, alpha=0.6, label="evaluation"
        )
        opt = body.get("optimum") or {}
        if isinstance(opt.get("value"), int | float):  # none where the loop was stopped before it had one
            where = (
                len(trace) + 1
                if opt.get("final_evaluation") or not n
                else n[values.index(opt["value"])]
                if opt["value"] in values
                else n[-1]
            )
            ax.errorbar(
                [where],
                [opt["value"]],
                yerr=sigmas([opt.get("stderr")]),
                fmt="*",
                ms=12,
                color="C3",
                capsize=3,
                label=f"optimum {opt['value']:.6g} ± {sigma_text(opt.get('stderr'))}"
                + (" (re-estimated)" if opt.get("final_evaluation") else ""),
            )
        if exact is not None:
            ax.axhline(exact, color="k", ls="--", lw=1, label=f"exact {exact:.6g}")
        ax.set_title(
            f"{body['job']}: {(body.get('optimizer') or {}).get('method', '?')}, {body.get('nfev')} evaluations"
        )
        if exact is None:
            ax.set_xlabel("evaluation")
        ax.set_ylabel(f"<{body['observable']}>{unit}")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        return fig


def initial_point(spec: str | tuple[float, ...], n: int, seed: int | None) -> np.ndarray:
    """zeros, random (uniform in [-pi, pi), seeded), or the given numbers."""
    import numpy as np  # only planning a minimize job needs it; `qrun validate` reads kinds without numpy

    if spec == "zeros":
        return np.zeros(n)
    if spec == "random":
        return np.random.default_rng(seed).uniform(-np.pi, np.pi, n)
    return np.asarray(spec, dtype=float)


def _spsa_findings(optimizer: Mapping[str, object], here: JsonPath) -> list[Finding]:
    """SPSA takes no jac (it estimates its own gradient) and only its own options, each a number in range."""
    out: list[Finding] = []
    if optimizer.get("jac"):
        message = "SPSA estimates its own gradient from two evaluations a step; remove jac"
        out.append((here + ("jac",), message, False))
    options = optimizer.get("options")
    for key, value in (options if isinstance(options, dict) else {}).items():
        if key not in SPSA_OPTIONS:
            near = close_matches(str(key), list(SPSA_OPTIONS))
            hint = f"did you mean {near[0]!r}? " if near else ""
            message = f"unknown SPSA option {key!r}; {hint}(SPSA takes {', '.join(SPSA_OPTIONS)})"
            out.append((here + ("options", key), message, True))
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            out.append((here + ("options", key), f"{value!r} is not a number", False))
        elif key == "calibration" and (not float(value).is_integer() or not 0 <= value <= 1000):
            out.append((here + ("options", key), f"{value!r} is not a whole number of samples from 0 to 1000", False))
        elif key in ("a", "c", "alpha", "gamma") and value <= 0 or key == "stability" and value < 0:
            least = "at least 0" if key == "stability" else "more than 0"
            out.append((here + ("options", key), f"{value!r}: SPSA's {key} must be {least}", False))
    return out
