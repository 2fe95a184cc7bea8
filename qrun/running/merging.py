"""Merged PUBs on Aer's own primitives: many jobs' parameter rows as one PUB, and one PUB's rows as several."""

from __future__ import annotations

import itertools

import numpy as np
from qiskit.primitives import PrimitiveResult, PubResult, SamplerPubResult
from qiskit.primitives.containers import DataBin

from ..model.outcomes import StackedResults, registers_of
from ..model.plan import JobPlan
from ..planning.sweeps import LOCAL_CHUNK
from .engines import sampler_pub
from .submission import padded

# Parameter rows per PUB sent to Aer for exact values: a job's many rows, or a batch's merged rows, go out as PUBs of
# this many, the size of a sweep's chunk. Aer runs many rows faster in PUBs of 500 than in one PUB, in less memory
# (RESULTS.md, "A job's many rows in PUBs of 500").
ROWS_PER_PUB = LOCAL_CHUNK


def stacked_rows(jobs: list[JobPlan]) -> tuple[np.ndarray, list[slice]]:
    """The parameter rows of `jobs` (each with values) as one array, and each job's rows in it."""
    # a plan's values are rows already (n, parameters); a job bound to an optimum's may be one flat row
    rows = [
        v if isinstance(v, np.ndarray) and v.ndim == 2 else np.atleast_2d(np.asarray(v))
        for v in (j.parameter_values for j in jobs)
    ]
    first = rows[0]
    # twins share one read-only array of values: repeated, not stacked from as many references to it
    stacked = np.tile(first, (len(rows), 1)) if all(r is first for r in rows) else np.vstack(rows)
    slices, start = [], 0
    for r in rows:
        slices.append(slice(start, start + len(r)))
        start += len(r)
    return stacked, slices


def merged_sampler_pubs(jobs: list[JobPlan]) -> tuple[list[tuple], list[tuple[int, slice | None]]]:
    """PUBs for sampler `jobs` on Aer's own sampler: one per run of consecutive jobs on the same circuit with the same
    shots, their rows stacked (a job without parameters keeps a PUB of its own); and each job's PUB and rows in it.

    Aer seeds each row it runs by the row's place among all the rows of the call, whatever PUBs they came in, so a
    job's shots are those it gets in a PUB of its own, bit for bit; and Aer runs one PUB of 500 rows in a third of
    the time of 500 PUBs of one row (RESULTS.md, "Small sampler jobs as one PUB")."""
    pubs: list[tuple] = []
    parts: list[tuple[int, slice | None]] = []
    for (_, _, bare), run in itertools.groupby(
        jobs, key=lambda j: (id(j.circuit), j.shots, j.parameter_values is None)
    ):
        group = list(run)
        if bare:
            for job in group:
                pubs.append((*padded(sampler_pub(job), 2), job.shots))
                parts.append((len(pubs) - 1, None))
            continue
        stacked, slices = stacked_rows(group)
        pubs.append((group[0].circuit, stacked, group[0].shots))
        parts.extend((len(pubs) - 1, rows) for rows in slices)
    return pubs, parts


def sampler_shares(result: PrimitiveResult, parts: list[tuple[int, slice | None]]) -> list[SamplerPubResult]:
    """Each job's share of a result of merged sampler PUBs: its own rows of every register, and its PUB's metadata
    (one dict for the PUB's jobs, which a batch file writes once)."""
    shares = []
    for index, rows in parts:
        pub = result[index]
        if rows is None:
            shares.append(pub)
            continue
        data = {name: bits[rows] for name, bits in pub.data.items()}
        shares.append(SamplerPubResult(DataBin(**data, shape=(rows.stop - rows.start,)), metadata=pub.metadata))
    return shares


def stacked_sampler_shares(result: PrimitiveResult, parts: list[tuple[int, slice | None]]) -> StackedResults | None:
    """sampler_shares(), stacked (model.outcomes.StackedResults): each register one array whose row k is job k's
    shots, where every job has rows of its own in a merged PUB, as many as each other job, and every PUB has the same
    registers (names, widths and shots). No SamplerPubResult is made per job; its payload and the batch file read
    the rows as they are. None otherwise: each job then gets its share."""
    sizes = {None if rows is None else rows.stop - rows.start for _, rows in parts}
    if None in sizes or len(sizes) != 1:
        return None
    pubs = list(dict.fromkeys(index for index, _ in parts))
    signature = registers_of(result[pubs[0]].data)
    if not signature or any(registers_of(result[index].data) != signature for index in pubs[1:]):
        return None
    arrays = {index: {name: bits.array for name, bits in result[index].data.items()} for index in pubs}
    fields = {name: np.stack([arrays[index][name][rows] for index, rows in parts]) for name, _, _ in signature}
    order = {index: k for k, index in enumerate(pubs)}  # each PUB's metadata, written once
    return StackedResults(
        fields,
        [result[index].metadata for index in pubs],
        [order[index] for index, _ in parts],
        result.metadata,
        bits={name: width for name, width, _ in signature},
    )


def row_chunks(pubs: list[tuple], limit: int = ROWS_PER_PUB) -> tuple[list[tuple], list[int]]:
    """`pubs` as sent: each estimator PUB of more than `limit` parameter rows (its values (rows, parameters), its
    observables a column) as consecutive PUBs of `limit` rows; and how many PUBs each became, for rejoined()."""
    sent: list[tuple] = []
    counts: list[int] = []
    for pub in pubs:
        values = pub[2] if len(pub) > 2 else None
        if not isinstance(values, np.ndarray) or values.ndim != 2 or len(values) <= limit:
            sent.append(pub)
            counts.append(1)
            continue
        starts = range(0, len(values), limit)
        sent.extend((pub[0], pub[1], values[start : start + limit], *pub[3:]) for start in starts)
        counts.append(len(starts))
    return sent, counts


def rejoined(result: PrimitiveResult, counts: list[int]) -> PrimitiveResult:
    """The result of row_chunks' PUBs as one PUB result each of `pubs` would have given: values and standard errors
    put back together along the rows (the last axis), the first chunk's metadata with the number of chunks."""
    if all(count == 1 for count in counts):
        return result
    out: list[PubResult] = []
    at = 0
    for count in counts:
        chunk = [result[i] for i in range(at, at + count)]
        at += count
        if count == 1:
            out.append(chunk[0])
            continue
        evs, stds = (
            np.concatenate([np.asarray(getattr(p.data, f), dtype=float) for p in chunk], axis=-1)
            for f in ("evs", "stds")
        )
        metadata = {**dict(chunk[0].metadata), "chunks": count}
        out.append(PubResult(DataBin(evs=evs, stds=stds, shape=evs.shape), metadata=metadata))
    return PrimitiveResult(out, metadata=result.metadata)
