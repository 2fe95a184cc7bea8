"""Small sampler jobs on aer go to Aer's sampler as one PUB of their rows per circuit and shot count, and each job's
shots are bit for bit those of a PUB of its own in the same call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import Statevector

from qrun import load

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
