"""Small sampler jobs on aer go to Aer's sampler as one PUB of their rows per circuit and shot count, and each job's
shots are bit for bit those of a PUB of its own in the same call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import Statevector

from qrun import load
from qrun.running.events import NullSink

ROWS = np.random.default_rng(8).uniform(-np.pi, np.pi, (4, 3, 4)).round(6)
ONE = ROWS[1][:1].tolist()  # s1's one row
SPEC = f"""version: 1
name: samplers
backend: aer
options: {{seed: 12}}
circuits:
  c: {{library: real_amplitudes, args: {{num_qubits: 2, reps: 1}}}}
  ghz: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] m; h q[0]; cx q[0], q[1]; m = measure q;"}}
jobs:
  - {{name: s0, primitive: sampler, circuit: c, measure_all: true, shots: 100, parameter_values: {ROWS[0].tolist()}}}
  - {{name: s1, primitive: sampler, circuit: c, measure_all: true, shots: 100, parameter_values: {ONE}}}
  - {{name: bare, primitive: sampler, circuit: ghz, shots: 100}}
  - {{name: s2, primitive: sampler, circuit: c, measure_all: true, shots: 200, parameter_values: {ROWS[2].tolist()}}}
  - {{name: s3, primitive: sampler, circuit: c, measure_all: true, shots: 100, parameter_values: {ROWS[3].tolist()}}}
