"""Run a plan in ONE runtime session, jobs in order; the only module that talks to the runtime."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import time
import warnings
from collections import deque
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol

import numpy as np

from . import durations, sweeps
from .cluster import ENGINES as DASK_ENGINES
from .engines import Engines, estimator_pub, observables_array, sampler_pub, sweep_estimator_pub
from .errors import RunError, ServiceError, ServiceJobError
from .model.plan import JobPlan, Plan
from .modes import INTERACTIVE_TTL
from .outcomes import SESSION_EXPIRED, STOPPED_DEADLINE, MinimizeOutcome, SweepOutcome, is_final
from .plan import sweep_chunks
from .service import job_id, redact, sentence, usage_record

# Jobs per PUB-batched runtime job. Locally, 250: while a batch runs, Aer and qrun hold every job's bound rows,
# results and records (10,000 one-row jobs peaked at 251 MiB in batches of 2,000, 204 MiB in batches of 250, in the
# same time; as one PUB, a hand script takes 460 MiB). On the service each PUB carries its own ISA circuit in the
# request, so a batch there is kept to a size whose request stays small.
LOCAL_BATCH = 250
SERVICE_BATCH = 100


class Sink(Protocol):
    """Where execute reports what happens; results.RunWriter and progress.Reporter are the real ones."""

    def session_opened(self, session: dict[str, Any]) -> None: ...
    def session_started(self, session: dict[str, Any]) -> None: ...
    def job_started(self, job: JobPlan) -> None: ...
    def jobs_submitted(self, jobs: list[JobPlan], job_id: str, pubs: list[int | None]) -> None: ...
    def job_progress(self, job: JobPlan, trace: list[dict[str, Any]]) -> None: ...
    def job_done(self, job: JobPlan, result: Any) -> None: ...
    def sweep_chunk(
        self, job: JobPlan, start: int, points: list[dict[str, Any]], groups: list[Any], results: list[Any]
    ) -> None: ...
    def job_failed(self, job: JobPlan, error: str) -> None: ...
    def job_skipped(self, job: JobPlan, status: str) -> None: ...
    def job_warnings(self, job: JobPlan, messages: list[str]) -> None: ...
    def job_interrupted(self, job: JobPlan) -> None: ...
    def job_usage(self, job: JobPlan, record: dict[str, Any]) -> None: ...
    def waiting(self) -> None: ...  # execute is about to wait for a result: what was recorded must be visible now
    def session_closed(self, session: dict[str, Any]) -> None: ...


class _Stop(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def clock() -> float:
    """Monotonic seconds; the one place execute reads time for deadlines (tests replace it)."""
    return time.monotonic()


def pause(seconds: float) -> None:
    """Wait; the one place execute sleeps (tests replace it with their own clock)."""
    time.sleep(seconds)


class Runner:
    """Submits a plan's jobs through one session and reports every step to a sink."""

    def __init__(
        self,
        plan: Plan,
        sink: Sink,
        finished: dict[str, Any] | None = None,
        submissions: int = 0,
        pending: dict[str, list[str]] | None = None,
        fetch: Any = None,
        cluster: Any = None,
        batched: dict[str, tuple[str, int]] | None = None,
        tags: list[str] | None = None,
    ):
        """`finished`: jobs a resumed run keeps, by name, with the optimum of each minimize job (else None).

        `submissions` continues the count of the interrupted run's submissions.
        `pending` maps each unfinished job to the runtime job ids an earlier attempt submitted for it, in order, and
        `fetch(id)` gets such a job from the service: each submission of a resumed job first reads back the next of
        those ids, so a finished or still queued job is collected instead of run (and paid for) twice.
        `batched` maps a job that went out in a PUB-batched runtime job to that job's id and the job's PUB in it.
        `tags` go on every runtime job sent to the service: the run and spec it belongs to.
        """
        self.pending = {name: list(ids) for name, ids in (pending or {}).items()}
        self.fetch = fetch
        self.batched = dict(batched or {})
        # by runtime job id: a batch's jobs, read back on resume, share one fetch and one downloaded result
        self._fetched: dict[str, Any] = {}
        self._batch_results: dict[str, Any] = {}
        self.plan = plan
        self.sink = sink
        self.engines = Engines(plan.backend, tags)
        self.cluster = cluster
        self._evaluators: dict[str, Any] = {}  # a minimize job's estimator, kept across its evaluations
        self._rehearsals: dict[tuple, Any] = {}  # fake devices: restricted circuit, observables and device
        self._devices: dict[tuple, Any] = {}  # one subset device per set of simulated qubits
        self.submissions = submissions
        self.job_submissions: dict[str, int] = {}  # per job, for its seeds
        self.finished = finished or {}
        self.session_record: dict[str, Any] = {}
        self.session: Any = None
        # keyed by (multirun point, job name): the points of a multirun share job names
        point = plan.jobs[0].run_key if plan.jobs else 0  # a resumed run is one point (0 unless resumed alone)
        self.optima: dict[tuple[int, str], np.ndarray] = {
            (point, name): np.asarray(x, dtype=float) for name, x in self.finished.items() if x is not None
        }
        # The service starts a session's max_time clock when its first job starts running, not when qrun asks for
        # the session; until then there is no deadline (queue time is not session time).
        self.deadline = float("inf")
        self.session_started: float | None = None
        self.opened = 0.0
        self.last_result = 0.0
        self.handles: list[tuple[JobPlan, Any]] = []  # service jobs, for their usage once the session is closed
        # a service session is deactivated after this long with nothing queued or running (its details say; IBM's
        # default otherwise): a longer gap between a result and the next submission loses the session's turn
        self.interactive_ttl = INTERACTIVE_TTL
        self.idle_since: float | None = None

    def run(self) -> None:
        """Run every job, block by block (plan.blocks: on the service, mode: auto opens a session only around the jobs
        that need one, and sends the rest as batches); RunError if one fails or a session's max_time runs out."""
        plan = self.plan
        blocks = plan.blocks if plan.backend_kind == "service" and len(plan.blocks) > 1 else []
        if not blocks:  # one session (or batch) for the whole run, as the spec's mode says
            self._run_block(plan.mode, plan.mode_reason, 0, len(plan.jobs), None)
            return
        for k, block in enumerate(blocks):
            if all(j.name in self.finished for j in plan.jobs[block.start : block.stop]):
                continue  # a resumed run opens nothing for blocks it finished
            self._run_block(block.mode, block.reason, block.start, block.stop, k)

    def _run_block(self, mode: str, reason: str, start: int, stop: int, block: int | None) -> None:
        """Jobs start..stop-1 in one session or batch of their own: opened, run, closed, its usage read."""
        plan = self.plan
        self.opened = time.perf_counter()
        # each session's max_time clock starts when its own first job starts
        self.deadline, self.session_started, self.idle_since = float("inf"), None, None
        self.session_record = {
            "backend": plan.backend_name,
            "mode": mode,
            "mode_reason": reason,
            **({"block": block, "jobs": [start, stop]} if block is not None else {}),
            "engine": "+".join(sorted({j.engine for j in plan.jobs[start:stop]})),
            "max_time": plan.max_time,
            # The runtime keeps no such record in local mode (session_id, details() are None), so qrun does.
            "session_id": None,
            "requested": durations.timestamp(),
            **({"dask": self.cluster.record} if self.cluster is not None else {}),
            "started": None,
            "deadline": None,
            "closed": None,
        }
        if plan.backend_kind == "fake":  # a fake device's properties are fixed: its calibration, once per run
            from .calibration import of_device

            self.session_record["calibration"] = of_device(plan.backend)
        session = None
        try:
            try:
                session = _open_session(plan, mode)
            except Exception as e:  # the service refused the session: say which backend and why, not "internal error"
                raise ServiceError(
                    f"{plan.backend_name}: the service refused to open a {mode}: {sentence(e)}"
                ) from None
            self.session = session
            self.session_record["session_id"] = session.session_id
            self.sink.session_opened(dict(self.session_record))
            self._run_jobs(session, start, stop)
        finally:
            if session is not None:
                # Closed only after the last job completed (or the run stopped), never while one is pending.
                _quietly(session.close)
                self.session_record["closed"] = durations.timestamp()
                self.session_record["session_id"] = session.session_id
                # From opening the session to the last result in hand, before any file is written.
                self.session_record["execution_seconds"] = round(max(self.last_result - self.opened, 0.0), 6)
                self.sink.session_closed(dict(self.session_record))
                self.record_usage()

    def start_clock(self, handle: Any, submitted: float) -> None:
        """Start the deadline where the service starts the session: when its first job started running.

        A service job's metrics give when it started and finished running; the difference, counted back from now,
        places that start on qrun's own clock without comparing two machines' wall clocks. A local job starts
        when it is submitted.
        """
        if self.session_started is not None:
            return
        started = submitted
        timestamps = _metrics(handle).get("timestamps") or {}
        running, finished = (
            durations.parse_timestamp(timestamps.get("running")),
            durations.parse_timestamp(timestamps.get("finished")),
        )
        if running is not None and finished is not None:
            started = max(submitted, clock() - max((finished - running).total_seconds(), 0.0))
        self.session_started = started
        allowed = self._granted_max_time()
        self.deadline = started + allowed
        wall = datetime.now(UTC) - timedelta(seconds=clock() - started)
        self.session_record["started"] = durations.timestamp(wall)
        self.session_record["deadline"] = durations.timestamp(wall + timedelta(seconds=allowed))
        self.session_record["session_id"] = getattr(self.session, "session_id", None)
        self.sink.session_started(dict(self.session_record))

    def _granted_max_time(self) -> int:
        """The max_time the service granted the session, read once from its details after the first job started:
        a service may grant less than was asked for (an instance's own limit), and the deadline must be the real
        one. Recorded as granted_max_time when it differs; the plan's max_time where the service says nothing."""
        asked = self.plan.max_time
        if self.plan.backend_kind != "service" or not hasattr(self.session, "details"):
            return asked
        try:
            details = self.session.details() or {}
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

    def record_usage(self) -> None:
        """Each service job's usage, read once the session is closed so no REST call sits between session jobs.

        The runtime reports 0 while a job's usage is still being computed; qrun waits a little for the final
        figure and otherwise records it as pending (`qrun status` shows it later).
        """
        records = [(job, usage_record(handle, sleep=pause)) for job, handle in self.handles]
        self._calibrations([r for _, r in records])
        for job, record in records:
            self.sink.job_usage(job, record)
        self.handles = []

    def _calibrations(self, records: list[dict[str, Any]]) -> None:
        """Each service job's calibration, as of when it ran: the first and last job's are asked for, and only if
        they differ (the device was recalibrated during the run) every job's."""
        if self.plan.backend_kind != "service" or not records:
            return
        from .calibration import at

        def running(r: dict[str, Any]) -> str | None:
            return (r.get("timestamps") or {}).get("running")

        ends = {at(self.plan.backend, running(records[0])), at(self.plan.backend, running(records[-1]))}
        for r in records:
            r["calibration"] = next(iter(ends)) if len(ends) == 1 else at(self.plan.backend, running(r))

    def _run_jobs(self, session: Any, start: int, stop: int) -> None:
        skip = 0
        for position, job in enumerate(self.plan.jobs[start:stop], start):
            if job.name in self.finished:
                continue
            if skip:
                skip -= 1
                continue
            batch = self.batch_from(position, stop)
            if len(batch) > 1 and clock() + sum(j.estimate for j in batch) <= self.deadline:
                self.run_batch(batch, session)
                skip = len(batch) - 1
                continue
            first = job.estimate / max(job.max_evaluations, 1) if job.primitive == "minimize" else job.estimate
            if clock() + first > self.deadline:
                # Never submit what cannot finish before the service ends the session at max_time.
                left = [later for later in self.plan.jobs[position:] if later.name not in self.finished]
                for later in left:
                    self.sink.job_skipped(later, SESSION_EXPIRED)
                if clock() >= self.deadline:
                    raise RunError(
                        f"the session reached max_time ({durations.format(self.plan.max_time)}) before "
                        f"job '{job.name}'; {len(left)} job(s) not run"
                    )
                raise RunError(
                    f"the session has {durations.format(max(self.deadline - clock(), 0))} of its max_time "
                    f"({durations.format(self.plan.max_time)}) left, less than job '{job.name}' needs "
                    f"({durations.format(first)}); {len(left)} job(s) not run. Resume with --resume to run them "
                    "in a new session"
                )
            self.sink.job_started(job)
            # Library warnings (e.g. from ZNE fits) belong to the job's record, not scattered over the terminal.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    job = self.bind(job)
                    result = self.run_job(job, session)
                except KeyboardInterrupt:
                    self.sink.job_interrupted(job)
                    raise
                except Exception as e:  # any failure of a job stops the run; its reason goes to the record
                    text = " ".join(str(e).split())
                    message = redact(text if isinstance(e, ServiceJobError) else f"{type(e).__name__}: {text}")
                    self.sink.job_warnings(job, _distinct(caught))
                    self.sink.job_failed(job, message)
                    raise RunError(f"job '{job.name}' failed: {message}") from e
            self.sink.job_warnings(job, _distinct(caught))
            if isinstance(result, MinimizeOutcome):
                self.optima[(job.run_key, job.name)] = np.asarray(result.optimum["parameters"], dtype=float)
            self.sink.job_done(job, result)

    def rehearsal(self, job: JobPlan) -> JobPlan:
        """A fake-device job with its circuit, observables and device cut down to the qubits it uses; one subset
        device per set of qubits, one restricted circuit per circuit, made once for all the jobs that share them."""
        from . import rehearsal

        qubits = list(job.simulated_qubits or [])
        names = tuple(name for name, _ in job.observables)
        key = (id(job.circuit), tuple(qubits), names)
        if key not in self._rehearsals:
            circuit, ops, device, _ = rehearsal.rehearse(job.circuit, job.observables, self.plan.backend, qubits)
            device = self._devices.setdefault(tuple(qubits), device)
            self._rehearsals[key] = (circuit, ops, device)
        circuit, ops, device = self._rehearsals[key]
        return dataclasses.replace(job, sim_circuit=circuit, sim_observables=ops, device=device)

    def batch_from(self, position: int, stop: int | None = None) -> list[JobPlan]:
        """The consecutive jobs from `position` that can go out as ONE PUB-batched runtime job, the runtime's own
        advice for many small jobs: plain estimator or sampler jobs on the same circuit with the same options, none
        using another's result. Each job's PUB index is recorded with the runtime job's id, so a resume reads each
        job back alone (a job an earlier attempt submitted is read back, never batched again).
        `options.batch: false` turns it off."""
        jobs = self.plan.jobs

        def fits(j: JobPlan, first: JobPlan) -> bool:
            return (
                j.options.get("batch", True)
                and not self.pending.get(j.name)
                and j.primitive in ("estimator", "sampler")
                and j.points is None
                and j.parameter_source is None
                and j.name not in self.finished
                # the same ISA circuit, not only the same name: a multirun's points may build different ones
                and j.circuit is first.circuit
                and (j.primitive, j.engine, j.simulated_qubits)
                == (first.primitive, first.engine, first.simulated_qubits)
                and {k: v for k, v in j.options.items() if k != "batch"}
                == {k: v for k, v in first.options.items() if k != "batch"}
            )

        first = jobs[position]
        if not fits(first, first):
            return [first]
        batch = [first]
        limit = SERVICE_BATCH if self.plan.backend_kind == "service" else LOCAL_BATCH
        for j in jobs[position + 1 : stop]:  # never past the block: the next one goes out in another session
            if len(batch) == limit or not fits(j, first):
                break
            batch.append(j)
        return batch

    def run_batch(self, batch: list[JobPlan], session: Any) -> None:
        """Submit `batch` as one runtime job of one PUB per job; each job gets its own result, record and file."""
        from qiskit.primitives import PrimitiveResult

        for job in batch:
            self.sink.job_started(job)
        bound = [self.bind(job) for job in batch]
        head = bound[0]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                # Aer's own estimator draws every PUB's shot noise from one generator seeded alike, which would
                # give identical jobs identical noise: qrun asks it for exact values and adds each job's noise
                # from that job's own seed, exactly as an unbatched run of the job would.
                exact = head.primitive == "estimator" and head.engine == "aer-primitives"
                seeds = [self.next_seed(j) for j in bound] if exact else []
                parts: list[tuple[int, slice | None]] = []
                if head.primitive == "estimator":
                    if exact:
                        # exact values depend on nothing but circuit, observables and parameters: jobs that share
                        # them go out as ONE PUB of all their rows, as a hand-batched script would send them
                        pubs, parts = _merged_estimator_pubs(bound)
                    else:
                        pubs = [(*_padded(estimator_pub(j)), j.precision) for j in bound]
                    primitive = self.engines.estimator(head, session, self.next_seed(head))
                else:
                    pubs = [(*_padded(sampler_pub(j), 2), j.shots) for j in bound]
                    primitive = self.engines.sampler(head, session, self.next_seed(head))
                stream = stream_of(head)
                self.engines.tag(
                    primitive, head, submission_tags(stream, self.job_submissions.get(stream, 0), len(pubs))
                )
                self.note_idle_gap()
                handle = primitive.run(pubs)
                self.submissions += 1
                for job in batch:
                    self.job_submissions[stream_of(job)] = self.job_submissions.get(stream_of(job), 0) + 1
                self.sink.jobs_submitted(
                    batch, handle.job_id(), [p[0] for p in parts] if parts else [*range(len(batch))]
                )
                self._note_session()
                submitted = clock()
                result = self.collect(head, handle)
                self.start_clock(handle, submitted)
                self.idle_since = clock()
            except KeyboardInterrupt:
                self.sink.job_interrupted(head)
                raise
            except Exception as e:  # the batch failed as one: its first job carries the reason, the rest did not run
                message = redact(f"{type(e).__name__}: {' '.join(str(e).split())}")
                self.sink.job_warnings(head, _distinct(caught))
                self.sink.job_failed(head, message)
                raise RunError(f"job '{head.name}' failed (batched with {len(batch) - 1} more): {message}") from e
        # every job's share first, in one tight loop: drawn between the file writes, each job's noise took 3x longer
        shares = (
            [_with_shot_noise(result, parts[k], j.precision, seeds[k]) for k, j in enumerate(bound)]
            if seeds
            else result
        )
        messages = _distinct(caught)  # the batch's warnings, recorded with each of its jobs
        for job, pub_result in zip(bound, shares):
            self.sink.job_warnings(job, messages)
            self.sink.job_done(job, PrimitiveResult([pub_result], metadata=result.metadata))

    def bind(self, job: JobPlan) -> JobPlan:
        """The job as it is submitted: on a fake device its circuit and observables on the simulated qubits only,
        and parameter_values from an earlier minimize job's optimum where it says so."""
        if job.simulated_qubits is not None and job.device is None:
            job = self.rehearsal(job)
        if job.sim_circuit is not None:
            job = dataclasses.replace(job, circuit=job.sim_circuit, observables=job.sim_observables or [])
        if job.parameter_source is None:
            return job
        optimum = self.optima[(job.run_key, job.parameter_source)]
        return dataclasses.replace(job, parameter_values=np.atleast_2d(optimum))

    def run_job(self, job: JobPlan, session: Any) -> Any:
        if job.points is not None:
            return self.sweep(job, session)
        if job.primitive == "estimator":
            return self.submit(
                job,
                lambda: self.engines.estimator(job, session, self.next_seed(job)),
                estimator_pub(job),
                precision=job.precision,
            )
        if job.primitive == "sampler":
            return self.submit(
                job, lambda: self.engines.sampler(job, session, self.next_seed(job)), sampler_pub(job), shots=job.shots
            )
        if job.primitive == "minimize":
            return self.minimize(job, session)
        raise RunError(f"job '{job.name}': unknown primitive {job.primitive!r}")

    def read_back(self, job: JobPlan) -> Any:
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

    def submit(self, job: JobPlan, primitive: Any, pub: Any, **kwargs: Any) -> Any:
        """Run one PUB as one runtime job (or read the earlier attempt's back) and return its PrimitiveResult."""
        handle, submitted = self.send(job, primitive, pub, **kwargs)
        return self.receive(job, handle, submitted)

    def send(self, job: JobPlan, primitive: Any, pub: Any, **kwargs: Any) -> tuple[Any, float]:
        """Submit one PUB as one runtime job (or find the earlier attempt's) without waiting for it; a sweep's chunk
        goes to a Dask worker when a cluster runs this job's local simulation."""
        handle = self.read_back(job)
        submitted = clock()
        stream = stream_of(job)
        if handle is None:
            if self._on_cluster(job):
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
        if self.session_record.get("session_id") is None and getattr(self.session, "session_id", None):
            # The service may name the session only once its first job is in; record it as soon as it exists.
            self.session_record["session_id"] = self.session.session_id
            self.sink.session_started(dict(self.session_record))

    def _on_cluster(self, job: JobPlan) -> bool:
        """Whether a job's chunks go to the Dask cluster: a sweep whose primitive pickles whole (cluster.ENGINES)."""
        return self.cluster is not None and job.points is not None and job.engine in DASK_ENGINES

    def receive(self, job: JobPlan, handle: Any, submitted: float) -> Any:
        """Wait for a sent runtime job's PrimitiveResult; its metrics start the session clock if nothing did yet."""
        result = self.collect(job, handle)
        self.start_clock(handle, submitted)
        self.idle_since = clock()
        return result

    def note_idle_gap(self) -> None:
        """Before a submission to a service session: if it sat idle past its interactive timeout since the last
        result, the service deactivated it and this job queues as any job would; say so in the job's warnings."""
        if self.idle_since is None or self.plan.mode != "session" or self.plan.backend_kind != "service":
            return
        gap = clock() - self.idle_since
        if gap > self.interactive_ttl:
            warnings.warn(
                f"the session sat idle {durations.format(gap)} before this job, past its interactive timeout "
                f"({durations.format(self.interactive_ttl)}): the service deactivated it, so the job waited in the "
                "queue as any job does, while the session's max_time kept counting",
                UserWarning,
                stacklevel=2,
            )

    def collect(self, job: JobPlan, handle: Any) -> Any:
        self.sink.waiting()
        try:
            result = handle.result()
        except KeyboardInterrupt:
            _cancel(handle)  # stop what is queued; the session closes on the way out
            raise
        except Exception as e:
            raise ServiceJobError(self.plan.backend_name, job_id(handle), e) from e
        finally:
            if hasattr(handle, "metrics"):
                self.handles.append((job, handle))
        self.last_result = time.perf_counter()
        return result

    def sweep(self, job: JobPlan, session: Any) -> SweepOutcome:
        """Chunk by chunk, in order: one runtime job per group of a chunk's points that share shots/precision, each
        ONE broadcast PUB. Each chunk's results go to the sink as it ends, so memory holds one chunk, or the few a
        Dask cluster has in flight."""
        assert job.points is not None
        fixed = dict(zip(job.parameter_names, job.parameter_values[0])) if job.parameter_values is not None else {}
        # The plan's groups, with the unswept parameters' columns set to their (now known) values.
        unswept = [
            (k, fixed[p]) for k, p in enumerate(job.parameter_names) if p in fixed and p not in job.sweep_variables
        ]
        estimator = job.primitive == "estimator"
        ops = dict(job.observables)
        keep = len(job.points) <= sweeps.INLINE_POINTS  # a short sweep's results also go into its JSON file
        outcome = SweepOutcome([], 0, [])
        in_flight: deque[tuple[int, list[dict[str, Any]], list[sweeps.Group], list[tuple[Any, float]]]] = deque()
        # Chunks sent before the oldest is collected: a Dask cluster's share; locally one, so the simulator (in its
        # own thread) runs the next chunk while this thread stores the last; on the service none (one at a time).
        if self._on_cluster(job):
            ahead = self.cluster.in_flight
        else:
            ahead = 0 if self.plan.backend_kind == "service" else 1

        def finish() -> None:
            start, points, groups, sent = in_flight.popleft()
            results: list[Any] = []
            try:
                for handle, submitted in sent:
                    results.append(self.receive(job, handle, submitted))
            except Exception:
                # the sweep has failed: what is still queued of it would run, and be paid for, for nothing
                siblings = [h for h, _ in sent[len(results) + 1 :]] + [h for *_, more in in_flight for h, _ in more]
                self._cancel_siblings(job, siblings)
                raise
            outcome.add(groups, results if keep else [])
            self.sink.sweep_chunk(job, start, points, groups, results)

        for start, points, groups in sweep_chunks(job):
            sent = []
            for g in groups:
                rows = np.asarray(g.rows, dtype=float).reshape(len(g.rows), len(job.parameter_names))
                for k, value in unswept:
                    rows[:, k] = value
                if estimator:
                    pub = sweep_estimator_pub(job.circuit, [ops[o] for o in g.observables], rows, g)
                    make = partial(self.engines.estimator, job, session, self.next_seed(job))
                    sent.append(self.send(job, make, pub, precision=g.setting["precision"]))
                else:
                    pub = (job.circuit, rows) if job.parameter_names else (job.circuit,)
                    make = partial(self.engines.sampler, job, session, self.next_seed(job))
                    sent.append(self.send(job, make, pub, shots=g.setting["shots"]))
            in_flight.append((start, points, groups, sent))
            while len(in_flight) > ahead:
                finish()
        while in_flight:
            finish()
        return outcome

    def _cancel_siblings(self, job: JobPlan, handles: list[Any]) -> None:
        """Cancel a failed sweep's runtime jobs still queued or running, keep them for the usage record (what ran
        before the cancel is billed), and say which were cancelled."""
        ids = []
        for handle in handles:
            _cancel(handle)
            if hasattr(handle, "metrics"):
                self.handles.append((job, handle))
            ids.append(job_id(handle))
        if ids:  # a warning of the job's, recorded with it as library warnings are (run's catch_warnings)
            warnings.warn(
                f"cancelled {len(ids)} queued runtime job(s) of this sweep after it failed: {', '.join(ids)}",
                UserWarning,
                stacklevel=2,
            )

    def evaluate(self, job: JobPlan, session: Any, x: np.ndarray) -> tuple[float, float, Any]:
        """One estimator job at parameters x: (value, standard error, PrimitiveResult)."""
        ((_, op),) = job.observables
        # One primitive per minimize job, re-seeded for each evaluation, rather than one built per evaluation.
        cached = self._evaluators.get(job.name)
        if cached is None:
            cached = self._evaluators[job.name] = self.engines.estimator(job, session, self.next_seed(job))
        else:
            self.engines.reseed(cached, job, self.next_seed(job))
        result = self.submit(job, lambda: cached, (job.circuit, op, x), precision=job.precision)
        data = result[0].data
        return float(np.asarray(data.evs)), float(np.asarray(data.stds)), result

    def minimize(self, job: JobPlan, session: Any) -> MinimizeOutcome:
        """scipy.optimize.minimize where every evaluation is an estimator job in this session."""
        from scipy.optimize import minimize

        trace: list[dict[str, Any]] = []
        best: dict[str, Any] = {}

        def objective(x: np.ndarray) -> float:
            # Keep one evaluation in hand for the final, unbiased estimate at the optimum.
            if len(trace) >= job.max_evaluations - 1:
                raise _Stop("evaluations", f"stopped at {len(trace)} evaluations, the most the budget allows")
            typical = float(np.mean([t["seconds"] for t in trace])) if trace else 0.0
            if clock() + typical > self.deadline:
                raise _Stop(
                    "deadline", f"stopped before evaluation {len(trace) + 1}: it would pass the session deadline"
                )
            t0 = clock()
            value, stderr, result = self.evaluate(job, session, x)
            entry = {
                "evaluation": len(trace) + 1,
                "parameters": [float(v) for v in x],
                "value": value,
                "stderr": stderr,
                "seconds": round(clock() - t0, 4),
            }
            trace.append(entry)
            if not best or value < best["entry"]["value"]:
                best.update(entry=entry, result=result)
            self.sink.job_progress(job, trace)
            return value

        opt = job.optimizer
        options = {"maxiter": opt["maxiter"], **(opt.get("options") or {})}
        stopped = None
        try:
            res = minimize(
                objective,
                job.initial_point,
                method=opt["method"],
                jac=opt.get("jac"),
                tol=opt.get("tol"),
                options=options,
            )
            x, message, success = np.asarray(res.x, dtype=float), str(res.message), bool(res.success)
        except _Stop as stop:
            if not best:
                raise RunError(f"{stop}; no evaluation finished") from None
            x, message, success = np.asarray(best["entry"]["parameters"]), str(stop), False
            stopped = STOPPED_DEADLINE if stop.reason == "deadline" else None
        if stopped is None and clock() + (trace[-1]["seconds"] if trace else 0.0) <= self.deadline:
            # scipy's res.fun is the lowest of noisy values, biased low; estimate again at the optimum instead.
            value, stderr, result = self.evaluate(job, session, x)
            final = True
        else:
            value, stderr, result = best["entry"]["value"], best["entry"]["stderr"], best["result"]
            final = False
        optimum = {"parameters": [float(v) for v in x], "value": value, "stderr": stderr, "final_evaluation": final}
        return MinimizeOutcome(trace, optimum, len(trace) + final, message, success, stopped, result)

    def next_seed(self, job: JobPlan) -> int | None:
        """The seed of this job's next submission: drawn from (run seed, job name, submission index), so no two
        runs, jobs or evaluations share a stream, and a resumed job repeats its uninterrupted run exactly."""
        if self.plan.seed is None:
            return None
        # a multirun's points are runs of their own: each draws its own streams (point 0 as a single run would)
        stream = stream_of(job)
        return submission_seed(self.plan.seed, stream, self.job_submissions.get(stream, 0))


