"""The mitigation ladder: one circuit and its observables under each rung of error mitigation, each rung's error
against the exact value beside its estimated QPU seconds, and the cheapest rung that meets a target error."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from ..model.jobfile import Headline, JobFile, ObservableValues, StoredRung
from ..model.outcomes import primitive_result
from ..model.plan import Rung
from ..model.readings import Reading, number
from .estimator import Estimator, observable_headline, observable_pairs, observable_readings, observable_rows
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
    index_error,
    nth,
    observable_ref_error,
    shots_or_precision,
    shown,
    sigmas,
)

if TYPE_CHECKING:
    from types import ModuleType

    from matplotlib.figure import Figure
    from qiskit.primitives import DataBin

    from ..backends.kind import OpenSession
    from ..model.experiment import Job
    from ..model.outcomes import JobResult
    from ..model.plan import JobPlan, Planned

# What each rung adds to the ones before it, as IBM's "Combine error mitigation options" tutorial climbs: a rung's
# options are its own additions and those of every rung below it, whichever rungs a spec lists.
ADDS: dict[str, dict[str, object]] = {
    "raw": {"resilience_level": 0},
    "dd": {"dynamical_decoupling": {"enable": True, "sequence_type": "XpXm"}},
    "trex": {"resilience_level": 1},
    "twirling": {"twirling": {"enable_gates": True}},
    "zne": {"resilience_level": 2},
}
ORDER = tuple(ADDS)
_ESTIMATOR = Estimator()  # each rung is an estimator's result: read as one


def rung_options(rung: str, base: dict[str, object]) -> dict[str, object]:
    """The options one rung runs with: the job's own, then every canonical rung's additions up to this one."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for name in ORDER[: ORDER.index(rung) + 1]:
        for key, value in ADDS[name].items():
            mine = out.get(key)
            out[key] = {**(mine if isinstance(mine, dict) else {}), **value} if isinstance(value, dict) else value
    return out