"""
NAMES = ["s0", "s1", "bare", "s2", "s3"]


def test_small_sampler_jobs_go_as_one_pub_of_their_rows_with_the_shots_of_a_pub_each(qrun, write_spec):
    from qrun.app.prepare import check
    from qrun.planning import plan
    from qrun.running.engines import Engines, sampler_pub
    from qrun.running.merging import merged_sampler_pubs
    from qrun.running.streams import submission_seed

    spec = write_spec(SPEC)
    result = qrun(spec, "--out", spec.parent / "results", "-q")
    assert result.code == 0, result.err
    run = load(Path(result.out.strip()))
    entries = run.metadata["jobs"]
    assert len({entry["job_ids"][0] for entry in entries}) == 1  # one runtime job for the five
    # s0, s1 share a PUB; bare has its own; s2 (200 shots) its own; s3 a fourth
    assert [entry["batched"]["pub"] for entry in entries] == [0, 0, 1, 2, 3]

    # the same call with a PUB per job, as qrun sent them before: every job's shots, bit for bit
    jobs = plan.build(check(spec)).jobs
    pubs, _ = merged_sampler_pubs(jobs)
    assert [len(pub[1]) if pub[1] is not None else 0 for pub in pubs] == [4, 0, 3, 3]
    sampler = Engines(plan.build(check(spec)).backend).sampler(jobs[0], None, submission_seed(12, "s0", 0))
    alone = sampler.run([(*(sampler_pub(job) + (None,))[:2], job.shots) for job in jobs]).result()
    for name, own in zip(NAMES, alone, strict=True):
        mine = run.result(name)[0]
        assert mine.data.shape == own.data.shape
        for register, bits in own.data.items():
            np.testing.assert_array_equal(getattr(mine.data, register).array, bits.array)

    # and the shots are the circuit's: each outcome's frequency within 5 binomial standard errors of its probability
    circuit = real_amplitudes(2, reps=1)
    for name, rows, shots in (("s0", ROWS[0], 100), ("s2", ROWS[2], 200)):
        for k, row in enumerate(rows):
            counts = run.jobs[name]["counts"]["meas"][k]
            assert sum(counts.values()) == shots
            for outcome, p in Statevector(circuit.assign_parameters(row)).probabilities_dict().items():
                assert abs(counts.get(outcome, 0) / shots - p) <= 5 * np.sqrt(p * (1 - p) / shots) + 1e-9
    assert sorted(run.jobs["bare"]["counts"]["m"][0]) == ["00", "11"]


def test_a_batchs_counts_counted_in_one_pass_are_each_jobs_own(write_spec):
    """Sampler.payloads (a batch's job files) gives each job the body payload() gives it alone, for jobs of one,
    several and no parameter sets; jobs whose registers do not stack are left to payload()."""
    from qiskit.primitives import BitArray, PrimitiveResult, SamplerPubResult
    from qiskit.primitives.containers import DataBin

    from qrun.app.prepare import check
    from qrun.jobs.sampler import Sampler
    from qrun.planning import plan

    jobs = plan.build(check(write_spec(SPEC))).jobs
    rng = np.random.default_rng(3)

    def result(sets: int, shots: int = 100, **registers: int) -> PrimitiveResult:
        data = {
            name: BitArray(rng.integers(0, 4, size=(sets, shots, 1), dtype=np.uint8), bits)
            for name, bits in registers.items()
        }
        return PrimitiveResult([SamplerPubResult(DataBin(**data, shape=(sets,)))])

    kind = Sampler()
    results = [result(4, meas=2), result(1, meas=2), result(3, meas=2)]
    batch = [jobs[0], jobs[1], jobs[4]]
    payloads = kind.payloads(batch, results)
    assert payloads == [kind.payload(job, r) for job, r in zip(batch, results, strict=True)]
    assert [len(p["counts"]["meas"]) for p in payloads] == [4, 1, 3]
    assert kind.payloads(batch[:2], [results[0], result(1, meas=1)]) is None  # another width
    assert kind.payloads(batch[:2], [results[0], result(1, shots=200, meas=2)]) is None  # other shots
    assert kind.payloads(batch[:2], [results[0], result(1, m=2)]) is None  # another register


def test_a_stacked_sampler_batch_is_each_jobs_own_share_and_counts(write_spec):
    """stacked_sampler_shares: job k's result is its share of the merged PUBs (the same shots, widths, shape and
    metadata), and Sampler.stacked_payloads its payload() alone; shares that do not stack are left to sampler_shares."""
    from qiskit.primitives import BitArray, PrimitiveResult, SamplerPubResult
    from qiskit.primitives.containers import DataBin

    from qrun.app.prepare import check
    from qrun.jobs.sampler import Sampler
    from qrun.planning import plan
    from qrun.running.merging import sampler_shares, stacked_sampler_shares

    jobs = plan.build(check(write_spec(SPEC))).jobs
    rng = np.random.default_rng(5)

    def pub(rows: int, shots: int = 100, **registers: int) -> SamplerPubResult:
        data = {
            name: BitArray(rng.integers(0, 256, size=(rows, shots, (bits + 7) // 8), dtype=np.uint8), bits)
            for name, bits in registers.items()
        }
        return SamplerPubResult(DataBin(**data, shape=(rows,)), metadata={"shots": shots, "rows": rows})

    merged = PrimitiveResult([pub(8, meas=2, flags=9), pub(4, meas=2, flags=9)], metadata={"version": 2})
    parts = [(0, slice(0, 4)), (0, slice(4, 8)), (1, slice(0, 4))]  # three jobs of four sets each
    stacked = stacked_sampler_shares(merged, parts)
    assert stacked is not None and len(stacked) == 3 and stacked.bits == {"meas": 2, "flags": 9}
    for k, share in enumerate(sampler_shares(merged, parts)):
        mine = stacked[k]
        assert mine.metadata == {"version": 2} and mine[0].metadata == share.metadata
        assert type(mine[0]) is SamplerPubResult and mine[0].data.shape == share.data.shape == (4,)
        for name, bits in share.data.items():
            assert mine[0].data[name].num_bits == bits.num_bits
            np.testing.assert_array_equal(mine[0].data[name].array, bits.array)
    batch = [jobs[0], jobs[4], jobs[0]]  # s0 and s3: 100 shots, four sets each
    alone = [
        Sampler().payload(job, PrimitiveResult([share])) for job, share in zip(batch, sampler_shares(merged, parts))
    ]
    assert Sampler().stacked_payloads(batch, stacked) == alone
    assert [sum(p["counts"]["flags"][3].values()) for p in alone] == [100, 100, 100]

    assert stacked_sampler_shares(merged, [(0, slice(0, 4)), (1, slice(0, 3))]) is None  # another number of sets
    assert stacked_sampler_shares(merged, [(0, slice(0, 4)), (1, None)]) is None  # a job with a PUB of its own
    other = PrimitiveResult([pub(4, meas=2, flags=9), pub(4, meas=3, flags=9)])
    assert stacked_sampler_shares(other, [(0, slice(0, 4)), (1, slice(0, 4))]) is None  # another width
    other = PrimitiveResult([pub(4, meas=2), pub(4, shots=50, meas=2)])
    assert stacked_sampler_shares(other, [(0, slice(0, 4)), (1, slice(0, 4))]) is None  # other shots


@pytest.mark.parametrize("stored", ["batch file", "a file each"])
def test_a_batch_file_of_many_sampler_jobs_holds_each_jobs_shots_bit_for_bit(stored, write_spec, monkeypatch):
    """Enough sampler jobs for a batch file (store.batchfile.BATCH_FROM), stacked (no result made per job): each
    job's shots, read back, are those of a PUB of its own in the same call, and its counts are counted from them; so
    too where the batch is too large for one file and each job gets a file of its own, made from its stacked row."""
    from qrun.app import pipeline
    from qrun.app.prepare import check
    from qrun.model.outcomes import StackedResults
    from qrun.planning import plan
    from qrun.running.engines import Engines, sampler_pub
    from qrun.running.streams import submission_seed
    from qrun.store import batchfile
    from qrun.store.batchfile import BATCH_FROM

    rows = np.random.default_rng(9).uniform(-np.pi, np.pi, (BATCH_FROM + 5, 2, 4)).round(6)
    head, _ = SPEC.split("jobs:\n")
    spec = write_spec(
        head
        + "jobs:\n"
        + "".join(
            f"  - {{name: m{k}, primitive: sampler, circuit: c, measure_all: true, shots: 50, "
            f"parameter_values: {r.tolist()}}}\n"
            for k, r in enumerate(rows)
        )
    )
    batches: list[tuple[int, bool]] = []

    class Batches(NullSink):
        def jobs_done(self, jobs, results):
            batches.append((len(jobs), isinstance(results, StackedResults)))

    if stored == "a file each":
        monkeypatch.setattr(batchfile, "MAX_BATCH_BYTES", 1000)
    run = load(pipeline.run(spec, out=spec.parent / "results", progress="none", sinks=[Batches()]))
    assert batches == [(BATCH_FROM + 5, True)]
    files = [entry["file"] for entry in run.metadata["jobs"]]
    if stored == "batch file":
        assert set(files) == {"jobs/00-m0.batch.npz"}
    else:
        assert files[:2] == ["jobs/00-m0.json", "jobs/01-m1.json"] and len(set(files)) == BATCH_FROM + 5

    jobs = plan.build(check(spec)).jobs
    sampler = Engines(plan.build(check(spec)).backend).sampler(jobs[0], None, submission_seed(12, "m0", 0))
    alone = sampler.run([(*(sampler_pub(job) + (None,))[:2], job.shots) for job in jobs]).result()
    for job, own in zip(jobs, alone, strict=True):
        mine = run.result(job.name)[0]
        assert mine.data.shape == own.data.shape == (2,)
        np.testing.assert_array_equal(mine.data.meas.array, own.data.meas.array)
        assert run.jobs[job.name]["counts"]["meas"] == [own.data.meas.get_counts(loc=k) for k in range(2)]