def stream_of(job: JobPlan) -> str:
    """The name a job's seeds are drawn under: a multirun's points are runs of their own (point 0 as a single run)."""
    return job.name if not job.run_key else f"{job.run_key}/{job.name}"


JOB_TAG = "qrun-job:"  # + the job's stream, "#", and which of its submissions: what resume adopts by
PUBS_TAG = "qrun-pubs:"  # + how many jobs a PUB-batched runtime job holds, from the tagged one on


def submission_tags(stream: str, k: int, pubs: int = 1) -> list[str]:
    """The tags naming one submission on the service: the k-th runtime job of a job's stream (and, for a PUB-batched
    runtime job, how many consecutive jobs it carries). A resume finds a job the service accepted before its id
    reached the journal by these, and reads it back instead of paying for it again."""
    return [f"{JOB_TAG}{stream}#{k}"] + ([f"{PUBS_TAG}{pubs}"] if pubs > 1 else [])


def submission_seed(run_seed: int, job_name: str, k: int) -> int:
    """numpy's SeedSequence over (run seed, a hash of the job name, k): independent streams for every run, job and
    submission. (seed + k would give run s's job k the noise of run s+1's job k-1.)"""
    name = int.from_bytes(hashlib.sha256(job_name.encode("utf-8")).digest()[:8], "little")
    sequence = np.random.SeedSequence(entropy=run_seed, spawn_key=(name, k))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def _merged_estimator_pubs(jobs: list[JobPlan]) -> tuple[list[tuple], list[tuple[int, slice | None]]]:
    """Exact-value PUBs for `jobs` (precision 0): one per run of consecutive jobs with the same observables, their
    parameter rows stacked; and for each job, its PUB and its columns in that PUB's values (None: all of them)."""
    pubs: list[tuple] = []
    parts: list[tuple[int, slice | None]] = []
    for _, run in itertools.groupby(
        jobs, key=lambda j: (tuple(id(op) for _, op in j.observables), j.parameter_values is None)
    ):
        group = list(run)
        head = group[0]
        if head.parameter_values is None:  # no parameters: one evaluation serves every job of the run
            pubs.append((*_padded(estimator_pub(head)), 0.0))
            parts.extend((len(pubs) - 1, None) for _ in group)
            continue
        rows = [np.atleast_2d(np.asarray(j.parameter_values)) for j in group]
        ops = [op for _, op in head.observables]
        pubs.append((head.circuit, observables_array(ops, column=True), np.vstack(rows), 0.0))
        start = 0
        for r in rows:
            parts.append((len(pubs) - 1, slice(start, start + len(r))))
            start += len(r)
    return pubs, parts


