"""A stand-in for the IBM Quantum REST transport, below the runtime's real classes.

qiskit-ibm-runtime's own unit tests replace its `RuntimeClient`; so does this. Everything above it runs unchanged:
`QiskitRuntimeService`, `IBMBackend`, `Session`/`Batch`, the client-side executor primitives and `RuntimeJobV2`
(status polling, result decoding, usage). A `Cloud` holds the service's state and a clock the test controls:

    cloud = Cloud(devices={"ibm_sherbrooke": FakeSherbrooke()}, queue_seconds=5)
    cloud.fail_job(2, "Error code 1517; circuit too deep")   # the 2nd job submitted ends in ERROR

Every poll the runtime makes (`time.sleep` in runtime_job_v2) advances the clock instead of sleeping, so a job's
queue latency, a session's max_time and its interactive timeout cost nothing in wall time.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
INSTANCE = "crn:v1:bluemix:public:quantum-computing:us-east:a/0123:fake-instance::"


def mock_name(device: str) -> str:
    """The dry-run counterpart's name, as the runtime derives it: ibm_fez -> mock_fez."""
    return "mock_" + device.split("_", 1)[-1]


class Clock:
    """Virtual seconds since EPOCH; `sleep` advances it."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return EPOCH.timestamp() + self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(float(seconds), 0.0)

    def iso(self, at: float | None = None) -> str | None:
        return None if at is None else (EPOCH + timedelta(seconds=at)).isoformat().replace("+00:00", "Z")


@dataclass
class Job:
    id: str
    backend: str
    params: dict
    session_id: str | None
    submitted: float
    queue: float
    seconds: float
    status: str = "Queued"
    reason: str | None = None
    reason_code: int | None = None
    started: float | None = None
    ended: float | None = None
    result: str | None = None
    fail: tuple[str, int | None] | None = None
    usage_polls: int = 0
    tags: list[str] = field(default_factory=list)


@dataclass
class SessionState:
    id: str
    backend: str
    mode: str
    max_time: int
    created: float
    started: float | None = None
    closed: float | None = None
    state: str = "open"
    accepting: bool = True
    last_completed: float | None = None
    jobs: list[str] = field(default_factory=list)
    closed_reason: str | None = None


class ApiError(Exception):
    """What the real transport raises for an HTTP error (the runtime maps RequestsApiError the same way)."""


class Cloud:
    """The service's state: devices, sessions, jobs, usage, the plan, and scripted failures."""

    def __init__(
        self,
        devices: dict[str, Any],
        plan: str = "premium",
        queue_seconds: float = 2.0,
        job_seconds: float = 1.0,
        interactive_ttl: float = 60.0,
        usage_pending_polls: int = 1,
        usage_remaining: float = 100_000.0,
    ):
        from qiskit_ibm_runtime.api.exceptions import RequestsApiError

        self.RequestsApiError = RequestsApiError
        self.devices = devices
        self.plan = plan
        self.queue_seconds = queue_seconds
        self.job_seconds = job_seconds
        self.interactive_ttl = interactive_ttl
        self.usage_pending_polls = usage_pending_polls
        self.usage_remaining = usage_remaining
        self.usage_consumed = 0.0  # seconds the instance has used this period
        self.clock = Clock()
        self.sessions: dict[str, SessionState] = {}
        self.jobs: dict[str, Job] = {}
        self.order: list[str] = []
        self.calls: list[str] = []
        self._failures: dict[int, tuple[str, int | None]] = {}
        self._busy_until: dict[str, float] = {}  # per device: when the last job submitted to it will end
        self.max_time_cap = 28800  # the longest session the instance grants, whatever is asked
        self.pending: dict[str, int] = {}  # per device: other users' jobs in its queue (least_busy reads them)
        self.down: set[str] = set()  # devices in maintenance
        # per device: the instructions its configuration leaves out (a device without dynamic circuits lists no
        # if_else, for_loop or switch_case, and the runtime builds its target without them)
        self.unsupported: dict[str, set[str]] = {}
        self.inactive_queue_seconds = 20.0  # the extra queue of a job sent to a session the service deactivated
        self._ids = itertools.count(1)
        self.tokens = {"stand-in-token"}  # the API keys IAM accepts
        self.tokens_seen: list[str | None] = []  # every key IBM Cloud was asked with
        self.echo_token = False  # an error that quotes the refused key (for redaction tests)
        self.mocks = True  # each device has a dry-run mock counterpart
        self.dry_run_access = True  # the instance may use dry runs
        self.estimated_seconds = job_seconds  # the usage the service estimates for a job, dry run or not
        self.item_seconds = 0.0  # ...and for each PUB (a program's item) of a job past its first, where set
        self.dry_runs: list[str] = []
        # (virtual second, ISO time) of each recalibration of every device; none: the fake devices' own dates
        self.recalibrations: list[tuple[float, str]] = []
        # the account's instances, as Account.list_instances returns them (plan and pricing type from the catalog)
        self.instances = [{"crn": INSTANCE, "name": "fake-instance", "tags": []}]

    def instance_records(self, token: str | None) -> list[dict]:
        """What IBM Cloud's Global Search and Catalog return for this token; an unknown token is refused as
        `Account.list_instances` refuses it."""
        from qiskit_ibm_runtime.accounts import InvalidAccountError

        self.tokens_seen.append(token)
        if token not in self.tokens:
            quoted = f" for API key {token}" if self.echo_token else ""
            raise InvalidAccountError(
                f"Unable to retrieve instances{quoted}. Please check that you are using a valid API token."
            )
        pricing = "free" if self.plan == "open" else "subscription"
        return [{"plan": self.plan, "pricing_type": pricing, **i} for i in self.instances]

    # --- what tests script -------------------------------------------------------------------------------------
    def fail_job(self, n: int, reason: str, code: int | None = None) -> None:
        """The n-th job submitted (1-based) ends in ERROR (or CANCELLED - RAN TOO LONG with code 1305)."""
        self._failures[n] = (reason, code)

    def device(self, name: str) -> Any:
        """A device by name, or the one a dry-run mock stands for."""
        if name.startswith("mock_"):
            return next(d for real, d in self.devices.items() if mock_name(real) == name)
        return self.devices[name]

    def dry_run(self, backend: str, params: dict) -> dict:
        """A dry run on a mock device: the service validates the job and estimates its usage; no QPU time, and not
        in the device's queue (nor in `order`)."""
        if not self.dry_run_access:
            raise self.RequestsApiError("Error code 1211; dry runs are not enabled for this instance", status_code=403)
        job = Job(
            id=f"dry-{len(self.dry_runs) + 1:05d}",
            backend=backend,
            params=params,
            session_id=None,
            submitted=self.clock.now,
            queue=0.0,
            seconds=0.0,
            status="Completed",
        )
        job.started = job.ended = self.clock.now
        self.jobs[job.id] = job
        self.dry_runs.append(job.id)
        return {"id": job.id, "backend": backend}

    def session_jobs(self, session_id: str) -> list[Job]:
        return [self.jobs[j] for j in self.sessions[session_id].jobs]

    # --- the state machine, advanced lazily whenever the client looks ------------------------------------------
    def tick(self) -> None:
        now = self.clock.now
        for s in self.sessions.values():
            if s.state in ("closed",):
                continue
            if s.started is not None and now >= s.started + s.max_time:
                self._close(s, now, "max_time")
            elif (
                s.mode == "dedicated"
                and s.last_completed is not None
                and s.state == "active"
                and not any(self.jobs[j].status in ("Queued", "Running") for j in s.jobs)
                and now >= s.last_completed + self.interactive_ttl
            ):
                # the service deactivates an idle session: it keeps accepting jobs, but they lose the session's
                # place at the front of the queue until one runs again; max_time keeps counting
                s.state = "inactive"
        for job in self.jobs.values():
            self._advance(job, now)

    def _close(self, s: SessionState, now: float, reason: str) -> None:
        s.state, s.accepting, s.closed, s.closed_reason = "closed", False, now, reason
        for j in s.jobs:
            job = self.jobs[j]
            if job.status in ("Queued", "Running"):
                job.status, job.ended = "Cancelled", now
                job.reason = f"session closed ({reason})"

    def _advance(self, job: Job, now: float) -> None:
        if job.status == "Queued" and now >= job.submitted + job.queue:
            job.status, job.started = "Running", job.submitted + job.queue
            s = self.sessions.get(job.session_id or "")
            if s is not None and s.started is None:
                s.started = job.started  # the service starts a session with its first job
            if s is not None and s.state != "closed":
                s.state = "active"  # and a running job makes a deactivated one active again
        if job.status == "Running" and now >= (job.started or 0) + job.seconds:
            job.ended = (job.started or 0) + job.seconds
            if job.fail is not None:
                job.reason, job.reason_code = job.fail
                job.status = "Cancelled" if job.reason_code == 1305 else "Failed"
            else:
                job.result = self._execute(job)
                job.status = "Completed"
            s = self.sessions.get(job.session_id or "")
            if s is not None:
                s.last_completed = job.ended

    def _execute(self, job: Job) -> str:
        """Run the submitted quantum program as the service would, and encode its result as the service does."""
        from ibm_quantum_schemas.common import CompressedTensorModel
        from ibm_quantum_schemas.executor.version_2_0 import QuantumProgramResultModel
        from ibm_quantum_schemas.executor.version_2_0.models import (
            ItemMetadataModel,
            MetadataModel,
            QuantumProgramResultItemModel,
        )
        from qiskit_aer import AerSimulator
        from qiskit_ibm_runtime.fake_provider.executor.run_quantum_program import run_quantum_program
        from qiskit_ibm_runtime.options_models import SimulatorOptions
        from qiskit_ibm_runtime.quantum_program.converters.converters_2_0 import passthrough_data_to_2_0
        from qiskit_ibm_runtime.quantum_program.params_converters import QUANTUM_PROGRAM_PARAMS_CONVERTERS
        from samplomatic.quantum_program import SamplexItem

        converter = QUANTUM_PROGRAM_PARAMS_CONVERTERS[job.params["schema_version"]]
        program, _ = converter.decoder(converter.model.model_validate(job.params))
        for item in program.items:
            if isinstance(item, SamplexItem):
                item.samplex.finalize()
        # The program spans the whole device (twirling touches every qubit), so simulate it as a matrix product
        # state: exact for these circuits, and cheap at 127 or 156 qubits. The stand-in is noiseless.
        seed = int(job.id.rsplit("-", 1)[1])
        result = run_quantum_program(
            AerSimulator(method="matrix_product_state"), program, SimulatorOptions(seed_simulator=seed)
        )
        model = QuantumProgramResultModel(
            data=[
                QuantumProgramResultItemModel(
                    results={k: CompressedTensorModel.from_numpy(np.asarray(v)) for k, v in item.items()},
                    metadata=ItemMetadataModel(),
                )
                for item in result
            ],
            metadata=MetadataModel(chunk_timing=[]),
            passthrough_data=passthrough_data_to_2_0(result.passthrough_data),
            semantic_role=getattr(result, "_semantic_role", None) or getattr(program, "_semantic_role", None),
        )
        return model.model_dump_json()

    # --- the transport calls -----------------------------------------------------------------------------------
    def submit(self, backend: str, params: dict, session_id: str | None, max_execution_time: int | None) -> dict:
        self.tick()
        if session_id is not None:
            s = self.sessions.get(session_id)
            if s is None:
                raise self.RequestsApiError(f"session {session_id} not found", status_code=404)
            if not s.accepting:
                raise self.RequestsApiError(
                    f"Error code 1217; session {session_id} is closed ({s.closed_reason or 'closed'}) and accepts "
                    "no new jobs",
                    status_code=409,
                )
        n = next(self._ids)
        session = self.sessions.get(session_id or "")
        wait = self.queue_seconds + (
            self.inactive_queue_seconds if session is not None and session.state == "inactive" else 0
        )
        # a device runs one job at a time: a job queues at least that long, and until the one before it ends
        start = max(self.clock.now + wait, self._busy_until.get(backend, 0.0))
        self._busy_until[backend] = start + self.job_seconds
        job = Job(
            id=f"job-{n:05d}",
            backend=backend,
            params=params,
            session_id=session_id,
            submitted=self.clock.now,
            queue=start - self.clock.now,
            seconds=self.job_seconds,
            fail=self._failures.get(n),
        )
        if max_execution_time and job.seconds > max_execution_time:
            job.seconds, job.fail = float(max_execution_time), (f"job ran longer than {max_execution_time} s", 1305)
        self.jobs[job.id] = job
        self.order.append(job.id)
        if session_id is not None:
            self.sessions[session_id].jobs.append(job.id)
        return {"id": job.id, "backend": backend}

    def create_session(self, backend: str, max_time: int | None, mode: str) -> dict:
        if self.plan == "open" and mode == "dedicated":
            raise self.RequestsApiError("Error code 1352; sessions are not available on the Open Plan", status_code=403)
        sid = f"session-{uuid.uuid4().hex[:8]}"
        granted = min(int(max_time or 28800), self.max_time_cap)  # an instance may allow less than asked
        self.sessions[sid] = SessionState(sid, backend, mode, granted, created=self.clock.now)
        return {"id": sid}

    def job_state(self, job_id: str) -> dict:
        self.tick()
        job = self._job(job_id)
        state: dict[str, Any] = {"status": job.status}
        if job.reason:
            state["reason"] = job.reason
        if job.reason_code:
            state["reason_code"] = job.reason_code
        return {
            "id": job.id,
            "backend": job.backend,
            "state": state,
            "session_id": job.session_id,
            "program": {"id": "executor"},
            "created": self.clock.iso(job.submitted),
            "tags": list(job.tags),
            "private": False,
            "estimated_running_time_seconds": self.estimated(job),
        }

    def estimated(self, job: Job) -> float:
        """The usage the service estimates for a job: a runtime job's own, and each PUB's past the first."""
        if not self.item_seconds:
            return self.estimated_seconds
        from qiskit_ibm_runtime.quantum_program.params_converters import QUANTUM_PROGRAM_PARAMS_CONVERTERS

        converter = QUANTUM_PROGRAM_PARAMS_CONVERTERS[job.params["schema_version"]]
        program, _ = converter.decoder(converter.model.model_validate(job.params))
        return self.estimated_seconds + self.item_seconds * (len(program.items) - 1)

    def job_usage(self, job_id: str) -> dict:
        self.tick()
        job = self._job(job_id)
        final = job.ended is not None
        if final and job.usage_polls < self.usage_pending_polls:
            job.usage_polls += 1
            final = False
        seconds = round(job.seconds, 3) if job.ended is not None and job.status == "Completed" else 0
        return {
            "timestamps": {
                "created": self.clock.iso(job.submitted),
                "running": self.clock.iso(job.started),
                "finished": self.clock.iso(job.ended),
            },
            "usage": {
                "status": "final" if final else "pending",
                "quantum_seconds": seconds,
                "seconds": seconds,
                "qpu_charge_time_seconds": seconds if final else 0,
            },
        }

    def _job(self, job_id: str) -> Job:
        if job_id not in self.jobs:
            raise self.RequestsApiError(f"job {job_id} not found", status_code=404)
        return self.jobs[job_id]

    def session_record(self, session_id: str) -> dict:
        self.tick()
        s = self.sessions[session_id]
        elapsed = 0.0 if s.started is None else (s.closed if s.closed is not None else self.clock.now) - s.started
        return {
            "id": s.id,
            "backend_name": s.backend,
            "mode": s.mode,
            "state": s.state,
            "accepting_jobs": s.accepting,
            "max_ttl": s.max_time,
            "interactive_ttl": self.interactive_ttl,
            "active_ttl": s.max_time,
            "started_at": self.clock.iso(s.started),
            "closed_at": self.clock.iso(s.closed),
            "activated_at": self.clock.iso(s.started),
            "elapsed_time": round(elapsed, 3),
            "timestamps": [],
        }


