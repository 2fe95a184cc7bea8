"""A runner's state and one submission's round trip: read back on resume, sent (tagged, seeded), collected."""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from ..backends.kind import OpenSession
from ..backends.registry import traits
from ..backends.service import job_id
from ..errors import ServiceJobError
from ..jobs.kind import Primitive, Pub, RuntimeJob
from ..model import durations
from ..model.outcomes import is_final
from ..model.plan import JobPlan, Plan
from ..model.records import Finished, SessionRecord
from ..planning import rehearsal
from ..planning.modes import INTERACTIVE_TTL
from .clock import SYSTEM, Clock, DeviceTime
from .cluster import ENGINES as DASK_ENGINES
from .engines import Engines
from .events import Sink
from .streams import submission_seed, submission_seeds
from .submission import OnePub, cancel, metrics, stream_of, submission_tags

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.primitives import PrimitiveResult
    from qiskit.providers import BackendV2
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_ibm_runtime import RuntimeJobV2

    from .cluster import Cluster


class RunnerBase:
    """A runner's state, and how one submission goes out and comes back: read back on resume, sent, collected."""

    def __init__(
        self,
        plan: Plan,
        sink: Sink,
        finished: Finished | None = None,
        submissions: int = 0,
        pending: dict[str, list[str]] | None = None,
        fetch: Callable[[str], RuntimeJobV2] | None = None,
        cluster: Cluster | None = None,
        batched: dict[str, tuple[str, int]] | None = None,
        tags: list[str] | None = None,
        clock: Clock = SYSTEM,
    ):
        """`finished`: jobs a resumed run keeps, by name, with the optimum of each minimize job (else None).

        `submissions` continues the count of the interrupted run's submissions.
        `pending` maps each unfinished job to the runtime job ids an earlier attempt submitted for it, in order, and
        `fetch(id)` gets such a job from the service: each submission of a resumed job first reads back the next of
        those ids, so a finished or still queued job is collected instead of run (and paid for) twice.
        `batched` maps a job that went out in a PUB-batched runtime job to that job's id and the job's PUB in it.
        `tags` go on every runtime job sent to the service: the run and spec it belongs to.
        `clock` is where deadlines read the time and waits wait (tests give the stand-in service's).
        """
        self.clock = clock
        self.pending = {name: list(ids) for name, ids in (pending or {}).items()}
        self.fetch = fetch
        self.batched = dict(batched or {})
        # by runtime job id: a batch's jobs, read back on resume, share one fetch and one downloaded result
        self._fetched: dict[str, RuntimeJob] = {}
        self._batch_results: dict[str, PrimitiveResult] = {}
        self.plan = plan
        self.sink = sink
        self.engines = Engines(plan.device, tags, parallel=cluster is None)
        self.cluster = cluster
        self._evaluators: dict[str, Primitive] = {}  # a minimize job's estimator, kept across its evaluations
        # fake devices: restricted circuit, observables and device
        self._rehearsals: dict[tuple, tuple[QuantumCircuit, Sequence[tuple[str, SparsePauliOp]], BackendV2]] = {}
        self._devices: dict[tuple[int, ...], BackendV2] = {}  # one subset device per set of simulated qubits
        self.submissions = submissions
        self.job_submissions: dict[str, int] = {}  # per job, for its seeds
        self.finished = finished or {}
        self.session_record: SessionRecord = {}
        self.session: OpenSession | None = None
        # keyed by (multirun point, job name): the points of a multirun share job names
        point = plan.jobs[0].run_key if plan.jobs else 0  # a resumed run is one point (0 unless resumed alone)
        self.optima: dict[tuple[int, str], np.ndarray] = {
            (point, name): np.asarray(x, dtype=float) for name, x in self.finished.items() if x is not None
        }
        # The service starts a session's max_time clock when its first job starts running, not when qrun asks for
        # the session; until then there is no deadline (queue time is not session time).
        self.deadline = float("inf")
        # where the deadline is measured: this machine's clock, or a rehearsal's device time (DeviceTime says why)
        self.device_time = DeviceTime() if traits(plan.backend_kind).rehearsed else None
        self.session_clock: Clock | DeviceTime = self.device_time or clock
        self.session_started: float | None = None
        self.opened = 0.0
        self.last_result = 0.0
        self.handles: list[tuple[JobPlan, RuntimeJob]] = []  # service jobs, for their usage once the session is closed
        # a service session is deactivated after this long with nothing queued or running (its details say; IBM's
        # default otherwise): a longer gap between a result and the next submission loses the session's turn
        self.interactive_ttl = INTERACTIVE_TTL
        self.idle_since: float | None = None
        # a Ctrl-C came while a local job computed: the job is kept and nothing more is sent (collect says why)
        self.interrupt_pending = False

    def start_clock(self, handle: RuntimeJob, submitted: float) -> None:
        """Start the deadline where the service starts the session: when its first job started running.

        A service job's metrics give when it started and finished running; the difference, counted back from now,
        places that start on qrun's own clock without comparing two machines' wall clocks. A local job starts
        when it is submitted: the runtime's local jobs give metrics of the service's shape, but stamp all three
        moments when the job is made, so counting back from them put the start after the job had run.
        """
        if self.session_started is not None:
            return
        started = submitted
        remote = traits(self.plan.backend_kind).remote
        timestamps = metrics(handle).get("timestamps") if remote else None  # the service's JSON
        timestamps = timestamps if isinstance(timestamps, dict) else {}
        running, finished = (
            durations.parse_timestamp(timestamps.get("running")),
            durations.parse_timestamp(timestamps.get("finished")),
        )
        if running is not None and finished is not None:
            started = max(submitted, self.clock.monotonic() - max((finished - running).total_seconds(), 0.0))
        self.session_started = started
        allowed = self._granted_max_time()
        self.deadline = (started if self.device_time is None else self.device_time.monotonic()) + allowed
        wall = datetime.now(UTC) - timedelta(seconds=self.clock.monotonic() - started)
        self.session_record["started"] = durations.timestamp(wall)
        # a rehearsal's deadline is in the device's time, at no moment of this machine's
        self.session_record["deadline"] = (
            durations.timestamp(wall + timedelta(seconds=allowed)) if self.device_time is None else None
        )
        self.session_record["session_id"] = getattr(self.session, "session_id", None)
        self.sink.session_started(self.session_record.copy())

    def spent(self, jobs: Sequence[JobPlan]) -> None:
        """Jobs finished: a rehearsal's session time moves on by their estimates (the device's seconds)."""
        self.spend(sum(job.estimate for job in jobs))

    def spend(self, seconds: float) -> None:
        if self.device_time is not None:
            self.device_time.spend(seconds)
            self.sink.session_time(self.device_time.monotonic())

    def _granted_max_time(self) -> int:
        """The max_time the service granted the session, read once from its details after the first job started:
        a service may grant less than was asked for (an instance's own limit), and the deadline must be the real
        one. Recorded as granted_max_time when it differs; the plan's max_time where the service says nothing."""
        asked = self.plan.max_time
        details_of = getattr(self.session, "details", None)  # the runtime's Session and Batch have details()
        if not traits(self.plan.backend_kind).remote or details_of is None:
            return asked
        try:
            details = details_of() or {}
        except Exception:  # the details are a courtesy: without them the plan's max_time stands
            return asked
        granted = details.get("max_time")
        ttl = details.get("interactive_timeout")
        if isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl > 0:
            self.interactive_ttl = float(ttl)
        if isinstance(granted, int) and not isinstance(granted, bool) and 0 < granted < asked:
            self.session_record["granted_max_time"] = granted
            return granted
        return asked

    def rehearsal(self, job: JobPlan) -> tuple[QuantumCircuit, Sequence[tuple[str, SparsePauliOp]], BackendV2]:
        """A fake-device job's circuit, observables and device cut down to the qubits it uses; one subset device per
        set of qubits, one restricted circuit per circuit, made once for all the jobs that share them."""

        qubits = list(job.simulated_qubits or [])
        names = tuple(name for name, _ in job.observables)
        key = (id(job.circuit), tuple(qubits), names)
        if key not in self._rehearsals:
            self._rehearsals[key] = rehearsal.rehearse(
                job.circuit, job.observables, self.plan.device, qubits, self._devices
            )[:3]
        return self._rehearsals[key]

    def bind(self, job: JobPlan) -> JobPlan:
        """The job as it is submitted: on a fake device its circuit and observables on the simulated qubits only,
        and parameter_values from an earlier minimize job's optimum where it says so. One copy of the plan at most:
        each copy sets every one of a plan's fields."""
        values = job.parameter_values
        if job.parameter_source is not None:
            values = np.atleast_2d(self.optima[(job.run_key, job.parameter_source)])
        if job.simulated_qubits is not None and job.device is None:
            circuit, ops, device = self.rehearsal(job)
            return dataclasses.replace(
                job,
                sim_circuit=circuit,
                sim_observables=ops,
                device=device,
                circuit=circuit,
                observables=ops,
                parameter_values=values,
            )
        if job.sim_circuit is not None:
            observables = job.sim_observables or []
            return dataclasses.replace(job, circuit=job.sim_circuit, observables=observables, parameter_values=values)
        return job if job.parameter_source is None else dataclasses.replace(job, parameter_values=values)

    def read_back(self, job: JobPlan) -> RuntimeJob | None:
        """On resume: the next runtime job an earlier attempt submitted for this job, if the service finished it or
        still has it queued or running; None when there is none, or it failed or was cancelled (submit anew)."""
        ids = self.pending.get(job.name)
        if not ids or self.fetch is None:
            return None
        job_id = ids.pop(0)
        try:
            if job_id not in self._fetched:
                self._fetched[job_id] = self.fetch(job_id)
            handle = self._fetched[job_id]
            status = handle.status()
        except Exception:  # the service no longer knows it: run it again
            self.pending[job.name] = []
            return None
        if is_final(status) and not str(getattr(status, "name", status)).upper().startswith("DONE"):
            self.pending[job.name] = []  # nothing after a failed submission was ever sent
            return None
        batched = self.batched.get(job.name)
        if batched is not None and batched[0] == job_id:
            return OnePub(handle, batched[1], self._batch_results)
        return handle

    def submit(self, job: JobPlan, primitive: Callable[[], Primitive], pub: Pub, **kwargs: object) -> PrimitiveResult:
        """Run one PUB as one runtime job (or read the earlier attempt's back) and return its PrimitiveResult."""
        handle, submitted = self.send(job, primitive, pub, **kwargs)
        return self.receive(job, handle, submitted)

    def send(
        self, job: JobPlan, primitive: Callable[[], Primitive], pub: Pub, **kwargs: object
    ) -> tuple[RuntimeJob, float]:
        """Submit one PUB as one runtime job (or find the earlier attempt's) without waiting for it; a sweep's chunk
        goes to a Dask worker when a cluster runs this job's local simulation."""
        self.stop_if_asked()  # a loop's next evaluation, a sweep's next chunk
        handle = self.read_back(job)
        submitted = self.clock.monotonic()
        stream = stream_of(job)
        if handle is None:
            if self.cluster is not None and self._on_cluster(job):
                handle = self.cluster.submit(primitive(), pub, kwargs)
            else:
                made = primitive()
                self.engines.tag(made, job, submission_tags(stream, self.job_submissions.get(stream, 0)))
                self.note_idle_gap()
                handle = made.run([pub], **kwargs)
        self.submissions += 1
        self.job_submissions[stream] = self.job_submissions.get(stream, 0) + 1
        self.sink.jobs_submitted([job], handle.job_id(), [handle.index if isinstance(handle, OnePub) else None])
        self._note_session()
        return handle, submitted

    def _note_session(self) -> None:
        session_id = getattr(self.session, "session_id", None)
        if self.session_record.get("session_id") is None and session_id:
            # The service may name the session only once its first job is in; record it as soon as it exists.
            self.session_record["session_id"] = session_id
            self.sink.session_started(self.session_record.copy())

    def _on_cluster(self, job: JobPlan) -> bool:
        """Whether a job's chunks go to the Dask cluster: a sweep whose primitive pickles whole (cluster.ENGINES)."""
        return self.cluster is not None and job.points is not None and job.engine in DASK_ENGINES

    def receive(self, job: JobPlan, handle: RuntimeJob, submitted: float) -> PrimitiveResult:
        """Wait for a sent runtime job's PrimitiveResult; its metrics start the session clock if nothing did yet."""
        result = self.collect(job, handle)
        self.start_clock(handle, submitted)
        self.idle_since = self.clock.monotonic()
        return result

    def note_idle_gap(self) -> None:
        """Before a submission to a service session: if it sat idle past its interactive timeout since the last
        result, the service deactivated it and this job queues as any job would; say so in the job's warnings."""
        if self.idle_since is None or self.plan.mode != "session" or not traits(self.plan.backend_kind).remote:
            return
        gap = self.clock.monotonic() - self.idle_since
        if gap > self.interactive_ttl:
            warnings.warn(
                f"the session sat idle {durations.format(gap)} before this job, past its interactive timeout "
                f"({durations.format(self.interactive_ttl)}): the service deactivated it, so the job waited in the "
                "queue as any job does, while the session's max_time kept counting",
                UserWarning,
                stacklevel=2,
            )

    def stop_if_asked(self) -> None:
        """Stop here, before anything more is sent, where a Ctrl-C came while a local job computed."""
        if self.interrupt_pending:
            raise KeyboardInterrupt

    def collect(self, job: JobPlan, handle: RuntimeJob) -> PrimitiveResult:
        self.sink.waiting()
        try:
            try:
                result = handle.result()
            except KeyboardInterrupt:
                if traits(self.plan.backend_kind).remote:
                    cancel(handle)  # stop what is queued; the session closes on the way out
                    raise
                # A local simulation goes on in its thread whatever qrun does, and the process waits for it before
                # it exits: its result was thrown away after that wait. It is kept now, and nothing more is sent,
                # as the first Ctrl-C promises ("stopping after the current job"); a second one kills the run.
                self.interrupt_pending = True
                result = handle.result()
        except Exception as e:
            raise ServiceJobError(self.plan.backend_name, job_id(handle), e) from e
        finally:
            self.keep_for_usage(job, handle)
        self.last_result = time.perf_counter()
        return result

    def keep_for_usage(self, job: JobPlan, handle: RuntimeJob) -> None:
        """A service job's handle, kept to read its usage once the session is closed. A local job's is not: local
        testing mode's jobs bill nothing, and a kept handle kept its result for the rest of the run."""
        if hasattr(handle, "metrics") and traits(self.plan.backend_kind).remote:
            self.handles.append((job, handle))

    def next_seed(self, job: JobPlan) -> int | None:
        """The seed of this job's next submission: drawn from (run seed, job name, submission index), so no two
        runs, jobs or evaluations share a stream, and a resumed job repeats its uninterrupted run exactly."""
        if self.plan.seed is None:
            return None
        # a multirun's points are runs of their own: each draws its own streams (point 0 as a single run would)
        stream = stream_of(job)
        return submission_seed(self.plan.seed, stream, self.job_submissions.get(stream, 0))

    def next_seeds(self, jobs: list[JobPlan]) -> list[int | None]:
        """next_seed of each of `jobs`, hashed as one array (a batch of 250 jobs: 250 SeedSequences saved)."""
        if self.plan.seed is None:
            return [None] * len(jobs)
        streams = [stream_of(job) for job in jobs]
        return [*submission_seeds(self.plan.seed, streams, [self.job_submissions.get(s, 0) for s in streams])]