def _with_shot_noise(result: Any, part: tuple[int, slice | None], precision: float | None, seed: int | None) -> Any:
    """A job's share of an exact estimator result (its PUB; its own parameter rows of a merged one), with Aer's
    emulated shot noise, N(value, precision), drawn from the job's `seed`: what the job alone would have got."""
    from qiskit.primitives import PubResult
    from qiskit.primitives.containers import DataBin

    index, columns = part
    pub = result[index]
    evs = np.asarray(pub.data.evs, dtype=float)
    if columns is not None:
        evs = evs[:, columns]
    precision = float(precision or 0.0)
    if precision > 0:
        evs = np.random.default_rng(seed).normal(evs, precision, evs.shape)
    data = DataBin(evs=evs, stds=np.full(evs.shape, precision), shape=evs.shape)
    return PubResult(data, metadata={**dict(pub.metadata), "target_precision": precision})


def _padded(pub: tuple, length: int = 3) -> tuple:
    """A PUB with its parameter slot filled (None when the circuit has none), so a precision or shots can follow."""
    return pub + (None,) * (length - len(pub))


def _quietly(call: Any) -> None:
    try:
        call()
    except Exception:  # closing is best effort: the service closes a session at max_time in any case
        pass


def _metrics(handle: Any) -> dict[str, Any]:
    if not hasattr(handle, "metrics"):
        return {}
    try:
        return handle.metrics() or {}
    except Exception:
        return {}


