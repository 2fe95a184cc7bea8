"""Jobs that take a minimize job's optimum (`from:`) share runtime jobs as other small jobs do, once it is in hand."""

import json
from pathlib import Path

import numpy as np
import pytest
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp, Statevector

SPEC = """version: 1
name: fromopt
backend: BACKEND
max_time: 1h
options: {seed: 5, resilience_level: 0, default_precision: 0.05, default_shots: 400BATCH}
circuits:
  c: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}
observables:
  z: ZI
  x: XX
jobs:
  - {name: opt, primitive: minimize, circuit: c, observables: [z], initial_point: [0.3, 0.1, 0.2, 0.4],
     optimizer: {method: COBYLA, maxiter: 6}}
  - {name: e0, primitive: estimator, circuit: c, observables: [z], parameter_values: {from: opt}}
  - {name: e1, primitive: estimator, circuit: c, observables: [z], parameter_values: {from: opt}}
  - {name: e2, primitive: estimator, circuit: c, observables: [x], parameter_values: {from: opt}}
  - {name: s0, primitive: sampler, circuit: c, measure_all: true, parameter_values: {from: opt}}
  - {name: s1, primitive: sampler, circuit: c, measure_all: true, parameter_values: {from: opt}}
"""


def _run(qrun, write_spec, tmp_path, backend: str, batch: str) -> tuple[dict, dict]:
    text = SPEC.replace("BACKEND", backend).replace("BATCH", batch)
    result = qrun(write_spec(text, f"fromopt{len(batch)}.yaml"), "--out", tmp_path / f"r{len(batch)}", "-q")
    assert result.code == 0, result.err
    run = Path(result.out.strip())
    entries = {e["name"]: e for e in json.loads((run / "metadata.json").read_text())["jobs"]}
    bodies = {p.stem[3:]: json.loads(p.read_text()) for p in (run / "jobs").glob("*.json")}
    return entries, bodies


def _check_against_exact(bodies: dict, tolerance: float) -> None:
    """Each `from:` job ran at opt's stored optimum, and reads what the exact state there gives."""
    optimum = bodies["opt"]["optimum"]["parameters"]
    state = Statevector(real_amplitudes(2, reps=1).assign_parameters(optimum))
    for name in ("e0", "e1", "e2", "s0", "s1"):
        assert bodies[name]["parameter_values"] == [optimum] and bodies[name]["parameter_values_from"] == "opt"
    for name, label, pauli in (("e0", "z", "ZI"), ("e1", "z", "ZI"), ("e2", "x", "XX")):
        exact = state.expectation_value(SparsePauliOp(pauli)).real
        assert abs(bodies[name]["observables"][label]["values"][0] - exact) < tolerance
    probabilities = state.probabilities_dict()
    for name in ("s0", "s1"):
        (counts,) = bodies[name]["counts"]["meas"]
        assert sum(counts.values()) == 400
        assert abs(counts.get("00", 0) / 400 - probabilities.get("00", 0.0)) < tolerance


def test_from_jobs_on_aer_share_runtime_jobs_and_keep_the_values_they_get_alone(qrun, write_spec, tmp_path):
    batched, alone = (_run(qrun, write_spec, tmp_path, "aer", b) for b in ("", ", batch: false"))
    entries, bodies = batched
    # e0 and e1 share their observable (one merged PUB), e2 has its own; the samplers are a second runtime job, one
    # PUB of their rows (one circuit, the same shots)
    assert len({entries[n]["job_ids"][0] for n in ("e0", "e1", "e2")}) == 1
    assert len({entries[n]["job_ids"][0] for n in ("s0", "s1")}) == 1
    assert [entries[n]["batched"]["pub"] for n in ("e0", "e1", "e2", "s0", "s1")] == [0, 0, 1, 0, 0]
    assert entries["opt"]["batched"] is None
    assert len({alone[0][n]["job_ids"][0] for n in ("e0", "e1", "e2", "s0", "s1")}) == 5
    for name in ("e0", "e1", "e2"):  # each job's noise is its own seed's, batched or not
        assert bodies[name]["observables"] == alone[1][name]["observables"]
    assert bodies["e0"]["observables"] != bodies["e1"]["observables"]
    _check_against_exact(bodies, tolerance=4 * 0.05 + 0.1)  # 4 sigma; 400 shots: 0.1 is 4 binomial sigma


