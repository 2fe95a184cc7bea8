"""A batch of exact-estimator jobs' results stacked into arrays (model.outcomes.StackedResults): each job's values are
its own noise draw on its rows, its PrimitiveResult is made only when asked for, and the sinks that take the whole
batch get it as it is."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from qiskit.primitives import PrimitiveResult, PubResult
from qiskit.primitives.containers import DataBin

from qrun.model.outcomes import StackedResults
from qrun.running.batching import pub_shares, shot_noise_results, stacked_shares
from qrun.running.events import Fanout, NullSink
from qrun.views.progress import Reporter

VALUES = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])  # one observable, six parameter rows of one merged PUB
AER = PrimitiveResult(
    [PubResult(DataBin(evs=VALUES, stds=np.zeros_like(VALUES), shape=VALUES.shape), metadata={"simulator": "aer"})],
    metadata={"version": 2},
)


def expected(seed: int, rows: np.ndarray, sigma: float) -> np.ndarray:
    return np.random.Generator(np.random.PCG64(seed)).normal(rows, sigma, rows.shape)


def test_jobs_of_one_shape_are_stacked_each_with_its_own_seeds_noise():
    parts = [(0, slice(0, 2)), (0, slice(2, 4)), (0, slice(4, 6))]
    results = shot_noise_results(AER, parts, [0.1, 0.1, 0.0], [11, 12, 13])
    assert isinstance(results, StackedResults) and len(results) == 3
    assert results.fields["evs"].shape == (3, 1, 2)
    for k, (seed, sigma) in enumerate([(11, 0.1), (12, 0.1), (13, 0.0)]):
        rows = VALUES[:, 2 * k : 2 * k + 2]
        pub = results[k][0]
        assert np.array_equal(pub.data.evs, expected(seed, rows, sigma) if sigma else rows)
        assert np.array_equal(pub.data.stds, np.full((1, 2), sigma)) and pub.data.shape == (1, 2)
        assert pub.metadata == {"simulator": "aer", "target_precision": sigma}
        assert results[k].metadata == {"version": 2}
    assert results.metadata_of == [0, 0, 1]  # one metadata per PUB and precision
    with pytest.raises(ValueError, match="read-only"):  # each job's result is a view of its row: none may write it
        results[0][0].data.evs[0, 0] = 9.0


def test_jobs_of_other_shapes_get_a_result_each_with_the_same_values():
    parts = [(0, slice(0, 1)), (0, slice(1, 4))]
    results = shot_noise_results(AER, parts, [0.2, 0.2], [21, 22])
    assert not isinstance(results, StackedResults)
    assert np.array_equal(results[0][0].data.evs, expected(21, VALUES[:, :1], 0.2))
    assert np.array_equal(results[1][0].data.evs, expected(22, VALUES[:, 1:4], 0.2))
    assert results[1][0].metadata == {"simulator": "aer", "target_precision": 0.2}


def test_a_fake_devices_merged_pubs_are_stacked_into_the_very_shares_each_job_gets_alone():
    # a fake device samples each row: two PUBs of two observables, their rows shared among three jobs of one shape
    evs = [np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]]), np.array([[-0.1, -0.2], [-0.3, -0.4]])]
    sampled = PrimitiveResult(
        [
            PubResult(DataBin(evs=v, stds=v / 10, shape=v.shape), metadata={"target_precision": 0.05, "pub": k})
            for k, v in enumerate(evs)
        ],
        metadata={"version": 2},
    )
    parts = [(0, slice(0, 2)), (0, slice(2, 4)), (1, slice(0, 2))]
    stacked = stacked_shares(sampled, parts)
    assert isinstance(stacked, StackedResults) and stacked.metadata_of == [0, 0, 1]
    for k, share in enumerate(pub_shares(sampled, parts)):
        mine = stacked[k]
        assert mine.metadata == {"version": 2} and mine[0].metadata == share.metadata
        assert mine[0].data.shape == share.data.shape == (2, 2)
        for field in ("evs", "stds"):
            np.testing.assert_array_equal(mine[0].data[field], share.data[field])
    assert np.array_equal(stacked[2][0].data.evs, evs[1]) and np.array_equal(
        stacked[1][0].data.stds, evs[0][:, 2:] / 10
    )
    # a job with a PUB of its own, or shares of other shapes: a PubResult each, as before
    assert stacked_shares(sampled, [(0, None), (1, slice(0, 2))]) is None
    assert stacked_shares(sampled, [(0, slice(0, 1)), (0, slice(1, 4))]) is None


class Recorder(NullSink):
    def __init__(self) -> None:
        self.got: list[object] = []

    def jobs_done(self, jobs, results):
        self.got.append(results)


def test_a_sink_given_every_job_gets_the_stacked_results_and_one_given_some_gets_their_results():
    jobs = [SimpleNamespace(name=f"j{k}", run_key=k % 2) for k in range(4)]
    stacked = shot_noise_results(AER, [(0, slice(k, k + 1)) for k in range(4)], [0.1] * 4, [1, 2, 3, 4])
    whole, part = Recorder(), Recorder()

    class Split(Fanout):
        def for_jobs(self, batch):
            return [(whole, list(batch)), (part, [j for j in batch if j.run_key == 1])]

    Split([whole, part]).jobs_done(jobs, stacked)  # type: ignore[arg-type]
    assert whole.got == [stacked]
    (mine,) = part.got
    assert [np.asarray(r[0].data.evs).tolist() for r in mine] == [
        np.asarray(stacked[k][0].data.evs).tolist() for k in (1, 3)
    ]


def test_a_quiet_reporter_makes_no_result():
    class Untouchable(StackedResults):
        def __getitem__(self, k):
            raise AssertionError("a quiet reporter made a job's result")

    results = Untouchable({"evs": np.zeros((2, 1)), "stds": np.zeros((2, 1))}, [{}], [0, 0], {})
    plan = SimpleNamespace(jobs=[], name="s")
    Reporter(plan, quiet=True).jobs_done([SimpleNamespace(), SimpleNamespace()], results)  # type: ignore[arg-type]


def test_twins_sharing_one_array_of_rows_are_merged_as_their_rows_stacked_in_order():
    """merged_estimator_pubs: jobs that share one read-only array of two rows each (twins) get a PUB of those rows
    repeated job after job, as stacking each job's rows gives, and each its own two columns."""
    from qiskit.quantum_info import SparsePauliOp

    from qrun.running.batching import merged_estimator_pubs

    shared = np.array([[0.1, 0.2], [0.3, 0.4]])
    shared.flags.writeable = False
    observables, circuit = (("z", SparsePauliOp("ZI")),), object()
    own = np.array([[0.5, 0.6]])
    for values in ([shared, shared, shared], [shared, shared, own]):
        jobs = [
            SimpleNamespace(circuit=circuit, observables=observables, parameter_values=v, precision=0.1) for v in values
        ]
        pubs, parts = merged_estimator_pubs(jobs)  # type: ignore[arg-type]
        (pub,) = pubs
        assert np.array_equal(pub[2], np.vstack(values)) and pub[3] == 0.0
        starts = np.cumsum([0, *(len(v) for v in values)]).tolist()
        assert parts == [(0, slice(a, b)) for a, b in zip(starts, starts[1:], strict=False)]
