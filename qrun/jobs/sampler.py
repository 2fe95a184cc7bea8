"""The sampler job: counts per classical register, one set per parameter set, and the shots delivered."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..model import defaults
from ..model.defaults import DEFAULT_SHOTS
from ..model.findings import JsonPath
from ..model.jobfile import Headline, JobFile
from ..model.outcomes import primitive_result, registers_of, set_counts
from ..model.readings import Reading, number
from ..sources import exact
from .kind import (
    Facts,
    Finding,
    JobContext,
    Pair,
    Planning,
    Submitter,
    control_flow_findings,
    floats,
    index_error,
    values_of,
)

PAIRED_OUTCOMES = 8  # per register, the likeliest outcomes `qrun diff` compares (a wide register has thousands)

if TYPE_CHECKING:
    from types import ModuleType

    from matplotlib.figure import Figure
    from qiskit.primitives import PrimitiveResult
    from qiskit.primitives.containers import DataBin

    from ..backends.kind import OpenSession
    from ..model.experiment import Job
    from ..model.outcomes import JobResult, StackedResults
    from ..model.plan import JobPlan, Planned


BARS = 32  # a histogram's bars at most: its register's outcomes when they are few, else the likeliest
EVERY = 4  # a register this wide or narrower shows every outcome, those that never occurred too


class Sampler:
    """primitive: sampler."""

    name = "sampler"
    runs = "sampler"
    swept: tuple[str, ...] = ("shots",)
    optimizes = False
    hints = {
        "precision": "; a sampler takes shots",
        "observables": "; a sampler returns counts, an estimator job measures observables",
    }

    def findings(self, job: Mapping[str, object], at: JobContext) -> list[Finding]:
        """A sampler reads measurements: its circuit has them, or the job adds them."""
        fact = at.circuit
        out = control_flow_findings(at, self.runs, at.options)
        own = job.get("options")
        level = own.get("resilience_level") if isinstance(own, Mapping) else None
        if isinstance(level, int) and level > 0:  # the runtime's Sampler has no such option: it ran unmitigated
            out.append(
                (
                    at.here + ("options", "resilience_level"),
                    f"{level} asks for error mitigation, which the runtime's Sampler has none of: its counts would be "
                    "raw. An estimator job at resilience_level 1 or 2 mitigates readout (TREX) and more, of the "
                    "parities a sampler counts (Z0 Z1, ZZ); dynamical_decoupling and twirling apply to a sampler",
                    False,
                )
            )
        if fact is not None and fact.has_measurements and fact.registers == () and not job.get("measure_all"):
            # qiskit's sampler returns registers' counts only: the job would finish with none (a lone bit beside a
            # register is another matter: a dynamic circuit's bit that only chooses a correction)
            out.append(
                (
                    at.here + ("circuit",),
                    f"circuit '{job['circuit']}' measures only into bits of no register (OpenQASM 3's `bit c;` is a "
                    "lone bit to qiskit), and a sampler returns registers' counts: it would return none; declare a "
                    "register (`bit[1] c;`) and measure into its bits (`c[0] = measure q;`)",
                    False,
                )
            )
        if listed := _listed(job, fact, at.options):
            out.append((at.here + listed[0], listed[1], False))
        if fact is None or fact.num_qubits == 0 or fact.has_measurements or job.get("measure_all"):
            return out
        message = (
            f"circuit '{job['circuit']}' has no measurements for the sampler to read; add measure_all: true to the job"
        )
        return [*out, (at.here + ("circuit",), message, False)]

    def reference_error(self, ref: tuple[str, ...], job: Mapping[str, object], circuit: Facts | None) -> str | None:
        if len(ref) not in (3, 4) or ref[2].startswith("#"):
            return f"a sampler's result is an outcome's probability: {ref[0]}.REGISTER[\"0101\"]"
        summed = ref[2] in ("heavy", "xeb")  # outcomes summed by their ideal probabilities (store/propagate.summed)
        if summed and job.get("exact") not in ("statevector", "stabilizer"):
            return f'{ref[0]}.{ref[1]}["{ref[2]}"] needs the job\'s ideal distribution: give it exact: statevector'
        if not summed and (not ref[2] or set(ref[2]) - {"0", "1"}):
            return (
                f"'{ref[2]}' is not an outcome: a register's bits as 0s and 1s, as in {ref[0]}.{ref[1]}[\"0101\"] "
                '(or "heavy", its heavy outputs; "xeb", its cross-entropy fidelity)'
            )
        registers = _registers(job, circuit)
        if registers is not None and ref[1] not in registers:
            named = ", ".join(registers) or "none"
            return f"job '{ref[0]}' has no register '{ref[1]}' (its registers: {named})"
        if not summed and registers is not None and len(ref[2]) != registers[ref[1]]:
            return f"'{ref[2]}' has {len(ref[2])} bits; register '{ref[1]}' of job '{ref[0]}' has {registers[ref[1]]}"
        return index_error(ref, job)

    def session_reason(self, job: Job) -> str | None:
        return None

    def evaluations(self, job: Job, num_parameters: int) -> int:
        return 1

    def planned(self, job: Job, num_parameters: int, planning: Planning) -> Planned:
        return {"shots": job.shots or job.options.default_shots or DEFAULT_SHOTS}

    def variant(self, job: Job) -> str:
        """The circuit as written, or with measurements added where the job asks (measure_all)."""
        return "measure_all" if job.measure_all else "as_is"

    def run(self, submitter: Submitter, job: JobPlan, session: OpenSession) -> JobResult:
        from ..running.engines import sampler_pub  # numpy and qiskit: only a run needs them

        return submitter.submit(
            job,
            lambda: submitter.engines.sampler(job, session, submitter.next_seed(job)),
            sampler_pub(job),
            shots=job.shots,
        )

    def payload(self, job: JobPlan, result: JobResult) -> JobFile:
        """Counts per classical register, one dict per parameter set (a single set when there are no parameters)."""
        data = primitive_result(result)[0].data
        counts = {register: set_counts(bits) for register, bits in data.items()}
        return self._counts_payload(job, _delivered(data, job.shots), counts)

    def payloads(self, jobs: Sequence[JobPlan], results: Sequence[PrimitiveResult]) -> list[JobFile] | None:
        """payload() of each of a batch's jobs, their counts counted in one pass over every job's sets (each job's
        one or few sets were a np.unique call each); None where their registers do not stack (each job's registers
        must be BitArrays over one dimension of sets, with the same names, widths and shots)."""
        import numpy as np  # numpy and qiskit: only a run needs them
        from qiskit.primitives import BitArray

        datas = [primitive_result(r)[0].data for r in results]
        signature = registers_of(datas[0])
        if signature is None or any(registers_of(data) != signature for data in datas[1:]):
            return None
        sizes = [d.shape[0] for d in datas]
        stops = np.cumsum(sizes).tolist()
        counted = {
            name: set_counts(BitArray(np.concatenate([d[name].array for d in datas]), num_bits))
            for name, num_bits, _ in signature
        }
        return [
            self._counts_payload(
                job, _delivered(data, job.shots), {name: sets[stop - size : stop] for name, sets in counted.items()}
            )
            for job, data, size, stop in zip(jobs, datas, sizes, stops, strict=True)
        ]

    def stacked_payloads(self, jobs: Sequence[JobPlan], results: StackedResults) -> list[JobFile]:
        """payload() of each of a stacked batch's jobs (model.outcomes.StackedResults of registers, each row a job's
        (sets, shots, bytes)): every job's sets counted in one pass, with no result made per job."""
        from qiskit.primitives import BitArray  # numpy and qiskit: only a run needs them

        widths = results.bits or {}
        counted = {
            name: set_counts(BitArray(rows.reshape(-1, *rows.shape[2:]), widths[name]))
            for name, rows in results.fields.items()
        }
        sets, shots = next(iter(results.fields.values())).shape[1:3]
        return [
            self._counts_payload(job, shots, {name: each[k * sets : (k + 1) * sets] for name, each in counted.items()})
            for k, job in enumerate(jobs)
        ]

    def _counts_payload(self, job: JobPlan, delivered: int | None, counts: dict[str, list[dict[str, int]]]) -> JobFile:
        import numpy as np  # numpy and qiskit: only a run needs them

        out: JobFile = {"status": "done", "shots": delivered, "counts": counts}
        if delivered != job.shots:
            out["shots_requested"] = job.shots
        if job.reference_circuit is not None:
            rows: np.ndarray | list[list[float]] = job.parameter_values if job.parameter_values is not None else [[]]
            how = str(job.job.exact)  # statevector or stabilizer
            per_set = [exact.ideal_counts(job.reference_circuit, job.parameter_names, r, how) for r in rows]
            out["ideal"] = {reg: [s.get(reg, {}) for s in per_set] for reg in counts}
        return out

    def text(self, body: JobFile) -> str:
        """Each register's four likeliest outcomes of the first parameter set and how many others it had, and where
        the job has the ideal distribution, how close the measured one is to it (Hellinger fidelity, as qiskit's
        hellinger_fidelity)."""
        parts = []
        ideal = body.get("ideal") or {}
        for reg, sets in body["counts"].items():
            first = sets[0] if sets else {}
            shown = [f"{k}: {n}" for k, n in sorted(first.items(), key=lambda kv: -kv[1])[:4]]
            if len(first) > len(shown):  # the shots don't add up to the total: say where the rest went
                shown.append(f"+{len(first) - len(shown)} more")
            part = f"{reg} {{{', '.join(shown)}}} of {body['shots']} shots"
            fidelity = hellinger_fidelity(sets[0], ideal[reg][0]) if sets and ideal.get(reg) else None
            parts.append(part if fidelity is None else f"{part}, Hellinger fidelity {fidelity:.3f} to the ideal")
        return "; ".join(parts)

    def readings(self, job: str, body: JobFile, stated: float | None, limit: int | None) -> list[Reading]:
        return []  # counts are not values; a derived: block makes values of them

    def headline(self, name: str, body: JobFile) -> dict[str, Headline]:
        out: dict[str, Headline] = {}
        for register, sets in (body.get("counts") or {}).items():
            if sets and sets[0]:
                top, count = max(sets[0].items(), key=lambda kv: kv[1])
                out[f"{name}.{register}"] = {"outcome": top, "probability": count / max(1, sum(sets[0].values()))}
        return out

    def paired(self, name: str, a: JobFile, b: JobFile) -> list[Pair]:
        """Each register's likeliest outcomes of the first parameter set (outcome_pairs)."""
        counts_a, counts_b = a.get("counts") or {}, b.get("counts") or {}
        return outcome_pairs(
            name,
            {r: sets[0] for r, sets in counts_a.items() if sets},
            {r: sets[0] for r, sets in counts_b.items() if sets},
        )

    def rows(self, body: JobFile) -> list[list[object]]:
        return []

    def figure(self, plt: ModuleType, body: JobFile, exact: float | None) -> Figure | None:
        """Counts of the first parameter set per classical register, over every outcome of a narrow register (those
        that never occurred too), with the ideal distribution beside them when the job has `exact: statevector`."""
        registers = {reg: sets for reg, sets in body["counts"].items() if sets}  # a register with no sets: no bars
        if not registers:
            return None
        ideal = body.get("ideal") or {}
        expected = {reg: (ideal.get(reg) or [{}])[0] for reg in registers}  # the first set's ideal distribution
        bars = {reg: _bars(body, reg, sets[0], expected[reg]) for reg, sets in registers.items()}
        most = max(len(outcomes) for outcomes, _ in bars.values())
        fig, axes = plt.subplots(
            1, len(registers), figsize=(max(5, 1.0 + 0.45 * most) * len(registers), 4.2), squeeze=False
        )
        for ax, (reg, sets) in zip(axes[0], registers.items()):
            outcomes, title = bars[reg]
            shots = body.get("shots") or sum(sets[0].values()) or 1
            measured = [sets[0].get(o, 0) / shots for o in outcomes]
            xs = range(len(outcomes))
            if reg in ideal:
                shown = floats(expected[reg].get(o, 0.0) for o in outcomes)
                ax.bar([i - 0.2 for i in xs], measured, width=0.4, label="measured")
                ax.bar([i + 0.2 for i in xs], shown, width=0.4, label="ideal")
                ax.set_ylim(0, 1.3 * max([*measured, *shown, 1e-9]))  # room above the bars for the legend
                ax.legend(fontsize="small", loc="upper right")
            else:
                ax.bar(list(xs), measured, label="measured")
            ax.set_xticks(list(xs), outcomes)
            ax.set_title(title)
            ax.set_xlabel(f"outcome ({reg})")
            ax.set_ylabel("probability")
            ax.tick_params(axis="x", rotation=90 if len(outcomes) > 8 else 0)
        fig.tight_layout()
        return fig


