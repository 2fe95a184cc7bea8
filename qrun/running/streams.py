"""Many jobs' seeds and noise streams at once: numpy's SeedSequence and PCG64 seeding, computed for a whole batch.

A batched run of 10,000 small estimator jobs built two SeedSequences and a PCG64 for each job (its seed, then its
noise stream), about 40 microseconds a job. Here the SeedSequence hash runs once over an array of every job's entropy,
each PCG64 state is two 128-bit multiply-adds, and one Generator is re-stated for each job. The values are numpy's
own: tests hold them equal to `SeedSequence(...).generate_state` and `Generator(PCG64(seed)).normal(...)` for
thousands of inputs, and `agrees()` checks one known stream on first use, so a numpy that ever seeded differently
would make qrun fall back to numpy's own classes rather than draw other values.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

import numpy as np

# SeedSequence's constants (numpy/random/bit_generator.pyx, after Melissa O'Neill's seed_seq_fe)
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = np.uint32(0xCA01F9DD), np.uint32(0x4973F715)
_SHIFT, _POOL, _MASK32 = 16, 4, 0xFFFFFFFF
# PCG64's 128-bit LCG multiplier (numpy/random/src/pcg64/pcg64.h, PCG_DEFAULT_MULTIPLIER_128)
_PCG_MULT = (2549297995355413924 << 64) + 4865540595714422341
_SMALL = 8  # up to this many values a job's draws are scalar calls: numpy's array call costs more than a few of them


def words(n: int) -> list[int]:
    """An integer as SeedSequence reads it: little-endian 32-bit words, [0] for zero."""
    if n < 0:
        raise ValueError(f"a seed must be non-negative, got {n}")
    out = [n & _MASK32]
    n >>= 32
    while n:
        out.append(n & _MASK32)
        n >>= 32
    return out


def _hashmix(values: np.ndarray, const: int) -> tuple[np.ndarray, int]:
    const_now = np.uint32(const)
    const = (const * _MULT_A) & _MASK32
    mixed = (values ^ const_now) * np.uint32(const)
    return mixed ^ (mixed >> _SHIFT), const


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result: np.ndarray = np.subtract(_MIX_L * x, _MIX_R * y, dtype=np.uint32)
    return result ^ (result >> _SHIFT)


def pools(entropy: np.ndarray) -> np.ndarray:
    """The pools of SeedSequences whose assembled entropy is each row of `entropy` (n, m uint32): (n, 4) uint32."""
    n, m = entropy.shape
    const = _INIT_A
    pool = np.empty((n, _POOL), dtype=np.uint32)
    for i in range(_POOL):
        pool[:, i], const = _hashmix(entropy[:, i] if i < m else np.zeros(n, dtype=np.uint32), const)
    for source in range(_POOL):
        for target in range(_POOL):
            if source != target:
                mixed, const = _hashmix(pool[:, source], const)
                pool[:, target] = _mix(pool[:, target], mixed)
    for source in range(_POOL, m):
        for target in range(_POOL):
            mixed, const = _hashmix(entropy[:, source], const)
            pool[:, target] = _mix(pool[:, target], mixed)
    return pool


def generate(pool: np.ndarray, n_words: int) -> np.ndarray:
    """`generate_state(n_words, np.uint32)` of each pool's SeedSequence: (n, n_words) uint32."""
    const = _INIT_B
    out = np.empty((len(pool), n_words), dtype=np.uint32)
    for i in range(n_words):
        value = pool[:, i % _POOL] ^ np.uint32(const)
        const = (const * _MULT_B) & _MASK32
        value = value * np.uint32(const)
        out[:, i] = value ^ (value >> _SHIFT)
    return out


def _generated(entropies: Sequence[list[int]], n_words: int) -> list[tuple[list[int], np.ndarray]]:
    """generate_state(n_words, uint32) for each assembled entropy, as (rows, their (len(rows), n_words) array): rows of
    one length are hashed as one array."""
    by_length: dict[int, list[int]] = {}
    for i, row in enumerate(entropies):
        by_length.setdefault(len(row), []).append(i)
    return [
        (rows, generate(pools(np.array([entropies[i] for i in rows], dtype=np.uint32)), n_words))
        for rows in by_length.values()
    ]


def _states(entropies: Sequence[list[int]], n_words: int) -> list[list[int]]:
    """generate_state(n_words, uint32) for each assembled entropy, as Python ints."""
    out: list[list[int]] = [[] for _ in entropies]
    for rows, made in _generated(entropies, n_words):
        for i, state in zip(rows, made.tolist(), strict=True):
            out[i] = state
    return out


