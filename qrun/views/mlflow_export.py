"""`qrun export mlflow`: stored runs into an MLflow tracking store through MLflow's own client (the qrun[mlflow]
extra). One MLflow run per qrun run folder, found again by its `qrun.run` tag, so exporting twice updates it."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DerivedError, ExportError, MissingExtraError, UsageError
from ..model.records import seconds_each
from ..store.catalog import discover
from ..store.derived import evaluated, spec_jobs
from ..store.reader import Run, load, state_digest
from ..store.readings import job_readings, stated_exact
from ..store.runfolder import status_now
from ..store.specfile import read_spec
from .listing import first_started, quantum_seconds

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

MAX_PARAM_CHARS = 6000  # MLflow's limit on a param's value; a longer one (an inlined circuit) is cut and marked
MAX_TAG_CHARS = 8000
BATCH_PARAMS = 100  # MLflow's log_batch limits per call
BATCH_METRICS = 1000
# Past this many jobs, their settings stay in the spec.yaml artifact rather than params: a store writes each param as
# a row and checks it against the run's others, so 10,000 jobs' 50,000 params took minutes (RESULTS.md).
MAX_JOBS_AS_PARAMS = 100
_KEY = re.compile(r"[^\w./\- ]")
STATUS = {"completed": "FINISHED", "failed": "FAILED", "interrupted": "KILLED", "died": "KILLED", "running": "RUNNING"}
# A run's MLflow run carries this tag, set last, with what was exported: the run folder's state_digest, where the run
# went and what qrun logs of it. An export that finds it unchanged sends nothing: a store checks every metric logged
# again against the run's others (benchmarks/RESULTS.md), and the artifacts were copied again. A run's status as the
# views show it is part of it: one that died since it was exported is sent again.
EXPORTED = "qrun.exported"
FORMAT = 1  # what _export_one logs of a run; a change to that makes every run's next export a full one


def export(
    targets: list[Path], tracking_uri: str | None = None, experiment: str | None = None, root: Path | None = None
) -> list[tuple[Path, str, bool]]:
    """Log every run found at `targets` (run folders, groups or results roots); (run folder, MLflow run id, whether
    anything was sent) each: a run unchanged since its last export to the same experiment is not sent again.
    `experiment` defaults to each run's spec name; `root` is what the run's `qrun.run` key is relative to."""
    found = [f for t in targets for f in discover(t)]
    if not found:
        raise UsageError("nothing to export: " + ", ".join(map(str, targets)) + " holds no qrun run folders")
    runs = [(f, load(f.path)) for f in found]  # every folder checked before anything is sent
    client = _client(tracking_uri)
    from mlflow.exceptions import MlflowException

    out = []
    for f, run in runs:
        try:
            out.append((f.path, *_export_one(client(), run, f.swept, experiment, _key(f.path, root))))
        except MlflowException as e:
            raise ExportError(f"{f.path}: MLflow refused the export: {' '.join(e.message.split())}") from None
    return out


def _client(tracking_uri: str | None) -> Callable[[], MlflowClient]:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise MissingExtraError("qrun export mlflow needs MLflow: pip install 'qrun[mlflow]'") from None

    # MLflow narrates store creation and migrations at INFO on stderr; qrun prints what it exported
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    made: list[MlflowClient] = []

    def client() -> MlflowClient:  # made on first use, inside the export's error handling (a bad URI fails here)
        if not made:
            made.append(MlflowClient(tracking_uri=tracking_uri))
        return made[0]

    return client


def _key(path: Path, root: Path | None) -> str:
    """The run's identity in MLflow: <spec name>/<run folder> (a point: <name>/<group>/<point>)."""
    resolved = path.resolve()
    if root is not None and resolved.is_relative_to(root.resolve()):
        return resolved.relative_to(root.resolve()).as_posix()
    parts = resolved.parts
    depth = 3 if (resolved.parent / "multirun.json").is_file() else 2
    return "/".join(parts[-depth:]).replace("'", "_")  # the key goes inside quotes in a search filter


