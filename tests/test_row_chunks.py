"""Many parameter rows on aer go to Aer as PUBs of at most 500 rows, a job's own or a batch's merged ones, and each
job's values are those of one PUB of all its rows, bit for bit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp, Statevector

from qrun import load
from qrun.running.merging import ROWS_PER_PUB

if TYPE_CHECKING:
    from qrun.store.reader import Run

LONG = np.random.default_rng(3).uniform(-np.pi, np.pi, (1_201, 4)).round(6)  # three PUBs: 500, 500, 201 rows
SHORT = np.random.default_rng(4).uniform(-np.pi, np.pi, (3, 400, 4)).round(6)  # merged, 1,200 rows: cut inside b
SPEC = """version: 1
name: rows
backend: aer
options: {seed: 9, default_precision: 0.01BATCH}
circuits:
  c: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}
observables:
  z: ZI
  xx: XX
jobs:
"""
LONE = f"""  - {{name: long, primitive: estimator, circuit: c, observables: [z, xx], parameter_values: {LONG.tolist()}}}
"""
THREE = f"""  - {{name: a, primitive: estimator, circuit: c, observables: [z], parameter_values: {SHORT[0].tolist()}}}
  - {{name: b, primitive: estimator, circuit: c, observables: [z], parameter_values: {SHORT[1].tolist()}}}
  - {{name: c, primitive: estimator, circuit: c, observables: [z], parameter_values: {SHORT[2].tolist()}}}
"""


def _run(qrun_cli, write_spec, tmp_path, jobs: str, batch: str = "") -> Run:
    spec = write_spec(SPEC.replace("BATCH", batch) + jobs, f"rows{len(jobs)}-{len(batch)}.yaml")
    result = qrun_cli(spec, "--out", tmp_path, "-q")
    assert result.code == 0, result.err
    return load(Path(result.out.strip()))


def test_a_jobs_many_rows_go_to_aer_in_pubs_of_500_and_give_one_pubs_values_bit_for_bit(qrun, write_spec, tmp_path):
    from qiskit_aer.primitives import EstimatorV2

    from qrun.running.streams import submission_seed

    assert ROWS_PER_PUB == 500
    run = _run(qrun, write_spec, tmp_path, LONE)  # a job alone: no batch
    pub = run.result("long")[0]
    assert pub.metadata["chunks"] == 3 and pub.data.evs.shape == (2, 1_201)
    # what Aer gives for one PUB of every row, with the job's own seed: the one call qrun made before
    ops = [SparsePauliOp("ZI"), SparsePauliOp("XX")]
    circuit = real_amplitudes(2, reps=1)
    aer = EstimatorV2(
        options={
            "default_precision": 0.01,
            "backend_options": {"max_parallel_experiments": 0, "method": "statevector"},
            "run_options": {"seed_simulator": submission_seed(9, "long", 0)},
        }
    )
    whole = aer.run([(circuit, [[op] for op in ops], LONG)]).result()[0]
    np.testing.assert_array_equal(pub.data.evs, whole.data.evs)
    np.testing.assert_array_equal(pub.data.stds, np.full((2, 1_201), 0.01))
    exact = [[Statevector(circuit.assign_parameters(row)).expectation_value(op).real for row in LONG] for op in ops]
    np.testing.assert_allclose(pub.data.evs, exact, atol=5 * 0.01)  # 5 standard errors of the emulated shot noise
    assert run.jobs["long"]["observables"]["xx"]["values"] == whole.data.evs[1].tolist()


def test_a_batchs_merged_rows_cut_into_pubs_of_500_give_each_job_the_values_it_gets_alone(qrun, write_spec, tmp_path):
    batched = _run(qrun, write_spec, tmp_path / "batched", THREE)
    alone = _run(qrun, write_spec, tmp_path / "alone", THREE, ", batch: false")
    assert len({tuple(entry["job_ids"]) for entry in batched.metadata["jobs"]}) == 1  # one runtime job
    for name, rows in zip("abc", SHORT, strict=True):
        mine, own = batched.result(name)[0], alone.result(name)[0]
        assert mine.metadata["chunks"] == 3 and "chunks" not in own.metadata  # own: 400 rows, one PUB
        np.testing.assert_array_equal(mine.data.evs, own.data.evs)
        assert mine.data.evs.shape == (1, 400)
        exact = [
            Statevector(real_amplitudes(2, reps=1).assign_parameters(r)).expectation_value(SparsePauliOp("ZI"))
            for r in rows
        ]
        np.testing.assert_allclose(mine.data.evs[0], np.real(exact), atol=5 * 0.01)