class Ladder:
    """primitive: ladder."""

    name = "ladder"
    runs = "estimator"
    swept: tuple[str, ...] = ()
    optimizes = False
    hints = {"parameter_values": "; a ladder runs its circuit as written, with numbers for its angles"}

    def findings(self, job: Mapping[str, object], at: JobContext) -> list[Finding]:
        """A ladder compares mitigation, which only a noisy backend has; and an error needs an exact value."""
        out = shots_or_precision(job, at)
        if not at.noisy:
            message = (
                "a ladder compares error mitigation, which needs a noisy backend (a fake_<device> or a device of "
                f"the service); {at.backend} is noiseless"
            )
            out.append((at.here + ("primitive",), message, False))
        if "target_error" in job and "exact" not in job:
            message = (
                "target_error needs an exact value to measure each rung's error against: add exact: statevector "
                "(or the value)"
            )
            out.append((at.here + ("target_error",), message, True))
        given = job.get("rungs")
        for rung in [str(r) for r in given] if isinstance(given, list) and given else ORDER:
            if rung in ADDS:  # the first rung the runtime cannot run on a circuit with control flow
                found = control_flow_findings(at, self.runs, rung_options(rung, dict(at.options)), rung)
                if found:
                    return out + found
        return out

    def reference_error(self, ref: tuple[str, ...], job: Mapping[str, object], circuit: Facts | None) -> str | None:
        """A ladder has a value per rung: `climb.zne.zz` reads one, as `qrun list` and `qrun diff` name it."""
        given = job.get("rungs")
        rungs = [str(r) for r in given] if isinstance(given, list) and given else list(ORDER)
        indexed = len(ref) == 3 and ref[2].startswith("#")  # climb.zne.zz[1]: its second parameter set
        rung, dot, observable = ref[1].partition(".") if len(ref) == 2 or indexed else ("", "", "")
        if not dot:
            measured = ref[1] if len(ref) > 1 else "OBSERVABLE"
            return f"job '{ref[0]}' is a ladder: name its rung, as in {ref[0]}.{rungs[-1]}.{measured}"
        if rung not in rungs:
            return f"job '{ref[0]}' runs no rung '{rung}' (its rungs: {', '.join(rungs)})"
        return observable_ref_error((ref[0], observable), job) or index_error(ref, job, observable)

    def session_reason(self, job: Job) -> str | None:
        return None

    def evaluations(self, job: Job, num_parameters: int) -> int:
        return 1

    def planned(self, job: Job, num_parameters: int, planning: Planning) -> Planned:
        """Each rung's options and engine; planning prices them (its QPU-time model, rung by rung)."""
        rungs = []
        for name in job.rungs or ORDER:
            opts = rung_options(name, job.options.payload())
            rungs.append(Rung(name, opts, planning.engine("estimator", opts), 0.0, 0.0))
        return {"precision": job.target_precision(), "rungs": tuple(rungs)}

    def variant(self, job: Job) -> str:
        return NO_MEASURE

    def run(self, submitter: Submitter, job: JobPlan, session: OpenSession) -> JobResult:
        """Each rung as one estimator runtime job, in order; one PrimitiveResult with a PUB result per rung."""
        from qiskit.primitives import PrimitiveResult

        from ..running.engines import estimator_pub  # numpy and qiskit: only a run needs them

        results = []
        for rung in job.rungs:
            one = dataclasses.replace(job, options=rung.options, engine=rung.engine)
            make = partial(submitter.engines.estimator, one, session, submitter.next_seed(one))
            results.append(submitter.submit(one, make, estimator_pub(one), precision=job.precision)[0])
        return PrimitiveResult(results, metadata={"rungs": [r.name for r in job.rungs]})

    def payload(self, job: JobPlan, result: JobResult) -> JobFile:
        whole = primitive_result(result)
        plain = dataclasses.replace(job, reference_circuit=None)  # the exact values are the same on every rung
        first = _ESTIMATOR.payload(job, type(whole)([whole[0]]))
        references = {name: entry.get("exact") for name, entry in first["observables"].items()}
        rungs: list[StoredRung] = []
        for k, rung in enumerate(job.rungs):
            body = first if k == 0 else _ESTIMATOR.payload(plain, type(whole)([whole[k]]))
            for name, entry in body["observables"].items():
                if (reference := references[name]) is not None:
                    entry["exact"] = reference
            _honest_zne_stderrs(body["observables"], whole[k].data)
            rungs.append(
                {
                    "rung": rung.name,
                    "engine": rung.engine,
                    "estimated_qpu_seconds": round(rung.qpu_seconds, 6),
                    "error": _error(body["observables"]),
                    "observables": body["observables"],
                }
            )
        target = job.job.target_error
        return {
            "status": "done",
            "precision": job.precision,
            "rungs": rungs,
            **({"target_error": target, "cheapest": cheapest(rungs, target)} if target is not None else {}),
        }

    def text(self, body: JobFile) -> str:
        parts = []
        for r in body["rungs"]:
            # its error against the exact value, where both are known (each value already names the exact one)
            err = f"error {shown(r['error'], '.3g')}, " if r.get("error") is not None else ""
            values = ", ".join(
                f"<{obs}> {shown(x, '.4g')} ± {shown(s, '.2g')}{against(x, s, nth(v.get('exact'), 0))}"
                for obs, v in r["observables"].items()
                for x, s in [(nth(v["values"], 0), nth(v["stderrs"], 0))]
            )
            parts.append(f"{r['rung']}: {values}; {err}~{shown(r.get('estimated_qpu_seconds'), '.3g')} QPU s")
        if "target_error" in body:
            best, target = body.get("cheapest"), shown(body["target_error"], "g")
            parts.append(f"cheapest within {target}: {best}" if best else f"no rung within {target}")
        return "\n".join(parts)

    def readings(self, job: str, body: JobFile, stated: float | None, limit: int | None) -> list[Reading]:
        out = []
        for r in body.get("rungs") or []:
            for reading in observable_readings(job, r.get("observables") or {}, stated, None):
                out.append(dataclasses.replace(reading, key=f"{r['rung']} {reading.key}"))
                if limit is not None and len(out) >= limit:
                    return out
        return out

    def headline(self, name: str, body: JobFile) -> dict[str, Headline]:
        out: dict[str, Headline] = {}
        for r in body.get("rungs") or []:
            out.update(observable_headline(f"{name}.{r['rung']}", r.get("observables") or {}))
        return out

    def paired(self, name: str, a: JobFile, b: JobFile) -> list[Pair]:
        theirs = {r["rung"]: r for r in b.get("rungs") or []}
        out: list[Pair] = []
        for r in a.get("rungs") or []:
            if r["rung"] in theirs:
                out += observable_pairs(
                    f"{name}.{r['rung']}", r.get("observables") or {}, theirs[r["rung"]].get("observables") or {}
                )
        return out

    def rows(self, body: JobFile) -> list[list[object]]:
        return [
            [row[0], self.name, f"{r['rung']}:{row[2]}", *row[3:]]
            for r in body.get("rungs") or []
            for row in observable_rows(body.get("job"), self.name, r.get("observables") or {})
        ]

    def figure(self, plt: ModuleType, body: JobFile, exact: float | None) -> Figure | None:
        """A mitigation ladder: each observable's value - exact (± σ) at each rung, with its estimated QPU seconds,
        zero as a line and the target error as a band. Signed, not |value - exact|: a σ bar about an absolute error
        reaches below zero, where no error is. Without exact values, each rung's value ± σ against its cost (it drew
        nothing, and `qrun plot` said there was nothing to plot)."""
        rungs = body["rungs"]
        signed = any(r.get("error") is not None for r in rungs)
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        xs = list(range(len(rungs)))  # rungs in order: two may cost the same (dd adds no shots)
        if signed:
            ax.axhline(0, color="black", linewidth=0.8)
        if signed and isinstance(target := body.get("target_error"), int | float):
            ax.axhspan(-target, target, color="grey", alpha=0.2, label=f"target ±{target:g}")
        for obs in rungs[0]["observables"]:
            found = [r["observables"].get(obs) or {} for r in rungs]
            values = floats(nth(v.get("values"), 0) for v in found)
            exact_values = floats(nth(v.get("exact"), 0) for v in found)
            ys = [x - e for x, e in zip(values, exact_values)] if signed else values  # NaN where either is unknown
            bars = sigmas(nth(v.get("stderrs"), 0) for v in found)
            ax.errorbar(xs, ys, yerr=bars, marker="o", capsize=3, label=f"<{obs}>")
        ax.set_xticks(xs, [f"{r['rung']}\n{shown(r.get('estimated_qpu_seconds'), '.3g')} s" for r in rungs])
        ax.set_xlabel("rung, and its estimated QPU seconds")
        ax.set_ylabel("value - exact" if signed else "value")
        ax.set_title(
            f"{body['job']}: {'error' if signed else 'value'} against cost, per rung"
            + (f" (cheapest: {body['cheapest']})" if body.get("cheapest") else "")
        )
        ax.legend(fontsize="small")
        fig.tight_layout()
        return fig