def _export_one(
    client: MlflowClient, run: Run, swept: dict[str, object], experiment: str | None, key: str
) -> tuple[str, bool]:
    meta = run.metadata
    name = experiment or str(meta.get("name"))
    found = client.get_experiment_by_name(name)
    experiment_id = found.experiment_id if found is not None else client.create_experiment(name)
    session = meta.get("session") or {}
    start = _millis(session.get("started")) or _millis(first_started(meta))
    existing = client.search_runs([experiment_id], filter_string=f"tags.`qrun.run` = '{key}'", max_results=1)
    swept_text = json.dumps(swept, sort_keys=True, default=str).encode()
    now = status_now(run.path, meta)  # a run no qrun holds has died: it is no longer running, whatever it recorded
    exported = f"{FORMAT}:{state_digest(run.path)}:{now}:{hashlib.sha256(swept_text).hexdigest()[:16]}"
    if existing and existing[0].data.tags.get(EXPORTED) == exported:
        return str(existing[0].info.run_id), False
    if existing:
        run_id = existing[0].info.run_id
    else:
        run_id = client.create_run(
            experiment_id, start_time=start, tags={"qrun.run": key}, run_name=run.path.name
        ).info.run_id
    from mlflow.entities import Metric, Param, RunTag

    spec = read_spec(run.path)
    params = dict(_flatten(_as_params(spec)))
    overrides = (meta.get("spec") or {}).get("overrides") or {}
    params |= {f"override.{k}": v for k, v in overrides.items()} | {f"swept.{k}": v for k, v in swept.items()}
    param_list = [Param(_clean(k), _text(v, MAX_PARAM_CHARS)) for k, v in params.items()]
    for i in range(0, len(param_list), BATCH_PARAMS):
        client.log_batch(run_id, params=param_list[i : i + BATCH_PARAMS])
    stamp = start or 0
    metrics = [Metric(_clean(k), v, stamp, step) for k, v, step in run_metrics(run, spec)]
    for i in range(0, len(metrics), BATCH_METRICS):
        client.log_batch(run_id, metrics=metrics[i : i + BATCH_METRICS])
    tags = [RunTag(k, _text(v, MAX_TAG_CHARS)) for k, v in _tags(run, key, spec, now).items() if v is not None]
    client.log_batch(run_id, tags=tags)
    client.log_artifacts(run_id, str(run.path), artifact_path="run")
    status = STATUS.get(now, "FINISHED")
    if status != "RUNNING":
        client.set_terminated(run_id, status, end_time=_millis(session.get("closed")) or None)
    client.set_tag(run_id, EXPORTED, exported)  # last: an export cut short is sent again
    return str(run_id), True


