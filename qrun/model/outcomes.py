"""What a job's run produced, and the job states: the types the runner hands to results (both import them from here)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias, overload

from .records import Evaluation, Optimum

if TYPE_CHECKING:
    import numpy as np
    from qiskit.primitives import BitArray, PrimitiveResult
    from qiskit.primitives.containers import DataBin

    from ..planning import sweeps  # names in annotations only: the model imports nothing above it

SESSION_EXPIRED = "not run: session expired"
STOPPED_DEADLINE = "stopped: deadline"
FINISHED = ("done", STOPPED_DEADLINE)  # job states whose results a resumed run keeps
# Job statuses after which nothing more will happen; the service reports e.g. "CANCELLED - RAN TOO LONG".
FINAL_STATUS_PREFIXES = ("DONE", "ERROR", "CANCELLED")


def is_final(status: object) -> bool:
    """True for a runtime job status that will not change again, including the whole CANCELLED family."""
    text = str(getattr(status, "name", status)).upper()
    return text.startswith(FINAL_STATUS_PREFIXES)


@dataclass
class MinimizeOutcome:
    """What a minimize job found: every evaluation, the optimum, and how scipy (or the deadline) ended it."""

    trace: list[Evaluation]
    optimum: Optimum
    nfev: int
    message: str
    success: bool
    stopped: str | None
    result: PrimitiveResult = field(repr=False)  # the PrimitiveResult of the evaluation that gave the optimum's value


@dataclass
class SweepOutcome:
    """A swept job's settings (precision or shots) with how many points each had, how many runtime jobs it took,
    and each runtime job's (setting, PrimitiveResult), kept for a sweep short enough for its JSON file, else none."""

    settings: list[dict[str, float | None]]  # each setting of the sweep's, and its "points"
    runtime_jobs: int
    results: list[tuple[sweeps.Setting, PrimitiveResult]] = field(repr=False)

    def add(self, groups: list[sweeps.Group], results: list[PrimitiveResult]) -> None:
        """Count one chunk's groups (one runtime job each) under their settings, in first-seen order."""
        for g in groups:
            entry = next((e for e in self.settings if all(e[k] == v for k, v in g.setting.items())), None)
            if entry is None:
                self.settings.append({**g.setting, "points": 0})
                entry = self.settings[-1]
            entry["points"] = (entry["points"] or 0) + len(g.points)
        self.runtime_jobs += len(groups)
        self.results += [(g.setting, r) for g, r in zip(groups, results)]

    @property
    def result(self) -> PrimitiveResult | None:
        """One PrimitiveResult holding each runtime job's PUB result, in order (None when none were kept)."""
        from qiskit.primitives import PrimitiveResult  # deferred: results reads outcomes without qiskit

        if not self.results:
            return None
        return PrimitiveResult([r[0] for _, r in self.results], metadata={"groups": [s for s, _ in self.results]})


class StackedResults(Sequence["PrimitiveResult"]):
    """A batch's results whose values stack: each field an array whose row k is job k's, as Aer's merged PUBs gave
    them (with each job's own noise). A job's PrimitiveResult is made when it is asked for; the run folder's batch
    file and each job's payload read the rows as they are, with no PrimitiveResult made per job. The arrays are
    read-only: each job's result is a view of its row.

    An estimator batch's fields are its values and standard errors. A sampler batch's are its registers (`bits`:
    each register's width), each row job k's shots as BitArray holds them, (sets, shots, bytes): job k's result is a
    SamplerPubResult of BitArrays."""

    def __init__(
        self,
        fields: dict[str, np.ndarray],
        pub_metadata: list[dict[str, object]],
        metadata_of: list[int],
        metadata: dict[str, object],
        bits: dict[str, int] | None = None,
    ):
        for values in fields.values():
            values.flags.writeable = False
        self.fields, self.pub_metadata, self.metadata_of, self.metadata = fields, pub_metadata, metadata_of, metadata
        self.bits = bits

    def __len__(self) -> int:
        return len(self.metadata_of)

    def __iter__(self) -> Iterator[PrimitiveResult]:
        return (self[k] for k in range(len(self)))

    @overload
    def __getitem__(self, k: int) -> PrimitiveResult: ...
    @overload
    def __getitem__(self, k: slice) -> list[PrimitiveResult]: ...
    def __getitem__(self, k: int | slice) -> PrimitiveResult | list[PrimitiveResult]:
        if isinstance(k, slice):
            return [self[i] for i in range(len(self))[k]]
        # deferred: results reads outcomes without qiskit
        from qiskit.primitives import BitArray, PrimitiveResult, PubResult, SamplerPubResult
        from qiskit.primitives.containers import DataBin

        metadata = self.pub_metadata[self.metadata_of[k]]
        if self.bits is not None:
            registers = {name: BitArray(values[k], self.bits[name]) for name, values in self.fields.items()}
            shape = next(iter(registers.values())).shape
            return PrimitiveResult(
                [SamplerPubResult(DataBin(**registers, shape=shape), metadata=metadata)], metadata=self.metadata
            )
        row = {name: values[k] for name, values in self.fields.items()}
        shape = next(iter(row.values())).shape
        return PrimitiveResult([PubResult(DataBin(**row, shape=shape), metadata=metadata)], metadata=self.metadata)