# two runs on a real-size fake device, minimize included: fake_fez only in the slow suite, so make test keeps within
# its 3 minutes
@pytest.mark.parametrize("device", ["fake_sherbrooke", pytest.param("fake_fez", marks=pytest.mark.slow)])
def test_from_jobs_on_127_and_156_qubit_fake_devices_share_runtime_jobs(device, qrun, write_spec, tmp_path):
    for batch in ("", ", batch: false"):
        entries, bodies = _run(qrun, write_spec, tmp_path, device, batch)
        ids = [entries[n]["job_ids"][0] for n in ("e0", "e1", "e2", "s0", "s1")]
        assert len(set(ids)) == (2 if not batch else 5)
        # 4 sigma of shot noise, and the device's readout and gate errors on two of its qubits (at most 0.15 here)
        _check_against_exact(bodies, tolerance=4 * 0.05 + 0.15)
    assert np.isfinite(bodies["opt"]["optimum"]["value"])


@pytest.mark.slow  # three subprocess runs of a batch and a bit: make test keeps within its 3 minutes
def test_sigkill_while_a_batch_of_from_jobs_is_out_then_resume_gives_the_uninterrupted_values(tmp_path):
    """Killed with the second batch of jobs bound to the optimum submitted (the first batch's file written): the
    resumed run binds the stored optimum, and every job's values equal an uninterrupted run's."""
    import signal
    import subprocess
    import sys

    import qrun as qrun_api
    from qrun.running.batching import LOCAL_BATCH

    n = LOCAL_BATCH + 50  # two batches, the second killed while it is out
    jobs = "".join(
        f"  - {{name: e{k}, primitive: estimator, circuit: c, observables: [z], parameter_values: {{from: opt}}}}\n"
        for k in range(n)
    )
    text = SPEC.replace("BACKEND", "aer").replace("BATCH", "").split("  - {name: e0")[0] + jobs
    (tmp_path / "bound.yaml").write_text(text)
    failpoint = Path(__file__).parent / "failpoint.py"

    def run(*args: str, kill: str | None = None) -> subprocess.CompletedProcess[str]:
        head = [sys.executable, str(failpoint), kill] if kill else [sys.executable, "-m", "qrun"]
        return subprocess.run([*head, *args], capture_output=True, text=True, cwd=tmp_path)

    reference = run("bound.yaml", "--out", "ref", "-q")
    assert reference.returncode == 0, reference.stderr
    assert (
        run("bound.yaml", "--out", "r", "-q", kill=f"jobs_submitted:{LOCAL_BATCH + 10}").returncode == -signal.SIGKILL
    )
    resumed = run("bound.yaml", "--out", "r", "--resume", "-q")
    assert resumed.returncode == 0, resumed.stderr
    a, b = qrun_api.load(tmp_path / resumed.stdout.strip()), qrun_api.load(tmp_path / reference.stdout.strip())
    assert [x["status"] for x in a.metadata["attempts"]] == ["died", "completed"]
    assert a.jobs["opt"]["optimum"] == b.jobs["opt"]["optimum"]
    for k in range(n):
        assert a.jobs[f"e{k}"]["observables"] == b.jobs[f"e{k}"]["observables"], k
    assert sorted(p.name for p in (tmp_path / resumed.stdout.strip() / "jobs").iterdir()) == [
        "00-opt.json",
        "01-e0.batch.npz",
        f"{LOCAL_BATCH + 1}-e{LOCAL_BATCH}.batch.npz",
    ]