class FakeRuntimeClient:
    """Implements the `RuntimeClient` methods qiskit-ibm-runtime 0.51 calls, against a `Cloud`."""

    cloud: Cloud  # set on the subclass the fixture makes

    def __init__(self, params: Any = None) -> None:
        self._instance = getattr(params, "instance", None)  # None until an instance is resolved, as the real one

    def _log(self, name: str) -> None:
        self.cloud.calls.append(name)

    def list_backends(self, include_mocks: bool = False) -> list[dict]:
        self._log("list_backends")
        # the records of GET /backends ("devices"), as 0.51's least_busy and backend() read them: status a
        # mapping with its name, the width as "qubits", the queue as "queue_length"
        # (the width from the device's configuration, as the service's own record has it: `num_qubits` would build
        # the device's whole target from its calibration, for every device of every test's service)
        widths = {name: dev.configuration().n_qubits for name, dev in self.cloud.devices.items()}
        records = [
            {
                "name": name,
                "status": {"name": "paused" if name in self.cloud.down else "online", "reason": "available"},
                "is_simulator": False,
                "qubits": widths[name],
                "queue_length": self.cloud.pending.get(name, 0),
                "processor_type": {"family": "Heron" if widths[name] > 133 else "Eagle"},
            }
            for name in self.cloud.devices
        ]
        if include_mocks and self.cloud.mocks:
            # each device's dry-run counterpart, "mock_<name without its prefix>", as the runtime looks it up
            records += [{**r, "name": mock_name(r["name"]), "class": "mock", "queue_length": 0} for r in list(records)]
        return records

    def backend_configuration(self, backend_name: str, refresh: bool = False, calibration_id: str | None = None):
        self._log("backend_configuration")
        dev = self.cloud.device(backend_name)
        conf = dev._load_json(dev.conf_filename)  # the raw JSON, as the service sends it
        conf.update(backend_name=backend_name, simulator=False, local=False)
        left_out = self.cloud.unsupported.get(backend_name, set())
        conf["supported_instructions"] = [i for i in conf.get("supported_instructions", []) if i not in left_out]
        return conf

    def backend_properties(self, backend_name: str, datetime: Any = None, calibration_id: str | None = None):
        self._log("backend_properties")
        dev = self.cloud.device(backend_name)
        props = {**dev._load_json(dev.props_filename), "backend_name": backend_name}
        if self.cloud.recalibrations:
            # the calibration in force at `datetime` (now without one), as the service keeps its history
            moment = (datetime - EPOCH).total_seconds() if datetime is not None else self.cloud.clock.now
            done = [stamp for at, stamp in self.cloud.recalibrations if at <= moment]
            props["last_update_date"] = done[-1] if done else self.cloud.recalibrations[0][1]
        return props

    def backend_status(self, backend_name: str) -> dict:
        self._log("backend_status")
        down = backend_name in self.cloud.down
        return {
            "backend_name": backend_name,
            "backend_version": "1.0.0",
            "operational": not down,
            "pending_jobs": self.cloud.pending.get(backend_name, 0),
            "status_msg": "maintenance" if down else "active",
        }

    def cloud_usage(self) -> dict:
        self._log("cloud_usage")
        # as the service's /usage answers: what is used and the limit; the runtime's usage() adds what is left
        consumed = self.cloud.usage_consumed
        return {
            "usage_consumed_seconds": consumed,
            "usage_limit_seconds": consumed + self.cloud.usage_remaining,
            "usage_limit_reached": self.cloud.usage_remaining <= 0,
        }

    def create_session(
        self,
        backend: str | None = None,
        instance: str | None = None,
        max_time: int | None = None,
        mode: str | None = None,
        **kwargs: Any,
    ) -> dict:
        self._log("create_session")
        return self.cloud.create_session(backend or "", max_time, mode or "dedicated")

    def close_session(self, session_id: str) -> None:
        self._log("close_session")
        s = self.cloud.sessions[session_id]
        s.accepting = False
        if s.closed is None and not any(self.cloud.jobs[j].status in ("Queued", "Running") for j in s.jobs):
            s.state, s.closed, s.closed_reason = "closed", self.cloud.clock.now, "closed by the user"

    def cancel_session(self, session_id: str) -> None:
        self._log("cancel_session")
        self.cloud._close(self.cloud.sessions[session_id], self.cloud.clock.now, "cancelled by the user")

    def session_details(self, session_id: str) -> dict:
        self._log("session_details")
        return self.cloud.session_record(session_id)

    def program_run(
        self,
        program_id: str,
        backend_name: str | None,
        params: dict,
        image: str | None,
        log_level: str | None,
        session_id: str | None,
        job_tags: list[str] | None = None,
        max_execution_time: int | None = None,
        start_session: bool | None = False,
        session_time: int | None = None,
        private: bool | None = False,
        calibration_id: str | None = None,
    ) -> dict:
        self._log("program_run")
        assert program_id == "executor", program_id
        if (backend_name or "").startswith("mock_"):
            return self.cloud.dry_run(backend_name or "", params)
        job = self.cloud.submit(backend_name or "", params, session_id, max_execution_time)
        self.cloud.jobs[job["id"]].tags = list(job_tags or [])
        return job

    def job_get(self, job_id: str, exclude_params: bool = True) -> dict:
        self._log("job_get")
        return self.cloud.job_state(job_id)

    def jobs_get(
        self,
        limit: int | None = None,
        skip: int = 0,
        job_tags: list[str] | None = None,
        session_id: str | None = None,
        pending: bool | None = None,
        descending: bool = True,
        **kwargs: Any,
    ) -> dict:
        """GET /jobs: the records the service keeps, filtered as it filters them (every tag must match)."""
        self._log("jobs_get")
        self.cloud.tick()
        found = [
            job
            for job in (self.cloud.jobs[j] for j in self.cloud.order)
            if all(t in job.tags for t in job_tags or [])
            and (session_id is None or job.session_id == session_id)
            and (pending is None or (job.status in ("Queued", "Running")) == pending)
        ]
        if descending:
            found.reverse()
        page = found[skip : skip + limit if limit else None]
        return {"jobs": [self.cloud.job_state(job.id) for job in page], "count": len(found)}

    def job_results(self, job_id: str) -> str:
        self._log("job_results")
        job = self.cloud._job(job_id)
        return job.result if job.result is not None else (job.reason or "")

    def job_cancel(self, job_id: str) -> None:
        self._log("job_cancel")
        job = self.cloud._job(job_id)
        if job.status in ("Queued", "Running"):
            job.status, job.ended, job.reason = "Cancelled", self.cloud.clock.now, "cancelled by the user"

    def job_metadata(self, job_id: str) -> dict:
        self._log("job_metadata")
        return self.cloud.job_usage(job_id)

    def job_logs(self, job_id: str) -> str:
        return ""

    def update_tags(self, job_id: str, tags: list) -> None:
        return None