def name_hash(name: str) -> int:
    return int.from_bytes(_name_digest(name), "little")


def _name_digest(name: str) -> bytes:
    """The 8 bytes of a stream's name that name_hash reads as a little-endian integer."""
    return hashlib.sha256(name.encode("utf-8")).digest()[:8]


def submission_seed(run_seed: int, name: str, k: int) -> int:
    """numpy's SeedSequence over (run seed, a hash of the stream's name, k): independent streams for every run, job
    and submission. (seed + k would give run s's job k the noise of run s+1's job k-1.)"""
    sequence = np.random.SeedSequence(entropy=run_seed, spawn_key=(name_hash(name), k))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def submission_seeds(run_seed: int, names: Sequence[str], ks: Sequence[int]) -> list[int]:
    """[submission_seed(run_seed, name, k) for each name and k], hashed as one array."""
    if not agrees():
        return [submission_seed(run_seed, name, k) for name, k in zip(names, ks, strict=True)]
    run = words(run_seed)
    run += [0] * (_POOL - len(run))  # SeedSequence pads the run's entropy to the pool when a spawn key follows
    hashes = np.frombuffer(b"".join(_name_digest(name) for name in names), dtype="<u8")  # name_hash of each name
    counts = np.array(ks, dtype=np.uint64)
    # the usual row, a hash of two words and a count of one, is assembled as columns of one array; the rare rest
    # (a hash under 2**32, a count past it) as words() makes them
    usual = (hashes >> np.uint64(32) != 0) & (counts >> np.uint64(32) == 0)
    out = np.empty(len(hashes), dtype=np.uint32)
    if usual.any():
        entropy = np.empty((int(usual.sum()), len(run) + 3), dtype=np.uint32)
        entropy[:, : len(run)] = run
        entropy[:, len(run)] = hashes[usual] & np.uint64(_MASK32)
        entropy[:, len(run) + 1] = hashes[usual] >> np.uint64(32)
        entropy[:, len(run) + 2] = counts[usual]
        out[usual] = generate(pools(entropy), 1)[:, 0]
    rest = np.flatnonzero(~usual).tolist()
    if rest:
        entropies = [run + words(int(hashes[i])) + words(int(counts[i])) for i in rest]
        out[rest] = [state[0] for state in _states(entropies, 1)]
    return out.tolist()


def pcg64_states(seeds: Sequence[int]) -> list[tuple[int, int]]:
    """PCG64's (state, inc) seeded by each seed, as numpy's pcg64_set_seed makes them from the seed's
    SeedSequence.generate_state(8, uint32): the seeds of one word (every submission seed is one) hashed as one column,
    each 128-bit state worked out in (high, low) 64-bit arrays, and only the results made Python integers."""
    out: list[tuple[int, int]] = [(0, 0)] * len(seeds)
    if seeds and min(seeds) >= 0 and max(seeds) <= _MASK32:
        groups = [(list(range(len(seeds))), generate(pools(np.array(seeds, dtype=np.uint32).reshape(-1, 1)), 8))]
    else:
        groups = _generated([words(s) for s in seeds], 8)
    for rows, made in groups:
        wide = made.astype(np.uint64)
        a, b, c, d = (wide[:, 2 * k] | wide[:, 2 * k + 1] << np.uint64(32) for k in range(4))
        state, inc = _pcg64_seeded(a, b, c, d)
        for i, s_hi, s_lo, i_hi, i_lo in zip(rows, *(half.tolist() for half in (*state, *inc)), strict=True):
            out[i] = (s_hi << 64 | s_lo, i_hi << 64 | i_lo)
    return out


_LOW32 = np.uint64(_MASK32)
_MULT_HI, _MULT_LO = np.uint64(_PCG_MULT >> 64), np.uint64(_PCG_MULT & ((1 << 64) - 1))


