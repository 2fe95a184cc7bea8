"""`qrun status`: a run as the IBM Quantum service reports it now, and the usage it had not reported yet written into
the run. The one place a stored run is read online; the views stay offline."""

from __future__ import annotations

from pathlib import Path

from .. import backends
from ..backends import service as ibm
from ..errors import UsageError
from ..model import durations
from ..model.raw import Yaml
from ..model.records import RunMetadata, Usage
from ..model.rows import HEAD, elided, tally
from ..model.words import counted
from ..spec.build import service_of
from ..store.journal import read_metadata, record_usage
from ..store.runfolder import died_note, status_now
from ..store.specfile import read_spec
from ..views.plans import usage_line
from .lock import RunLock


def status_text(run_dir: Path, all_rows: bool = False) -> str:
    """`qrun status`: the usage the service had not reported written into the run, then the run as it stands."""
    meta = read_metadata(run_dir)  # first: a folder that is no run is named as one
    data = read_spec(run_dir)  # once for both halves: a 10,000-job spec takes half a second to read
    complete_usage(run_dir, meta, data)
    return live_status(run_dir, data, all_rows)  # (reads metadata.json again: complete_usage may have written usage)


def complete_usage(run_dir: Path, meta: RunMetadata, data: Yaml) -> int:
    """`qrun status`: ask the service for the usage of every runtime job of a service run that has none recorded,
    or only a pending one (the run was killed, or the service was still computing it), and write what it says into
    the run. Returns how many records changed; 0 for a local run, or one that another qrun is still running."""

    if not isinstance(data, dict):
        return 0
    if status_now(run_dir, meta) == "running" or not backends.kind_for(str(data.get("backend"))).remote:
        return 0  # a running run records its own usage when its session closes
    try:
        lock = RunLock(run_dir)
    except UsageError:
        return 0
    try:
        service = ibm.connect(service_of(data.get("service") or {}))
        updates: dict[int, list[Usage]] = {}
        changed = 0
        asked: dict[str, Usage] = {}  # each runtime job's usage, asked once: a batch's jobs all record its one
        for entry in meta["jobs"]:
            known = {u.get("job_id"): u for u in entry.get("usage") or [] if isinstance(u, dict)}
            records: list[Usage] = []  # as stored (read back untrusted), or read again now
            for job_id in entry.get("job_ids") or []:
                record: Usage | None = known.get(job_id)
                if record is None or record.get("status") != "final":
                    if job_id not in asked:
                        asked[job_id] = ibm.usage_record(service.job(job_id), sleep=lambda _: None)
                    record = asked[job_id]
                    changed += 1
                records.append(record)
            if records != (entry.get("usage") or []):
                updates[entry["index"]] = records
        if updates:
            record_usage(run_dir, updates)
        return changed
    finally:
        lock.release()


def live_status(run_dir: Path, data: Yaml, all_rows: bool = False) -> str:
    """The run's session and jobs: as the service reports them now (Session.from_id, service.job), or as recorded.
    Each runtime job is asked about once, however many jobs it holds. A run of many jobs lists its first and last,
    as `qrun show` does, then how many jobs are in each state and, on the service, how many runtime jobs (all_rows:
    every job)."""

    meta = read_metadata(run_dir)  # the jobs' states: their files are not read (`qrun show` reads them)
    session = meta.get("session") or {}
    data = data if isinstance(data, dict) else {}
    online = backends.kind_for(str(data.get("backend"))).remote
    status = status_now(run_dir, meta)
    lines = [
        f"run {run_dir}: {status}",
        *([died_note(run_dir, meta)] if status == "died" else []),
        f"session: {session.get('mode', '?')} on {session.get('backend', '?')}, id {session.get('session_id') or '-'}, "
        f"started {session.get('started') or '-'}, deadline {session.get('deadline') or '-'}, "
        f"closed {session.get('closed') or '-'}",
    ]
    service = ibm.connect(service_of(data.get("service") or {})) if online else None
    if service is not None and (session_id := session.get("session_id")):
        details = ibm.session_details(service, session_id, session.get("mode") == "batch")
        lines.append(f"service session: {session_words(details)}")
    if service is not None and (usage := usage_line(ibm.instance_usage(service))) is not None:
        lines.append(usage)  # what the instance has left now, after this run and any other
    states: dict[str, str] = {}  # each runtime job's state, asked once: a PUB-batched runtime job holds many jobs

    def state(job_id: str) -> str:
        assert service is not None
        if job_id not in states:
            states[job_id] = ibm.job_status(service, job_id)
        return states[job_id]

    shown, left_out = elided(meta["jobs"], all_rows)
    for k, entry in enumerate(shown):
        if left_out and k == HEAD:
            lines.append(f"  … {left_out:,} more (--all)")
        ids = entry.get("job_ids") or []
        if service is not None and ids:
            now = ", ".join(f"{i}: {state(i)}" for i in ids[-3:])
            more = f" (+{len(ids) - 3} earlier)" if len(ids) > 3 else ""
            lines.append(f"  [{entry['index']}] {entry['name']}: {entry['status']}; service: {now}{more}")
        else:
            lines.append(
                f"  [{entry['index']}] {entry['name']}: {entry['status']} ({counted(len(ids), 'runtime job')}"
                f"{', local: as recorded' if not online else ''})"
            )
    if left_out:
        lines.append(f"jobs: {len(meta['jobs']):,} ({tally(entry['status'] for entry in meta['jobs'])})")
        if service is not None:  # the jobs not listed have runtime jobs too: the service's word on every one
            every = dict.fromkeys(i for entry in meta["jobs"] for i in (entry.get("job_ids") or [])[-3:])
            lines.append(f"runtime jobs on the service: {len(every):,} ({tally(state(i) for i in every)})")
    return "\n".join(lines)


def session_words(details: dict[str, object] | None) -> str:
    """The service's record of a session (Session.details()) as a line: its state, mode and device, whether it takes
    jobs, when it started and closed, the QPU time it used and its limits; or why it could not be read."""
    if not details:
        return "none on record"
    if set(details) == {"error"}:
        return f"unknown ({details['error']})"

    def limit(key: str) -> str:
        value = details.get(key)
        return durations.format(value) if isinstance(value, int | float) and not isinstance(value, bool) else "-"

    accepting = details.get("accepting_jobs")
    taking = "yes" if accepting is True else "no" if accepting is False else "-"
    used = details.get("usage_time")
    return (
        f"{details.get('state') or '?'}, {details.get('mode') or '?'} on {details.get('backend_name') or '?'}, "
        f"accepting jobs {taking}, started {details.get('started_at') or '-'}, closed {details.get('closed_at') or '-'}"
        f", usage {f'{used:g} s' if isinstance(used, int | float) else '-'}, max_time {limit('max_time')}, "
        f"interactive timeout {limit('interactive_timeout')}"
    )