def _cancel(handle: Any) -> None:
    try:
        handle.cancel()
    except Exception:  # a local job may have finished, or not support cancel(); either way nothing is queued
        pass


def _distinct(caught: list[warnings.WarningMessage]) -> list[str]:
    """Each distinct warning once, with how often it came: "UserWarning: ... (x21)"."""
    counts: dict[str, int] = {}
    for w in caught:
        if issubclass(w.category, DeprecationWarning):
            continue  # about library internals, not about this experiment
        key = f"{w.category.__name__}: {' '.join(str(w.message).split())}"
        counts[key] = counts.get(key, 0) + 1
    return [f"{text} (x{n})" if n > 1 else text for text, n in counts.items()]


class LocalSession:
    """An aer run's session. Aer's own primitives run in-process and use none, and the runtime's local-mode Session
    would hold nothing (its session_id, details() and status() are None there) while importing the runtime for
    it costs about half a second of every local run."""

    session_id = None

    def close(self) -> None:
        """Nothing to close: no service holds this session."""


def _open_session(plan: Plan, mode: str) -> Any:
    """A session (or batch) for a block of jobs: the runtime's own on a device or the service, qrun's on aer."""
    if plan.backend_kind == "aer":
        return LocalSession()
    from qiskit_ibm_runtime import Batch, Session

    return (Batch if mode == "batch" else Session)(backend=plan.backend, max_time=plan.max_time)


class OnePub:
    """One job's share of a PUB-batched runtime job, read back on resume: its own PUB's result, as though it had
    run alone. The batch's result is downloaded once for all its jobs (`results`, by runtime job id). Its usage
    and metrics go with the job of PUB 0 only, as when the batch ran, so the batch is not counted once per job."""

    def __init__(self, handle: Any, index: int, results: dict[str, Any]):
        self.handle, self.index, self.results = handle, index, results
        if index == 0:
            self.metrics, self.usage = handle.metrics, handle.usage

    def job_id(self) -> str:
        return str(self.handle.job_id())

    def status(self) -> Any:
        return self.handle.status()

    def cancel(self) -> None:
        self.handle.cancel()

    def result(self) -> Any:
        from qiskit.primitives import PrimitiveResult

        key = self.job_id()
        if key not in self.results:
            self.results[key] = self.handle.result()
        whole = self.results[key]
        return PrimitiveResult([whole[self.index]], metadata=whole.metadata)