def run_metrics(run: Run, spec: object) -> Iterator[tuple[str, float, int]]:
    """(key, value, step): each value, σ, exact value and deviation; a sweep's points and a set's index as steps;
    a minimize job's every evaluation as steps of <job>.evaluation; QPU usage."""
    exact = stated_exact(spec)
    entries = run.metadata["jobs"]
    for entry, seconds in zip(entries, seconds_each(entries), strict=True):
        body = run.jobs.get(entry["name"])
        for r in job_readings(run.path, body, exact.get(entry["name"])):
            # "<zz>" -> e.zz, "min <h2>" -> vqe.min.h2, a ladder's "zne <zz>" -> climb.zne.zz, as `qrun list` names them
            base = f"{r.job}.{r.key.replace(' <', '.').strip('<>')}"
            yield f"{base}.value", r.value, r.index
            if r.stderr is not None:
                yield f"{base}.stderr", r.stderr, r.index
            if r.exact is not None:
                yield f"{base}.exact", r.exact, r.index
            if r.deviation is not None:
                yield f"{base}.deviation_sigma", r.deviation, r.index
        if body is not None and isinstance(body.get("trace"), list):  # a loop's evaluations, one step each
            for t in body.get("trace") or []:
                if isinstance(value := t.get("value"), int | float):
                    yield f"{entry['name']}.evaluation", float(value), int(t.get("evaluation", 0))
        if seconds is not None:  # a job's own: its share where it went out with others in one runtime job
            yield f"{entry['name']}.seconds", seconds, 0
    used = quantum_seconds(run.metadata["jobs"])
    if used is not None:
        yield "usage.quantum_seconds", used, 0
    block = spec.get("derived") if isinstance(spec, dict) else None  # the stored spec is untrusted, as of_run reads it
    found_all = evaluated(block, run.jobs, run.path, spec_jobs(spec)) if isinstance(block, dict) else {}
    for name, found in found_all.items():
        if isinstance(found, DerivedError):
            continue  # `qrun show` says why; a metric is a number or nothing
        value, sigma = found[0], found[1]
        yield f"derived.{name}.value", value, 0
        if sigma is not None:
            yield f"derived.{name}.stderr", sigma, 0
        parameters = found[3].get("parameters") if len(found) > 3 else None  # a fit's, each its own metric
        for parameter, each in parameters.items() if isinstance(parameters, dict) else []:
            yield f"derived.{name}.{parameter}.value", each["value"], 0
            if each["stderr"] is not None:
                yield f"derived.{name}.{parameter}.stderr", each["stderr"], 0


def _as_params(spec: object) -> object:
    """The spec as params are made of it: every job's settings, or past MAX_JOBS_AS_PARAMS jobs only their count."""
    count = _too_many_jobs(spec)
    return spec if count is None or not isinstance(spec, dict) else {**spec, "jobs": {"count": count}}


def _too_many_jobs(spec: object) -> int | None:
    """How many jobs the spec has, where they are too many to log as params; None otherwise."""
    jobs = spec.get("jobs") if isinstance(spec, dict) else None
    return len(jobs) if isinstance(jobs, list) and len(jobs) > MAX_JOBS_AS_PARAMS else None


def _tags(run: Run, key: str, spec: object, status: str) -> dict[str, object]:
    meta = run.metadata
    session = meta.get("session") or {}
    git = (meta.get("spec") or {}).get("git") or {}
    ids = [i for e in meta["jobs"] for i in e.get("job_ids") or []]
    versions = meta.get("versions") or {}
    return {
        "qrun.run": key,
        "qrun.status": status,
        "qrun.backend": session.get("backend"),
        "qrun.mode": session.get("mode"),
        "qrun.session_id": session.get("session_id"),
        "qrun.job_ids": " ".join(ids) if len(ids) <= 100 else f"{len(ids)} job ids: see the run folder",
        "qrun.git_commit": git.get("commit"),
        "qrun.git_dirty": git.get("dirty"),
        "qrun.spec_sha256": (meta.get("spec") or {}).get("sha256"),
        **{f"version.{k}": v for k, v in versions.items()},
        "mlflow.source.git.commit": git.get("commit"),
        "qrun.job_params": None
        if (count := _too_many_jobs(spec)) is None
        else f"{count:,} jobs: their settings are in the run/spec.yaml artifact, not params",
    }


def _flatten(value: object, prefix: str = "") -> Iterator[tuple[str, object]]:
    """The spec as dotted keys: jobs.0.precision, options.seed (lists by index)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(v, f"{prefix}{k}.")
    elif isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        for i, v in enumerate(value):
            yield from _flatten(v, f"{prefix}{i}.")
    elif prefix:
        yield prefix[:-1], value


def _clean(key: str) -> str:
    """MLflow keys allow letters, digits, _ - . / and spaces; anything else becomes _."""
    return _KEY.sub("_", key)[:250]


def _text(value: object, limit: int) -> str:

    text = value if isinstance(value, str) else "None" if value is None else json.dumps(value)
    return text if len(text) <= limit else f"{text[: limit - 40]}… ({len(text):,} characters)"


def _millis(stamp: object) -> int | None:
    if not isinstance(stamp, str):
        return None
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None
