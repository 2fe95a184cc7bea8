"""The IBM Quantum path, offline: a stand-in for QiskitRuntimeService at the boundary qrun calls.

The stand-in returns the runtime's own fake devices as its backends, so a Session on them runs locally, while every
line of qrun above that boundary is the one a real account takes.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qrun import service as ibm

SENTINEL = "tok-SENTINEL-3f9c1a"

SPEC = """version: 1
name: svc
backend: {backend}
service: {{channel: ibm_quantum_platform, instance: my-instance}}
max_time: 10m
mode: {mode}
options: {{seed: 4, resilience_level: 0, default_precision: 0.05, default_shots: 200}}
circuits:
  bell: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}}
  wide: {{random: {{num_qubits: {width}, depth: 2, seed: 2}}}}
observables:
  zz: ZZ
jobs:
  - {{name: counts, primitive: sampler, circuit: bell}}
  - {{name: zz, primitive: estimator, circuit: bell, observables: [zz]}}
  - {{name: wide, primitive: sampler, circuit: wide, measure_all: true}}
"""


class Status:
    def __init__(self, operational=True, msg="active"):
        self.operational, self.status_msg = operational, msg


class FakeJob:
    def __init__(self, status, result=None):
        self._status, self._result = status, result

    def status(self):
        return self._status

    def result(self):
        return self._result


class FakeService:
    """Stands in for qiskit_ibm_runtime.QiskitRuntimeService: the calls qrun makes, answered from fake devices."""

    instances_made: list = []
    plan = "premium"
    usage_left = 10_000.0
    operational = True
    jobs: dict = {}

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        FakeService.instances_made.append(kwargs)
        from qiskit_ibm_runtime.fake_provider import FakeJakartaV2, FakeManilaV2, FakeNairobiV2

        self.devices = {
            "ibm_manila": (FakeManilaV2(), 9),
            "ibm_nairobi": (FakeNairobiV2(), 30),
            "ibm_jakarta": (FakeJakartaV2(), 3),
        }
        for backend, _ in self.devices.values():
            backend.status = lambda: Status(FakeService.operational, "maintenance")

    def backend(self, name):
        if name not in self.devices:
            raise KeyError(f"No backend matches the criteria (token {self.kwargs.get('token')})")
        return self.devices[name][0]

    def least_busy(self, min_num_qubits=None, operational=True, simulator=False):
        fits = [(pending, b) for b, pending in self.devices.values() if b.num_qubits >= (min_num_qubits or 0)]
        return min(fits, key=lambda pb: pb[0])[1]

    def active_instance(self):
        return "crn:my-instance"

    def instances(self):
        return [{"crn": "crn:my-instance", "plan": FakeService.plan, "name": "my-instance"}]

    def usage(self):
        return {"usage_remaining_seconds": FakeService.usage_left}

    def job(self, job_id):
        return FakeService.jobs[job_id]


@pytest.fixture
def fake_service(monkeypatch):
    import qiskit_ibm_runtime

    FakeService.instances_made = []
    FakeService.plan, FakeService.usage_left, FakeService.operational, FakeService.jobs = "premium", 10_000.0, True, {}
    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", FakeService)
    monkeypatch.setenv(ibm.TOKEN_ENV, SENTINEL)
    return FakeService


def _spec(write_spec, backend="ibm_manila", mode="session", width=2):
    return write_spec(SPEC.format(backend=backend, mode=mode, width=width))


def _everything_written(root: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def test_a_service_run_takes_the_token_from_the_environment_and_never_writes_it(
    qrun, fake_service, write_spec, tmp_path
):
    result = qrun(_spec(write_spec), "--out", tmp_path / "results")
    assert result.code == 0, result.err
    assert fake_service.instances_made[0] == {
        "channel": "ibm_quantum_platform",
        "instance": "my-instance",
        "token": SENTINEL,
    }
    assert SENTINEL not in result.out + result.err
    assert SENTINEL not in _everything_written(tmp_path / "results")
    (run,) = (tmp_path / "results" / "svc").iterdir()
    meta = json.loads((run / "metadata.json").read_text())
    assert meta["session"]["backend"] == "fake_manila" and meta["status"] == "completed"


def test_a_token_in_a_service_error_is_redacted(qrun, fake_service, write_spec, tmp_path):
    result = qrun(_spec(write_spec, backend="ibm_nowhere"), "--out", tmp_path / "results")
    assert result.code == 1
    assert SENTINEL not in result.err
    assert result.err == "qrun: backend 'ibm_nowhere': 'No backend matches the criteria (token ***)'\n"


def test_a_saved_account_is_used_by_name(qrun, fake_service, write_spec, tmp_path):
    spec = write_spec(
        SPEC.format(backend="ibm_manila", mode="session", width=2).replace("instance: my-instance}", "account: lab}")
    )
    assert qrun(spec, "--out", tmp_path).code == 0
    assert fake_service.instances_made[0] == {"channel": "ibm_quantum_platform", "name": "lab"}


def test_least_busy_picks_the_least_busy_device_wide_enough_and_records_it(qrun, fake_service, write_spec, tmp_path):
    # 7-qubit circuit: manila (5) is too small; jakarta (7, 3 pending) beats nairobi (7, 30 pending)
    result = qrun(_spec(write_spec, backend="least_busy", width=7), "--out", tmp_path / "results")
    assert result.code == 0, result.err
    (run,) = (tmp_path / "results" / "svc").iterdir()
    assert json.loads((run / "metadata.json").read_text())["session"]["backend"] == "fake_jakarta"


@pytest.mark.parametrize(
    "setup, message",
    [
        (
            lambda s: setattr(s, "operational", False),
            "qrun: backend fake_manila is not operational (maintenance); try again later or choose another backend\n",
        ),
        (
            lambda s: setattr(s, "usage_left", 3.0),
            "qrun: the instance has 3s of usage left but the plan needs about 15s; lower the work or use another instance\n",
        ),
        (
            lambda s: setattr(s, "plan", "open"),
            "qrun: an Open Plan instance cannot open sessions; set mode: batch (or leave mode to auto), which the Open "
            "Plan allows and which suits these jobs, since none uses another's result\n",
        ),
    ],
)
def test_a_preflight_failure_opens_no_session_and_says_why(
    qrun, fake_service, write_spec, tmp_path, monkeypatch, setup, message
):
    import qiskit_ibm_runtime

    opened = []
    monkeypatch.setattr(qiskit_ibm_runtime, "Session", lambda *a, **k: opened.append(1))
    setup(fake_service)
    result = qrun(_spec(write_spec), "--out", tmp_path / "results", "--estimates", "fresh")
    # the Open Plan refusal is the spec's to fix (mode: batch), so it is a usage error; the others are the service's
    assert (result.code, result.err) == (2 if "Open Plan" in message else 1, message)
    assert opened == [] and not (tmp_path / "results").exists()


def test_a_too_wide_circuit_fails_preflight(qrun, fake_service, write_spec, tmp_path):
    result = qrun(_spec(write_spec, width=7), "--out", tmp_path / "results")
    assert (result.code, result.err) == (1, "qrun: the widest circuit needs 7 qubits but fake_manila has 5\n")


def test_batch_mode_opens_a_batch_not_a_session(qrun, fake_service, write_spec, tmp_path, monkeypatch):
    import qiskit_ibm_runtime

    made = []
    real = qiskit_ibm_runtime.Batch

    def counting_batch(*args, **kwargs):
        made.append(kwargs.get("max_time"))
        return real(*args, **kwargs)

    monkeypatch.setattr(qiskit_ibm_runtime, "Batch", counting_batch)
    monkeypatch.setattr(qiskit_ibm_runtime, "Session", lambda *a, **k: pytest.fail("a Session was opened"))
    fake_service.plan = "open"  # the Open Plan allows batches
    result = qrun(_spec(write_spec, mode="batch"), "--out", tmp_path / "results")
    assert result.code == 0, result.err
    assert made == [600]
    (run,) = (tmp_path / "results" / "svc").iterdir()
    assert json.loads((run / "metadata.json").read_text())["session"]["mode"] == "batch"


def test_status_asks_the_service_for_each_job_by_id(qrun, fake_service, write_spec, tmp_path):
    assert qrun(_spec(write_spec), "--out", tmp_path / "results").code == 0
    (run,) = (tmp_path / "results" / "svc").iterdir()
    meta = json.loads((run / "metadata.json").read_text())
    ids = [j["job_ids"][0] for j in meta["jobs"]]
    fake_service.jobs = {
        ids[0]: FakeJob("DONE"),
        ids[1]: FakeJob("CANCELLED - RAN TOO LONG"),
        ids[2]: FakeJob("QUEUED"),
    }
    result = qrun("status", run)
    assert result.code == 0
    assert f"[0] counts: done; service: {ids[0]}: DONE" in result.out
    assert f"[1] zz: done; service: {ids[1]}: CANCELLED - RAN TOO LONG" in result.out
    assert f"[2] wide: done; service: {ids[2]}: QUEUED" in result.out


def _interrupted_after_submitting(run: Path, index: int) -> tuple[str, dict]:
    """Make the run look killed after job `index` was submitted but before it was read back."""
    meta_file = run / "metadata.json"
    meta = json.loads(meta_file.read_text())
    entry = meta["jobs"][index]
    body = json.loads((run / entry["file"]).read_text())
    (run / entry["file"]).unlink()
    entry["status"] = "running"
    for later in meta["jobs"][index + 1 :]:
        later.update(status="pending", job_ids=[])
        (run / later["file"]).unlink()
    meta["status"] = "running"
    meta["attempts"][-1]["status"] = "running"
    meta_file.write_text(json.dumps(meta))
    return entry["job_ids"][0], body


def test_validate_stays_offline_for_a_service_backend(qrun, write_spec, monkeypatch):
    import qiskit_ibm_runtime

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", lambda **k: pytest.fail("validate went online"))
    result = qrun("validate", _spec(write_spec))
    assert result.code == 0, result.err


def test_a_saved_accounts_token_is_redacted_even_in_an_error_raised_while_connecting(tmp_path):
    # The saved token was learned only from the built service, so an error raised while building it, echoing the
    # token, printed it. A fresh interpreter with its own HOME holds the saved account.
    script = (
        "import qiskit_ibm_runtime as r\n"
        "from qrun import service\n"
        "from qrun.errors import ServiceError\n"
        "r.QiskitRuntimeService.save_account(token='tok-SAVED-1234567890', channel='ibm_quantum_platform', "
        "instance='crn:v1:x', name='mine')\n"
        "def refuse(self, **kwargs):\n"
        "    raise ValueError('the server refused token tok-SAVED-1234567890')\n"
        "r.QiskitRuntimeService.__init__ = refuse\n"
        "try:\n"
        "    service.connect({'account': 'mine'})\n"
        "except ServiceError as e:\n"
        "    print(e)\n"
    )
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("QISKIT_IBM_TOKEN", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("cannot connect to IBM Quantum: the server refused token ***. "), done.stderr
    assert "tok-SAVED" not in done.stdout + done.stderr