def _bars(body: JobFile, reg: str, counts: Mapping[str, int], expected: Mapping[str, object]) -> tuple[list[str], str]:
    """A register's outcomes to draw, and the histogram's title. Every outcome of a register of at most EVERY bits;
    of a wider one, those seen or expected (64 bars drew a figure 30 inches wide, unreadable at a page's width), and
    of those the BARS likeliest, measured or ideal (a bar and a label each for thousands of outcomes took the figure
    many seconds and showed nothing)."""
    w = len(next(iter(counts), "0"))
    outcomes = [format(i, f"0{w}b") for i in range(2**w)] if w <= EVERY else sorted(set(counts) | set(expected))
    shots = body.get("shots") or sum(counts.values()) or 1
    title = f"{body['job']}: register {reg}, {shots} shots"
    if len(outcomes) > BARS:
        likely = sorted(outcomes, key=lambda o: -max(counts.get(o, 0) / shots, number(expected.get(o)) or 0))
        title += f", the {BARS} likeliest of {len(outcomes):,} outcomes"
        outcomes = sorted(likely[:BARS])
    return outcomes, title


def _listed(
    job: Mapping[str, object], circuit: Facts | None, options: Mapping[str, object]
) -> tuple[JsonPath, str] | None:
    """Where and why the job's file could list more outcomes than qrun reads back (exact.MAX_LISTED_OUTCOMES): each
    set's (or short sweep's point's) counts, up to its shots or 2^bits outcomes of each register, and with exact:
    statevector its ideal distribution, up to 2^bits more. None where it cannot, or a long sweep streams its points."""
    registers = _registers(job, circuit)
    sets, what = values_of(job)
    if circuit is None or not registers or sets is None or (what == "sweep point" and sets > defaults.INLINE_POINTS):
        return None
    shots = job.get("shots", options.get("default_shots", DEFAULT_SHOTS))
    ideal = job.get("exact") == "statevector"
    widths = [min(width, circuit.num_qubits) for width in registers.values()]
    outcomes = sum(2**w for w in widths)  # every outcome of each register: an ideal distribution's most
    counted = outcomes if not isinstance(shots, int) else sum(min(shots, 2**w) for w in widths)
    each = counted + (outcomes if ideal else 0)
    if sets * each <= exact.MAX_LISTED_OUTCOMES:
        return None
    widest = max(registers, key=lambda name: registers[name])
    kept = f"{sets * each:,} in all, more than the {exact.MAX_LISTED_OUTCOMES:,} a job's file keeps"
    if ideal and outcomes * sets > exact.MAX_LISTED_OUTCOMES:
        return ("exact",), (
            f"exact: statevector lists each {what}'s ideal distribution beside its counts, up to {each:,} outcomes "
            f"(register '{widest}' has {registers[widest]} bits) in each of {sets:,}: {kept}; give fewer {what}s or "
            "measure fewer qubits, use exact: stabilizer for a Clifford circuit (it lists only the outcomes the state "
            "allows), or leave exact out"
        )
    return ("shots",) if "shots" in job else (), (
        f"each {what}'s counts may list up to {each:,} outcomes (register '{widest}' has {registers[widest]} bits; "
        f"{shots:,} shots{', and the ideal distribution' if ideal else ''}) in each of {sets:,}: {kept}; give "
        f"fewer {what}s or shots, measure fewer qubits, or split the {what}s over several jobs"
        if isinstance(shots, int)
        else f"each {what}'s counts may list up to {each:,} outcomes in each of {sets:,}: {kept}; give fewer {what}s"
    )