def install(monkeypatch, cloud: Cloud, account_file: Any = None, token: str | None = "stand-in-token") -> None:
    """Route the runtime's transport to `cloud` and its clock. Only the transports are replaced: the REST client
    (`RuntimeClient`, as the runtime's own unit tests do) and the IBM Cloud instance search behind
    `Account.list_instances` (Global Search and Catalog). So the real `QiskitRuntimeService` resolves the account
    (a token, or a saved account by name), the instance (a name, a CRN, or none: the service picks by plan), and
    backends, and `least_busy` chooses, through the library's own code. `account_file`: where saved accounts live
    (the runtime reads ~/.qiskit/qiskit-ibm.json by default). `token` goes into QISKIT_IBM_TOKEN, as a user sets
    it; None leaves it unset (a saved account then supplies one)."""
    import qiskit_ibm_runtime.accounts.management as management
    import qiskit_ibm_runtime.qiskit_runtime_service as qrs
    import qiskit_ibm_runtime.runtime_job_v2 as rj
    from qiskit_ibm_runtime.accounts import Account

    client = type("BoundFakeRuntimeClient", (FakeRuntimeClient,), {"cloud": cloud})
    monkeypatch.setattr(qrs, "RuntimeClient", client)
    monkeypatch.setattr(Account, "list_instances", lambda self: cloud.instance_records(self.token))
    if token is None:
        monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    else:
        monkeypatch.setenv("QISKIT_IBM_TOKEN", token)
    if account_file is not None:
        monkeypatch.setattr(management, "_DEFAULT_ACCOUNT_CONFIG_JSON_FILE", str(account_file))

    class FakeTime:
        """runtime_job_v2's view of time: polling sleeps advance the virtual clock."""

        time = staticmethod(cloud.clock.time)
        sleep = staticmethod(cloud.clock.sleep)
        monotonic = staticmethod(cloud.clock.monotonic)

    monkeypatch.setattr(rj, "time", FakeTime)
