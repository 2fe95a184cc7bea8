"""A batch's seeds and noise streams, made at once, are numpy's own: the same integers and the same draws."""

from __future__ import annotations

import random

import numpy as np
import pytest

from qrun.running import streams

BIG_SEEDS = [0, 1, 2**32 - 1, 2**32, 2**64 + 5, 2**130 + 3]


@pytest.mark.parametrize("run_seed", BIG_SEEDS)
def test_a_batch_of_submission_seeds_equals_a_seed_sequence_each(run_seed):
    rng = random.Random(run_seed % 1000)
    names = [f"j{i}" for i in range(500)] + ["", "point-3/ünïcode", "x" * 300]
    # k past 2**32 takes two words, and a name hash under 2**32 one: rows of several lengths in one call
    ks = [rng.choice([0, 1, 7, 2**32 - 1, 2**32, 2**40]) for _ in names]
    expected = [
        int(
            np.random.SeedSequence(entropy=run_seed, spawn_key=(streams.name_hash(n), k)).generate_state(
                1, dtype=np.uint32
            )[0]
        )
        for n, k in zip(names, ks, strict=True)
    ]
    assert streams.submission_seeds(run_seed, names, ks) == expected
    assert [streams.submission_seed(run_seed, n, k) for n, k in zip(names, ks, strict=True)] == expected


def test_the_pools_equal_seed_sequences_with_entropy_longer_than_the_pool():
    rows = np.random.default_rng(1).integers(0, 2**32, size=(50, 9), dtype=np.uint32)
    pools = streams.pools(rows)
    states = streams.generate(pools, 6)
    for row, pool, state in zip(rows, pools, states, strict=True):
        sequence = np.random.SeedSequence([int(w) for w in row])
        assert pool.tolist() == sequence.pool.tolist()
        assert state.tolist() == sequence.generate_state(6, dtype=np.uint32).tolist()


ONE_WORD = [0, 1, 2**32 - 1, *random.Random(2).sample(range(2**32), 2000)]


@pytest.mark.parametrize("seeds", [ONE_WORD, [*ONE_WORD, 2**32, 2**64 + 5, 2**40 + 3]], ids=["one word", "wider"])
def test_each_pcg64_state_is_numpys_for_that_seed(seeds):
    noise = streams.Noise(seeds)
    for seed in seeds:
        state, inc = noise.states[seed]
        assert np.random.PCG64(seed).state["state"] == {"state": state, "inc": inc}


@pytest.mark.parametrize("shape", [(1,), (3,), (2, 4), (3, 5), (40,)])
def test_each_jobs_draws_are_its_own_generators_bit_for_bit(shape):
    seeds = [11, 12, 2**31 + 9, 11]  # a seed twice: each draw starts its stream afresh
    noise = streams.Noise(seeds)
    base = np.linspace(-1, 1, int(np.prod(shape)) * 2).reshape(*shape[:-1], shape[-1] * 2)
    mean = base[..., ::2]  # a strided view, as a job's columns of a merged PUB are
    mean.flat[0] = np.nan
    for i, seed in enumerate(seeds):
        drawn = noise.normal(i, mean, 0.25)
        expected = np.random.Generator(np.random.PCG64(seed)).normal(mean, 0.25, mean.shape)
        assert drawn.shape == expected.shape
        np.testing.assert_array_equal(drawn, expected)
    assert not np.array_equal(noise.normal(0, mean, 0.25), noise.normal(1, mean, 0.25))


@pytest.mark.parametrize("size", [1, 3, 8, 9, 40])
def test_a_batchs_rows_are_each_jobs_own_draws_bit_for_bit(size):
    """Noise.rows, the stacked batch's loop, draws what draws() does for each row: a zero sigma keeps its row, a
    seed twice starts its stream afresh, and past eight values a row takes draws()'s array path."""
    seeds = [11, 12, 2**31 + 9, 11, 2**40 + 3, 5]
    sigmas = [0.25, 0.0, 0.1, 0.25, 0.5, 1e-3]
    means = np.linspace(-1, 1, len(seeds) * size).reshape(len(seeds), size)
    means[0, 0] = np.nan
    means[3] = means[0]
    noise = streams.Noise(seeds)
    drawn = noise.rows(means, sigmas)
    expected = [
        np.random.Generator(np.random.PCG64(seed)).normal(row, sigma, row.shape) if sigma > 0 else row
        for seed, row, sigma in zip(seeds, means, sigmas, strict=True)
    ]
    np.testing.assert_array_equal(drawn, np.array(expected))
    assert drawn.shape == means.shape
    np.testing.assert_array_equal(drawn[1], means[1])  # sigma 0: the value as it is
    np.testing.assert_array_equal(drawn[0], drawn[3])  # the same seed, values and sigma: the same draws


def test_a_batchs_rows_without_a_seed_draw_fresh_noise():
    means = np.zeros((3, 2))
    drawn = streams.Noise([None, 4, None]).rows(means, [1.0, 1.0, 1.0])
    assert not np.array_equal(drawn[0], drawn[2])
    np.testing.assert_array_equal(drawn[1], np.random.Generator(np.random.PCG64(4)).normal(means[1], 1.0, (2,)))


def test_no_seed_draws_fresh_noise_and_a_disagreeing_numpy_falls_back_to_numpys_classes(monkeypatch):
    mean = np.zeros(3)
    noise = streams.Noise([None, None])
    assert not np.array_equal(noise.normal(0, mean, 1.0), noise.normal(1, mean, 1.0))
    monkeypatch.setattr(streams, "agrees", lambda: False)
    fallback = streams.Noise([5])
    assert fallback.states == {}
    np.testing.assert_array_equal(
        fallback.normal(0, mean, 1.0), np.random.Generator(np.random.PCG64(5)).normal(mean, 1.0, (3,))
    )
    assert streams.submission_seeds(3, ["a"], [2]) == [streams.submission_seed(3, "a", 2)]


def test_this_numpy_agrees_and_a_negative_seed_is_refused():
    assert streams.agrees()
    with pytest.raises(ValueError, match="a seed must be non-negative, got -1"):
        streams.words(-1)
