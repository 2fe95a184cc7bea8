"""The IBM Quantum service boundary for the execute stage: account, backend choice, pre-flight checks, lookups by id."""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING

from ..errors import PreflightError, ServiceError
from ..model import durations
from ..model.experiment import Service
from ..model.findings import close_matches
from ..model.readings import number
from ..model.records import InstanceUsage, Usage

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from qiskit.providers import BackendV2
    from qiskit_ibm_runtime import QiskitRuntimeService
    from qiskit_ibm_runtime.runtime_job_v2 import RuntimeJobV2

TOKEN_ENV = "QISKIT_IBM_TOKEN"
_SECRETS: set[str] = set()


def redact(text: object) -> str:
    """`text` with every token qrun has seen replaced, so no token reaches a log, a file or an error message."""
    out = str(text)
    for secret in _SECRETS:
        if secret:
            out = out.replace(secret, "***")
    return out


def sentence(error: object) -> str:
    """A runtime error as one redacted clause for qrun's one-line messages: its own newlines, the quotes a KeyError
    adds and its final period go, so "...: 'No such thing.'. Do this" reads "...: No such thing. Do this"."""
    text = " ".join(str(error).split())
    for _ in range(3):  # "'Failed: \"reason\"'" -> "Failed: reason": the runtime quotes errors it wraps
        text = re.sub(r"(^|: )(['\"])(.*)\2$", r"\1\3", text)
    return redact(text.rstrip("."))


def connect(config: Service) -> QiskitRuntimeService:
    """A QiskitRuntimeService from the spec's `service:` block: a saved account by name, or QISKIT_IBM_TOKEN."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    kwargs: dict[str, object] = {}
    if config.channel:
        kwargs["channel"] = config.channel
    if config.instance:
        kwargs["instance"] = config.instance
    token = os.environ.get(TOKEN_ENV)
    _learn_saved_tokens()  # before the service is built: an error while building it may echo one
    if token:
        _SECRETS.add(token)
    if config.account:
        kwargs["name"] = config.account
    elif token:
        _SECRETS.add(token)
        kwargs["token"] = token
    try:
        service = QiskitRuntimeService(**kwargs)
    except Exception as e:  # the runtime raises many types here, all meaning "no usable account"
        raise ServiceError(
            f"cannot connect to IBM Quantum: {sentence(e)}. Save an account with "
            f"QiskitRuntimeService.save_account(...) (and name it in service.account), or set {TOKEN_ENV}"
        ) from None
    account_token = getattr(getattr(service, "_account", None), "token", None)
    if account_token:
        _SECRETS.add(account_token)
    return service


def _learn_saved_tokens() -> None:
    """Every token in the runtime's saved accounts (read by its own AccountManager), to be redacted wherever it
    might appear; a missing or unreadable account file holds none."""
    try:
        from qiskit_ibm_runtime.accounts import AccountManager

        accounts = AccountManager.list()
    except Exception:  # the runtime raises its own types for a damaged file: then it has no token to leak
        return
    _SECRETS.update(a.token for a in accounts.values() if isinstance(getattr(a, "token", None), str) and a.token)


def choose_backend(
    service: QiskitRuntimeService, name: str, min_qubits: int, constructs: set[str] | None = None
) -> BackendV2:
    """service.backend(name), or for least_busy an operational device with at least `min_qubits` qubits that runs
    the control-flow `constructs` the circuits use (if_else, ...), as its configuration lists them."""
    try:
        if name == "least_busy":
            wanted = set(constructs or ())
            return service.least_busy(
                min_num_qubits=min_qubits,
                operational=True,
                simulator=False,
                filters=lambda b: wanted <= set(getattr(b.configuration(), "supported_instructions", None) or ()),
            )
        return service.backend(name)
    except Exception as e:
        raise PreflightError(
            f"backend {name!r}: {redact(e)}{'' if name == 'least_busy' else _devices(service, name)}"
        ) from None


def _devices(service: QiskitRuntimeService, name: str) -> str:
    """The devices the instance has, to pick from in place of one it does not: the service is the list's source."""
    try:
        names = sorted(b.name for b in service.backends(simulator=False))
    except Exception:  # the listing failed too: the service's own message stands alone
        return ""
    if not names:
        return "; this instance has no devices"
    # matched without the prefix every IBM device shares, which would make any ibm_ name look close to every one
    bare = {n.removeprefix("ibm_"): n for n in names}
    close = close_matches(name.removeprefix("ibm_"), list(bare))
    return f"; this instance's devices: {', '.join(names)}" + (f"; did you mean {bare[close[0]]}?" if close else "")