def _pcg64_seeded(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """pcg64_set_seed over arrays: the initial state a:b and sequence c:d (high:low 64-bit words) give ((state high,
    low), (inc high, low)), where inc = sequence << 1 | 1 and the state is one LCG step from zero (inc) plus the initial
    state, stepped once more: (inc + initial) * multiplier + inc, modulo 2**128. uint64 arithmetic wraps modulo 2**64,
    so each 128-bit sum carries by hand and the product's low 128 bits come from 32-bit halves."""
    one = np.uint64(1)
    inc = (c << one | d >> np.uint64(63), d << one | one)
    start = _add128(inc, (a, b))
    high, low = _mul64(start[1], _MULT_LO)
    product = (high + start[0] * _MULT_LO + start[1] * _MULT_HI, low)
    return _add128(product, inc), inc


def _add128(x: tuple[np.ndarray, np.ndarray], y: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    low = x[1] + y[1]
    return x[0] + y[0] + (low < y[1]).astype(np.uint64), low


def _mul64(x: np.ndarray, y: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """The full 128-bit product of 64-bit words, as (high, low)."""
    shift = np.uint64(32)
    x_hi, x_lo, y_hi, y_lo = x >> shift, x & _LOW32, y >> shift, y & _LOW32
    ll, lh, hl = x_lo * y_lo, x_lo * y_hi, x_hi * y_lo
    middle = (ll >> shift) + (lh & _LOW32) + (hl & _LOW32)
    return x_hi * y_hi + (lh >> shift) + (hl >> shift) + (middle >> shift), (ll & _LOW32) | (middle << shift)


class Noise:
    """Gaussian draws on each seed's own stream, `Generator(PCG64(seed)).normal(mean, sigma, mean.shape)`, with one
    Generator re-stated per seed instead of a SeedSequence, a PCG64 and a Generator each (None: fresh entropy)."""

    def __init__(self, seeds: Sequence[int | None]) -> None:
        self.seeds = list(seeds)
        known = [s for s in self.seeds if s is not None] if agrees() else []
        self.states: dict[int, tuple[int, int]] = dict(zip(known, pcg64_states(known), strict=True))
        self.bits = np.random.PCG64(0)
        self.generator = np.random.Generator(self.bits)

    def normal(self, i: int, mean: np.ndarray, sigma: float) -> np.ndarray:
        return np.asarray(self.draws(i, mean, sigma), dtype=float).reshape(mean.shape)

    def draws(self, i: int, mean: np.ndarray, sigma: float) -> list[float] | np.ndarray:
        """normal(i, mean, sigma)'s values flat, in C order: a list where they are few (no array is made for them;
        a stacked batch writes them straight into its row)."""
        seed = self.seeds[i]
        if seed is None or seed not in self.states:
            return np.random.Generator(np.random.PCG64(seed)).normal(mean, sigma, mean.shape).ravel()
        state, inc = self.states[seed]
        self.bits.state = {
            "bit_generator": "PCG64",
            "state": {"state": state, "inc": inc},
            "has_uint32": 0,
            "uinteger": 0,
        }
        if mean.size > _SMALL:
            return self.generator.normal(mean, sigma, mean.shape).ravel()
        # numpy's scalar and array paths call the same C function per value, in the array's C order
        draw = self.generator.normal
        return [draw(m, sigma) for m in mean.ravel().tolist()]

    def rows(self, means: np.ndarray, sigmas: Sequence[float]) -> np.ndarray:
        """[draws(i, means[i], sigmas[i]) for each row i of `means` (n, size)] as one (n, size) array; a row whose
        sigma is 0 is kept as it is. A batch's jobs of one shape take this loop: one state dict re-filled for every
        job, and no array or call per job beside numpy's own draws."""
        values = means.tolist()
        bits, draw, states = self.bits, self.generator.normal, self.states
        state = bits.state  # a new dict, in the setter's own form: re-filled for each job below
        inner, state["has_uint32"], state["uinteger"] = state["state"], 0, 0
        small = means.shape[1] <= _SMALL
        for i, (seed, row, sigma) in enumerate(zip(self.seeds, values, sigmas, strict=True)):
            if not sigma > 0:
                continue
            known = states.get(seed) if small and seed is not None else None
            if known is None:  # fresh entropy, a numpy that seeds otherwise, or many values: draws() as it is
                values[i] = list(self.draws(i, means[i], sigma))
                continue
            inner["state"], inner["inc"] = known
            bits.state = state
            values[i] = [draw(row[0], sigma)] if len(row) == 1 else [draw(m, sigma) for m in row]
        return np.array(values, dtype=float).reshape(means.shape)


@functools.cache
def agrees() -> bool:
    """Whether this numpy seeds as computed here: one known seed, its submission seed and its stream's first draw."""
    entropy = words(7) + [0, 0, 0] + words(name_hash("check")) + words(3)
    if _states([entropy], 1)[0][0] != submission_seed(7, "check", 3):
        return False
    ((state, inc),) = pcg64_states([12345])
    return np.random.PCG64(12345).state["state"] == {"state": state, "inc": inc}
