"""Width without a 2^n object: runs at 24 qubits on aer and on a 127-qubit device, measured in a subprocess."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

QRUN = [sys.executable, "-m", "qrun"]
LIMIT_MB = 1500  # a dense 24-qubit operator alone would be 2^48 complex entries; the hand script needs ~450 MB


def _peak_mb_of(args: list[str], cwd) -> tuple[subprocess.CompletedProcess, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return done, max(after, before) / 1024  # ru_maxrss is in KiB on Linux


@pytest.mark.slow
def test_a_24_qubit_estimator_and_sweep_on_aer_stay_under_the_memory_bound(tmp_path):
    label = "Z" + "I" * 23
    (tmp_path / "wide.yaml").write_text(f"""version: 1
name: wide
backend: aer
max_time: 10m
options: {{seed: 1, default_precision: 0.05}}
circuits:
  ansatz: {{library: real_amplitudes, args: {{num_qubits: 24, reps: 1}}}}
observables:
  z: {label}
jobs:
  - name: e
    primitive: estimator
    circuit: ansatz
    observables: [z]
    parameter_values: [[{", ".join(["0.0"] * 48)}]]
  - name: s
    primitive: estimator
    circuit: ansatz
    observables: [z]
    parameter_values: [[{", ".join(["0.0"] * 48)}]]
    sweep: {{mode: zip, values: {{precision: [0.05, 0.1]}}}}
""")
    done, peak = _peak_mb_of([*QRUN, "wide.yaml", "-q"], tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = tmp_path / done.stdout.strip()
    e = json.loads((run_dir / "jobs" / "00-e.json").read_text())
    # all-zero angles leave |0...0>, so <Z on the last qubit> is exactly 1; precision 0.05 emulated shot noise
    assert e["observables"]["z"]["values"] == [pytest.approx(1.0, abs=0.25)]
    assert peak < LIMIT_MB, f"peak RSS {peak:.0f} MB"


@pytest.mark.slow  # two real-size devices, 4 s each: the fast suite keeps within its 3 minutes
@pytest.mark.parametrize("device", ["fake_sherbrooke", "fake_fez"])
def test_every_job_kind_on_a_real_size_fake_device_stays_small(tmp_path, device):
    from pathlib import Path

    text = (Path(__file__).parent.parent / "experiments" / "mixed.yaml").read_text()
    (tmp_path / "circuits").mkdir()
    for qasm in (Path(__file__).parent.parent / "experiments" / "circuits").iterdir():
        (tmp_path / "circuits" / qasm.name).write_text(qasm.read_text())
    import re

    text = re.sub(r"^backend: .*$", f"backend: {device}", text, flags=re.M)
    (tmp_path / "mixed.yaml").write_text(text)
    done, peak = _peak_mb_of([*QRUN, "mixed.yaml", "-q"], tmp_path)
    assert done.returncode == 0, done.stderr
    meta = json.loads((tmp_path / done.stdout.strip() / "metadata.json").read_text())
    assert meta["status"] == "completed"
    assert all(len(j["simulated_qubits"]) < 10 for j in meta["jobs"])
    assert peak < LIMIT_MB, f"peak RSS {peak:.0f} MB"