def is_open_plan(plan: object) -> bool:
    """True for the Open Plan under any spelling the service uses ("open", "Open", "open-plan", "Open Plan")."""
    return str(plan or "").strip().lower().replace("_", "-").replace(" ", "-").split("-")[0] == "open"


def plan_of(service: QiskitRuntimeService) -> str | None:
    """The plan ("open", "premium", ...) of the active instance; with no active instance, "open" only when every
    instance the account has is on the Open Plan (the service would pick one of them)."""
    try:
        active = service.active_instance()
        instances = list(service.instances())
    except Exception:  # not every channel lists instances; then the service decides when the session opens
        return None
    for instance in instances:
        if active and active in (instance.get("crn"), instance.get("name")):
            return str(instance.get("plan") or "").lower() or None
    plans = {str(i.get("plan") or "").lower() for i in instances}
    if plans and all(is_open_plan(p) for p in plans):
        return "open"
    return None


def check_backend(backend: BackendV2, widest: int, constructs: Mapping[str, set[str]] | None = None) -> None:
    """Before planning: the device is up, wide enough, and runs the control flow each circuit uses (`constructs`, by
    circuit name); transpiling for it would fail otherwise."""
    name = getattr(backend, "name", str(backend))
    status = backend.status()
    if not getattr(status, "operational", True):
        raise PreflightError(
            f"backend {name} is not operational ({getattr(status, 'status_msg', 'no reason given')}); "
            "try again later or choose another backend"
        )
    if widest > backend.num_qubits:
        raise PreflightError(f"the widest circuit needs {widest} qubits but {name} has {backend.num_qubits}")
    runs = set(backend.target.operation_names) if constructs else set()
    for circuit, used in (constructs or {}).items():
        if used - runs:
            raise PreflightError(
                f"circuit '{circuit}' uses {', '.join(sorted(used - runs))}, which {name} does not run (its "
                "configuration lists the dynamic-circuit instructions it runs); choose a device that runs them"
            )


def on_open_plan(service: QiskitRuntimeService, declared: Service) -> bool:
    """Whether the run's instance is on the Open Plan, which opens no session: as the spec declares it, or as the
    service lists the active instance's plan."""
    return declared.plan == "open" or is_open_plan(plan_of(service))


def instance_usage(service: QiskitRuntimeService, needed: float | None = None) -> InstanceUsage:
    """The instance's allocation as the service reports it now (what is used, its limit, what is left), with what a
    plan `needed` of it."""
    try:
        usage = service.usage() or {}
    except Exception:  # not every channel or account may read it: the service refuses at submission if need be
        usage = {}
    # an instance has a limit or an allocation, as the runtime's usage() reads them; either may be null
    limits = [number(usage.get(key)) for key in ("usage_limit_seconds", "usage_allocation_seconds")]
    return {
        "consumed": number(usage.get("usage_consumed_seconds")),
        "limit": next((seconds for seconds in limits if seconds is not None), None),
        "remaining": number(usage.get("usage_remaining_seconds")),
        "needed": needed,
    }


def preflight(service: QiskitRuntimeService, needed_seconds: float) -> InstanceUsage:
    """After planning, before the session opens: the instance has the time the plan needs. Returns its allocation as
    the service reported it, for the plan to show."""
    known = instance_usage(service, needed_seconds)
    remaining = known["remaining"]
    if remaining is not None and remaining < needed_seconds:
        raise PreflightError(
            f"the instance has {durations.format(remaining)} of usage left but the plan needs about "
            f"{durations.format(needed_seconds)}; lower the work or use another instance"
        )
    return known


