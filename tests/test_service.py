"""The IBM Quantum account path, offline: the real QiskitRuntimeService resolves the account, the instance and the
backend, with only its transports replaced (fake_runtime: the REST client and IBM Cloud's instance search).

Tokens from the environment and from saved accounts, instances by name or chosen by the service, pre-flight
refusals and redaction all run through the runtime's own code; the devices are 127- and 156-qubit ones.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_runtime import INSTANCE, Cloud, install

SENTINEL = "tok-SENTINEL-3f9c1a"

SPEC = """version: 1
name: svc
backend: {backend}
service: {{channel: ibm_quantum_platform{account}}}
max_time: 10m
mode: {mode}
options: {{seed: 4, resilience_level: 0, default_precision: 0.05, default_shots: 200}}
circuits:
  bell: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}}
  wide: {{random: {{num_qubits: {width}, depth: 2, seed: 2}}}}
observables:
  zz: ZZ
jobs:
  - {{name: counts, primitive: sampler, circuit: bell, estimate: 5s}}
  - {{name: zz, primitive: estimator, circuit: bell, observables: [zz], estimate: 5s}}
  - {{name: wide, primitive: sampler, circuit: wide, measure_all: true, estimate: 5s}}
"""


@pytest.fixture
def cloud(monkeypatch, tmp_path, qrun):
    """A stand-in service whose only account token is SENTINEL, set in QISKIT_IBM_TOKEN as a user sets it; saved
    accounts live in tmp_path, never in the real home."""
    from qiskit_ibm_runtime.fake_provider import FakeFez, FakeSherbrooke

    c = Cloud({"ibm_sherbrooke": FakeSherbrooke(), "ibm_fez": FakeFez()})
    c.tokens = {SENTINEL}
    c.instances = [{"crn": INSTANCE, "name": "my-instance", "tags": []}]
    install(monkeypatch, c, account_file=tmp_path / "qiskit-ibm.json", token=SENTINEL)
    qrun.clock = c.clock  # qrun's runs read time from the stand-in's clock
    return c


def _spec(write_spec, backend="ibm_sherbrooke", mode="session", width=2, account=", instance: my-instance"):
    return write_spec(SPEC.format(backend=backend, mode=mode, width=width, account=account))


def _everything_written(root: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def _run(root: Path) -> Path:
    (run,) = (root / "svc").iterdir()
    return run


def test_a_service_run_takes_the_token_from_the_environment_and_never_writes_it(cloud, qrun, write_spec, tmp_path):
    result = qrun(_spec(write_spec), "--out", tmp_path / "results")
    assert result.code == 0, result.err
    assert SENTINEL not in result.out + result.err
    assert SENTINEL not in _everything_written(tmp_path / "results")
    meta = json.loads((_run(tmp_path / "results") / "metadata.json").read_text())
    assert meta["session"]["backend"] == "ibm_sherbrooke" and meta["status"] == "completed"
    # the instance named in the spec was resolved to its CRN by the runtime, and the session opened there
    (session,) = cloud.sessions.values()
    assert (session.backend, session.mode) == ("ibm_sherbrooke", "dedicated")
    assert meta["session"]["session_id"] == session.id


def test_a_token_the_service_refuses_is_a_clear_error_that_never_prints_it(cloud, qrun, write_spec, tmp_path):
    cloud.tokens = {"another-token"}
    cloud.echo_token = True  # as if IBM Cloud quoted the key it refused
    result = qrun(_spec(write_spec), "--out", tmp_path / "results")
    assert result.code == 1
    assert SENTINEL not in result.err
    assert result.err.startswith(
        "qrun: cannot connect to IBM Quantum: Unable to retrieve instances for API key ***. Please check that you "
        "are using a valid API token. Save an account with QiskitRuntimeService.save_account(...)"
    ), result.err


def test_a_saved_account_is_used_by_name_and_its_token_never_prints(cloud, qrun, write_spec, tmp_path, monkeypatch):
    from qiskit_ibm_runtime import QiskitRuntimeService

    monkeypatch.delenv("QISKIT_IBM_TOKEN")
    QiskitRuntimeService.save_account(
        token=SENTINEL, channel="ibm_quantum_platform", instance="my-instance", name="lab"
    )
    result = qrun(_spec(write_spec, account=", account: lab"), "--out", tmp_path / "results")
    assert result.code == 0, result.err
    assert cloud.tokens_seen == [SENTINEL]  # the saved account's token reached IBM Cloud, through the runtime
    assert SENTINEL not in result.out + result.err + _everything_written(tmp_path / "results")


def test_an_unknown_instance_name_is_a_clear_connection_error(cloud, qrun, write_spec, tmp_path):
    result = qrun(_spec(write_spec, account=", instance: nowhere"), "--out", tmp_path / "results")
    assert result.code == 1
    assert result.err.startswith(
        "qrun: cannot connect to IBM Quantum: The instance specified (nowhere) is not a valid instance name."
    ), result.err
    assert cloud.sessions == {}


def test_with_no_instance_the_service_picks_the_free_one_and_the_open_plan_refusal_follows(
    cloud, qrun, write_spec, tmp_path
):
    """With no instance named, the runtime prioritizes free instances; the account's plan is then the Open Plan,
    which opens no session: a spec asking for one is refused before anything is sent."""
    cloud.instances = [
        {"crn": INSTANCE, "name": "paid-instance", "tags": [], "plan": "premium", "pricing_type": "subscription"},
        {
            "crn": INSTANCE.replace("0123", "4567"),
            "name": "free-instance",
            "tags": [],
            "plan": "open",
            "pricing_type": "free",
        },
    ]
    result = qrun(_spec(write_spec, account=""), "--out", tmp_path / "results")
    assert (result.code, result.err.strip().splitlines()[-1]) == (
        2,
        "qrun: an Open Plan instance cannot open sessions; set mode: batch (or leave mode to auto), which the Open "
        "Plan allows",
    )
    assert cloud.sessions == {} and cloud.order == []
    # left to auto, the same spec runs as a batch on that free instance
    result = qrun(_spec(write_spec, account="", mode="auto"), "--out", tmp_path / "results")
    assert result.code == 0, result.err
    (session,) = cloud.sessions.values()
    assert session.mode == "batch"


@pytest.mark.parametrize(
    "setup, message",
    [
        (
            lambda c: setattr(c, "down", {"ibm_sherbrooke"}),
            "qrun: backend ibm_sherbrooke is not operational (maintenance); try again later or choose another "
            "backend\n",
        ),
        (
            lambda c: setattr(c, "usage_remaining", 3.0),
            "qrun: the instance has 3s of usage left but the plan needs about 15s; lower the work or use another "
            "instance\n",
        ),
        (
            lambda c: setattr(c, "plan", "open"),
            "qrun: an Open Plan instance cannot open sessions; set mode: batch (or leave mode to auto), which the Open "
            "Plan allows\n",
        ),
    ],
)
def test_a_preflight_failure_opens_no_session_and_says_why(cloud, qrun, write_spec, tmp_path, setup, message):
    setup(cloud)
    result = qrun(_spec(write_spec), "--out", tmp_path / "results", "--estimates", "fresh")
    # the Open Plan refusal is the spec's to fix (mode: batch), so it is a usage error; the others are the service's
    assert (result.code, result.err) == (2 if "Open Plan" in message else 1, message)
    assert cloud.sessions == {} and cloud.order == [] and not (tmp_path / "results").exists()


def test_a_circuit_wider_than_the_device_fails_preflight(cloud, qrun, write_spec, tmp_path):
    result = qrun(_spec(write_spec, width=130), "--out", tmp_path / "results")
    assert (result.code, result.err) == (1, "qrun: the widest circuit needs 130 qubits but ibm_sherbrooke has 127\n")
    assert cloud.sessions == {}


def test_batch_mode_opens_a_batch_with_the_specs_max_time(cloud, qrun, write_spec, tmp_path):
    cloud.plan = "open"  # the Open Plan allows batches
    result = qrun(_spec(write_spec, backend="ibm_fez", mode="batch"), "--out", tmp_path / "results")
    assert result.code == 0, result.err
    (session,) = cloud.sessions.values()
    assert (session.mode, session.max_time, session.backend) == ("batch", 600, "ibm_fez")
    meta = json.loads((_run(tmp_path / "results") / "metadata.json").read_text())
    assert meta["session"]["mode"] == "batch"


def test_status_asks_the_service_for_each_job_by_id(cloud, qrun, write_spec, tmp_path):
    assert qrun(_spec(write_spec), "--out", tmp_path / "results").code == 0
    run = _run(tmp_path / "results")
    meta = json.loads((run / "metadata.json").read_text())
    ids = [i for j in meta["jobs"] for i in j["job_ids"]]
    assert ids == cloud.order
    cloud.jobs[ids[-1]].status = "Cancelled"  # the service's record changed since the run read it
    result = qrun("status", run)
    assert result.code == 0, result.err
    assert f"[0] counts: done; service: {ids[0]}: DONE" in result.out
    assert f"[2] wide: done; service: {ids[-1]}: CANCELLED" in result.out


def test_validate_stays_offline_for_a_service_backend(cloud, qrun, write_spec):
    result = qrun("validate", _spec(write_spec))
    assert result.code == 0, result.err
    assert cloud.calls == [] and cloud.tokens_seen == []


def test_a_saved_accounts_token_is_redacted_even_in_an_error_raised_while_connecting(tmp_path):
    # The saved token was learned only from the built service, so an error raised while building it, echoing the
    # token, printed it. A fresh interpreter with its own HOME holds the saved account.
    script = (
        "import qiskit_ibm_runtime as r\n"
        "from qrun.backends import service\n"
        "from qrun.errors import ServiceError\n"
        "from qrun.model.experiment import Service\n"
        "r.QiskitRuntimeService.save_account(token='tok-SAVED-1234567890', channel='ibm_quantum_platform', "
        "instance='crn:v1:x', name='mine')\n"
        "def refuse(self, **kwargs):\n"
        "    raise ValueError('the server refused token tok-SAVED-1234567890')\n"
        "r.QiskitRuntimeService.__init__ = refuse\n"
        "try:\n"
        "    service.connect(Service(account='mine'))\n"
        "except ServiceError as e:\n"
        "    print(e)\n"
    )
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("QISKIT_IBM_TOKEN", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("cannot connect to IBM Quantum: the server refused token ***. "), done.stderr
    assert "tok-SAVED" not in done.stdout + done.stderr
