"""On a fake device, consecutive small jobs on different circuits that use the same qubits share a runtime job."""

import json
from pathlib import Path

import numpy as np
import pytest

# ry(a) then cx: <ZI> = cos(a) and <ZZ> = 1; `a` and `b` have one shape, so one layout; `w` is three qubits wide
SPEC = """version: 1
name: shared
backend: DEVICE
max_time: 1h
options: {seed: 6, resilience_level: 0, default_precision: 0.05, default_shots: 400BATCH}
circuits:
  a: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; ry(0.3) q[0]; cx q[0], q[1];"}
  b: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; ry(2.0) q[0]; cx q[0], q[1];"}
  w: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[3] q; ry(1.0) q[0]; cx q[0], q[1]; cx q[1], q[2];"}
  ma: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; ry(0.3) q[0]; cx q[0], q[1]; c = measure q;"}
  mb: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; ry(2.0) q[0]; cx q[0], q[1]; c = measure q;"}
observables:
  zi: ZI
  zii: ZII
jobs:
  - {name: ea, primitive: estimator, circuit: a, observables: [zi]}
  - {name: eb, primitive: estimator, circuit: b, observables: [zi]}
  - {name: ew, primitive: estimator, circuit: w, observables: [zii]}
  - {name: sa, primitive: sampler, circuit: ma}
  - {name: sb, primitive: sampler, circuit: mb}
"""


@pytest.mark.parametrize("device", ["fake_sherbrooke", pytest.param("fake_fez", marks=pytest.mark.slow)])
def test_jobs_on_different_circuits_on_the_same_qubits_share_a_runtime_job_each_with_its_own_answer(
    device, qrun, write_spec, tmp_path
):
    entries, bodies = {}, {}
    for batch in ("", ", batch: false"):
        text = SPEC.replace("DEVICE", device).replace("BATCH", batch)
        result = qrun(write_spec(text, f"shared{len(batch)}.yaml"), "--out", tmp_path / f"r{len(batch)}", "-q")
        assert result.code == 0, result.err
        run = Path(result.out.strip())
        meta = json.loads((run / "metadata.json").read_text())
        entries[batch] = {e["name"]: e for e in meta["jobs"]}
        bodies[batch] = {p.stem[3:]: json.loads(p.read_text()) for p in (run / "jobs").glob("*.json")}
    batched, alone = entries[""], entries[", batch: false"]
    assert batched["ea"]["simulated_qubits"] == batched["eb"]["simulated_qubits"] != batched["ew"]["simulated_qubits"]
    ids = {name: e["job_ids"][0] for name, e in batched.items()}
    # a and b: one runtime job, a PUB each; w is cut to other qubits, so a runtime job of its own; then the samplers
    assert ids["ea"] == ids["eb"] != ids["ew"] and ids["sa"] == ids["sb"] != ids["ew"]
    assert [batched[n]["batched"]["pub"] for n in ("ea", "eb", "sa", "sb")] == [0, 1, 0, 1]
    assert len({e["job_ids"][0] for e in alone.values()}) == 5
    for found in bodies.values():
        # 4 sigma of precision 0.05, and readout and gate error on these two qubits (under 0.15 on either device)
        for name, angle in (("ea", 0.3), ("eb", 2.0), ("ew", 1.0)):
            label = "zii" if name == "ew" else "zi"
            assert abs(found[name]["observables"][label]["values"][0] - np.cos(angle)) < 0.35, name
        for name, angle in (("sa", 0.3), ("sb", 2.0)):
            (counts,) = found[name]["counts"]["c"]
            # a Bell-like pair: 00 with probability cos^2(a/2), 11 otherwise, 400 shots (0.1 is 4 sigma) and readout
            assert abs(counts.get("00", 0) / 400 - np.cos(angle / 2) ** 2) < 0.2, name


def test_a_fake_devices_batch_is_capped_by_its_own_size_not_aers(qrun, write_spec, tmp_path, monkeypatch):
    # a fake device's plain jobs are each sampled by the noisy simulator: their batches are SAMPLED_BATCH jobs, aer's
    # LOCAL_BATCH
    from qrun.running import batching

    text = SPEC.replace("DEVICE", "fake_sherbrooke").replace("BATCH", "")
    ids = {}
    for name, cap in (("LOCAL_BATCH", 1), ("SAMPLED_BATCH", 1)):
        with monkeypatch.context() as patch:
            patch.setattr(batching, name, cap)
            result = qrun(write_spec(text, f"{name}.yaml"), "--out", tmp_path / name, "-q")
        assert result.code == 0, result.err
        meta = json.loads((Path(result.out.strip()) / "metadata.json").read_text())
        ids[name] = {e["name"]: e["job_ids"][0] for e in meta["jobs"]}
    assert ids["LOCAL_BATCH"]["ea"] == ids["LOCAL_BATCH"]["eb"] and ids["LOCAL_BATCH"]["sa"] == ids["LOCAL_BATCH"]["sb"]
    assert len(set(ids["SAMPLED_BATCH"].values())) == 5  # a runtime job each