def _honest_zne_stderrs(observables: dict[str, ObservableValues], data: DataBin) -> None:
    """A ZNE rung's σ, propagated from each noise factor's σ through a least-squares line to zero noise.

    The runtime reports the exponential fit's own error, which three points fit exactly: about zero (4e-05 at
    precision 0.02). That would make ZNE look like the most precise rung; extrapolation amplifies noise instead. The
    runtime's figure is kept beside it as runtime_stderrs."""
    import numpy as np

    stds = getattr(data, "stds_noise_factors", None)
    if stds is None:
        return
    stds = np.asarray(stds, dtype=float)
    factors = np.arange(stds.shape[-1]) * 2.0 + 1  # the runtime's default noise factors: 1, 3, 5
    centred = factors - factors.mean()
    weights = 1 / len(factors) - factors.mean() * centred / (centred**2).sum()  # the line's value at zero noise
    sigma = np.sqrt((weights**2 * stds**2).sum(axis=-1)).reshape(len(observables), -1)
    for k, entry in enumerate(observables.values()):
        entry["runtime_stderrs"] = entry["stderrs"]
        entry["stderrs"] = sigma[k].tolist()


def _error(observables: Mapping[str, ObservableValues]) -> float | None:
    """The largest |value - exact| over a rung's observables and parameter sets; None without exact values."""
    errors = [
        abs(x - e)
        for v in observables.values()
        for x, e in ((number(a), number(b)) for a, b in zip(v["values"], v.get("exact") or []))
        if x is not None and e is not None
    ]
    return max(errors) if errors and len(errors) == sum(len(v["values"]) for v in observables.values()) else None


def cheapest(rungs: Sequence[StoredRung], target: float) -> str | None:
    """The rung with the fewest estimated QPU seconds whose error meets `target` (the first, on a tie)."""
    meeting = [
        (number(r.get("estimated_qpu_seconds")) or 0.0, r.get("rung"))
        for r in rungs
        if (error := number(r.get("error"))) is not None and error <= target
    ]
    return min(meeting, key=lambda m: m[0])[1] if meeting else None