def _registers(job: Mapping[str, object], circuit: Facts | None) -> dict[str, int] | None:
    """The registers a sampler job's result has, by name and width: its circuit's, and the `meas` that measure_all
    adds; None where not known (or measure_all would add it under another name, beside a `meas` of the circuit's)."""
    if circuit is None or circuit.registers is None:
        return None
    own = dict(circuit.registers)
    if not job.get("measure_all"):
        return own
    return None if "meas" in own else {**own, "meas": circuit.num_qubits}


def _delivered(data: DataBin, asked: int | None) -> int | None:
    """The shots the primitive delivered, which twirling may round up (1024 for 1000 asked): those the counts sum to."""
    return next((int(bits.num_shots) for bits in data.values() if hasattr(bits, "num_shots")), asked)


def outcome_pairs(name: str, a: Mapping[str, Mapping[str, int]], b: Mapping[str, Mapping[str, int]]) -> list[Pair]:
    """Two runs' counts (register -> outcome -> count) as the likeliest outcomes' probabilities, each with a binomial
    σ and labelled as a derived: block reads it (counts.meas["01"]): what `qrun diff` compares of a sampler."""
    out: list[Pair] = []
    for register in (r for r in a if r in b):
        first_a, first_b = a[register], b[register]
        shots_a, shots_b = sum(first_a.values()), sum(first_b.values())
        if not shots_a or not shots_b:
            continue
        weight = {o: first_a.get(o, 0) / shots_a + first_b.get(o, 0) / shots_b for o in {*first_a, *first_b}}
        for outcome in sorted(weight, key=lambda o: (-weight[o], o))[:PAIRED_OUTCOMES]:
            pa, pb = first_a.get(outcome, 0) / shots_a, first_b.get(outcome, 0) / shots_b
            sa, sb = ((p * (1 - p) / n) ** 0.5 for p, n in ((pa, shots_a), (pb, shots_b)))
            out.append((f'{name}.{register}["{outcome}"]', (pa, sa), (pb, sb)))
    return out


def hellinger_fidelity(counts: Mapping[str, int], ideal: Mapping[str, float | None]) -> float | None:
    """(sum over outcomes of sqrt(p q))^2 of the measured and the ideal distribution; None where an ideal
    probability is unknown (null) or nothing was measured. qiskit's own takes two count dicts and needs qiskit."""
    shots = sum(counts.values())
    if not shots or any(q is None for q in ideal.values()):
        return None
    overlap = sum(math.sqrt(n / shots * (ideal.get(k) or 0.0)) for k, n in counts.items())
    return overlap * overlap