JobResult: TypeAlias = "PrimitiveResult | MinimizeOutcome | SweepOutcome"  # what running a job gives its payload


def primitive_result(result: JobResult) -> PrimitiveResult:
    """The PrimitiveResult of a kind that runs one primitive (a minimize loop's or a sweep's outcome is none)."""
    if isinstance(result, MinimizeOutcome | SweepOutcome):
        raise TypeError(f"a {type(result).__name__} where a PrimitiveResult belongs")
    return result


def sorted_counts(bits: BitArray, loc: int | None) -> dict[str, int]:
    """bits.get_counts(loc=loc), sorted by bitstring: each distinct shot is found by numpy and formatted once, where
    get_counts formats every shot in Python (two of a 10,000-job sampler run's 12 seconds)."""
    import numpy as np

    arr = bits.array.reshape(-1, bits.array.shape[-1]) if loc is None else bits.array[loc]
    if bits.num_bits == 0 or arr.ndim != 2:
        return dict(sorted(bits.get_counts(loc=loc).items()))  # no bits, or a shape get_counts judges itself
    excess = 8 * arr.shape[-1] - bits.num_bits
    if excess:  # the first byte's bits above num_bits are not the register's, as get_counts masks them
        arr = arr & np.array([0xFF >> excess] + [0xFF] * (arr.shape[-1] - 1), dtype=np.uint8)
    rows, counts = np.unique(arr, axis=0, return_counts=True)  # big-endian rows: sorted as their bitstrings sort
    width = f"0{bits.num_bits}b"
    return {format(int.from_bytes(row.tobytes(), "big"), width): int(n) for row, n in zip(rows, counts, strict=True)}


def registers_of(data: DataBin) -> list[tuple[str, int, tuple[int, ...]]] | None:
    """A sampler result's registers as (name, width, (shots, bytes)), where each is a BitArray over one dimension of
    parameter sets (the form whose counts, and rows, stack across jobs); None otherwise."""
    from qiskit.primitives import BitArray  # deferred: results reads outcomes without qiskit

    values = list(data.items())
    if not all(isinstance(bits, BitArray) and len(bits.shape) == 1 for _, bits in values):
        return None
    return [(name, bits.num_bits, bits.array.shape[1:]) for name, bits in values]


def set_counts(bits: BitArray) -> list[dict[str, int]]:
    """[sorted_counts(bits, i) for each parameter set i] (one dict, of every shot, for a BitArray without sets).

    A register of up to 48 bits, over sets in one dimension, is counted in one pass: each shot becomes the integer
    (set, bitstring), and one np.unique counts them all (np.bincount where there are few possible integers), where a
    call per set cost tens of microseconds each (a sampler job of 10,000 parameter rows spent most of its own time
    there)."""
    import numpy as np

    if not bits.shape:
        return [sorted_counts(bits, None)]
    sets = int(np.prod(bits.shape))
    arr = bits.array
    nbytes, width = arr.shape[-1], bits.num_bits
    if len(bits.shape) != 1 or width == 0 or width > 48 or sets.bit_length() + width > 63:
        return [sorted_counts(bits, i) for i in range(bits.shape[0])]  # set by set, along the first axis
    excess = 8 * nbytes - width
    if excess:  # as sorted_counts: the first byte's bits above num_bits are not the register's
        arr = arr & np.array([0xFF >> excess] + [0xFF] * (nbytes - 1), dtype=np.uint8)
    keys = np.zeros(arr.shape[:-1], dtype=np.uint64)
    for byte in range(nbytes):  # big-endian: the first byte is the most significant
        keys = (keys << np.uint64(8)) | arr[..., byte].astype(np.uint64)
    keys |= np.arange(sets, dtype=np.uint64)[:, None] << np.uint64(width)
    possible = sets << width
    if possible <= max(4 * keys.size, 1 << 16):
        # few possible keys (narrow registers: a batch of small sampler jobs): tallied in one pass, where sorting
        # every shot cost many times as much; the keys found come out sorted, as np.unique gives them
        tallies = np.bincount(keys.ravel().astype(np.intp), minlength=possible)
        found = np.flatnonzero(tallies)
        counts = tallies[found]
        found = found.astype(np.uint64)
    else:
        found, counts = np.unique(keys, return_counts=True)  # sorted by set, then by bitstring
    of_set = (found >> np.uint64(width)).astype(np.int64)
    bounds = np.searchsorted(of_set, np.arange(sets + 1)).tolist()
    values = (found & np.uint64((1 << width) - 1)).tolist()
    totals = counts.tolist()
    spec = f"0{width}b"
    if 1 << width <= len(values):  # each bitstring recurs across the sets: formatted once each
        labels = [format(value, spec) for value in range(1 << width)]
        return [
            {labels[value]: total for value, total in zip(values[a:b], totals[a:b], strict=True)}
            for a, b in zip(bounds, bounds[1:])
        ]
    return [
        {format(value, spec): total for value, total in zip(values[a:b], totals[a:b], strict=True)}
        for a, b in zip(bounds, bounds[1:])
    ]