def open_plan_refusal(marked: str | None) -> str:
    """What to do when a spec asks an Open Plan instance, which cannot open one, for a session: with mode: session
    (`marked` None), or with a job marked dependent (`marked`, its name), which asks for one in so many words."""
    if marked is None:
        return (
            "an Open Plan instance cannot open sessions; set mode: batch (or leave mode to auto), which the Open Plan "
            "allows"
        )
    return (
        f"an Open Plan instance cannot open sessions, and job '{marked}' is marked dependent (it runs in a session "
        "with the job before it); remove its dependent: true, or use an instance on a paid plan"
    )


USAGE_WAIT = (0.5, 1.0, 2.0, 4.0)  # s between reads while the service still computes a job's usage


def usage_record(handle: RuntimeJobV2, sleep: Callable[[float], object] | None = None) -> Usage:
    """A service job's usage from its metrics: quantum seconds and the QPU time charged, once final.

    The runtime's job.usage() returns 0 while the figure is pending, which would record a paid job as free; so read
    the metrics themselves, waiting briefly for status "final", and otherwise record "pending" honestly.
    """

    metrics: dict[str, object] = {}
    for pause in (*USAGE_WAIT, None):
        try:
            metrics = handle.metrics() or {}
        except Exception as e:
            return {"job_id": job_id(handle), "status": "unknown", "error": redact(e)}
        if _usage(metrics).get("status", "pending") != "pending" or pause is None:
            break
        (sleep or time.sleep)(pause)
    usage = _usage(metrics)
    status = str(usage.get("status", "pending"))
    stamps = metrics.get("timestamps")
    return {
        "job_id": job_id(handle),
        "status": status,
        "quantum_seconds": number(usage.get("quantum_seconds", usage.get("seconds"))),
        "qpu_charge_time_seconds": number(usage.get("qpu_charge_time_seconds")) if status != "pending" else None,
        # what the service estimated at submission, kept beside what it charged so estimates can be calibrated
        "estimated_quantum_seconds": estimated_seconds(handle),
        "timestamps": {str(k): str(v) for k, v in stamps.items()} if isinstance(stamps, dict) else None,
    }


def _usage(metrics: dict[str, object]) -> dict[str, object]:
    """The `usage` part of a job's metrics, as the service's JSON gives it; {} where it has none."""
    usage = metrics.get("usage")
    return usage if isinstance(usage, dict) else {}


def estimated_seconds(handle: RuntimeJobV2) -> float | None:
    """The service's usage estimate of a runtime job (RuntimeJobV2.usage_estimation), or None where it has none."""
    try:
        seconds = (getattr(handle, "usage_estimation", None) or {}).get("quantum_seconds")
    except Exception:  # a courtesy figure: never fail a record over it
        return None
    return float(seconds) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else None


def job_id(handle: RuntimeJobV2) -> str:
    """A runtime job's id, or "?" when the handle cannot say (never an exception while reporting one)."""
    try:
        return str(handle.job_id())
    except Exception:
        return "?"


def session_details(service: QiskitRuntimeService, session_id: str, batch: bool) -> dict[str, object] | None:
    """The service's record of a session, via Session.from_id (Batch.from_id for batches)."""
    from qiskit_ibm_runtime import Batch, Session

    try:
        return (Batch if batch else Session).from_id(session_id, service).details()
    except Exception as e:
        return {"error": redact(e)}


def close_session(service: QiskitRuntimeService, session_id: str, batch: bool) -> None:
    """Close a session (or batch) an earlier attempt left open: it accepts no new jobs, and those it holds still
    run. Best effort: one the service has closed already, or no longer knows, is left alone."""
    from qiskit_ibm_runtime import Batch, Session

    try:
        (Batch if batch else Session).from_id(session_id, service).close()
    except Exception:  # already closed, expired, or unknown: nothing left to close
        pass


def job_status(service: QiskitRuntimeService, job_id: str) -> str:
    try:
        status = service.job(job_id).status()
    except Exception as e:
        return f"unknown ({redact(e)})"
    return str(getattr(status, "name", status))
