"""Which calibration of the device a job ran under: its properties' last update at the job's run time (the service
is asked for the properties as of when the job ran, not when it was created), or a fake device's own."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..model import durations
from ..model.records import SessionRecord, Usage

if TYPE_CHECKING:
    from qiskit.providers import BackendV2


def of_device(backend: BackendV2) -> str | None:
    """A device's current calibration time (a fake device's is fixed), ISO 8601; None where it has none."""
    try:
        return _stamp(backend.properties())
    except Exception:  # a simulator or a retired backend has no properties: nothing to record
        return None


def at(backend: BackendV2, when: str | None) -> str | None:
    """The calibration in force when a job started running (its metrics' "running" time), from the service."""
    moment = durations.parse_timestamp(when) if when else None
    if moment is None:
        return None
    try:
        return _stamp(backend.properties(datetime=moment))
    except Exception:  # the service could not say; the job's record says nothing rather than something wrong
        return None


def label(records: list[Usage], session: SessionRecord | None) -> list[str]:
    """Every calibration a run's jobs ran under, in order, from their usage records or the run's session."""
    found = [str(stamp) for u in records if (stamp := u.get("calibration"))]
    if not found and session and (stamp := session.get("calibration")):
        found = [str(stamp)]
    return list(dict.fromkeys(found))


def straddle_note(a: list[str], b: list[str], devices: tuple[object, object] = (None, None)) -> str | None:
    """What `qrun diff` says first when two runs ran under different calibrations of the device (`devices`: each
    run's backend; two devices are not one recalibrated)."""
    if not a or not b or set(a) == set(b):
        return None
    if devices[0] != devices[1]:
        return (
            f"devices: A ran on {devices[0]}, B on {devices[1]}, each under its own calibration: a difference below "
            "may be the devices', not the physics'"
        )
    return (
        f"calibration: the device was recalibrated between these runs (A under {', '.join(a)}; B under "
        f"{', '.join(b)}): a difference below may be the device's, not the physics'"
    )


def _stamp(properties: object) -> str | None:
    moment = getattr(properties, "last_update_date", None)
    if isinstance(moment, datetime):
        return moment.isoformat()
    return None if moment is None else str(moment)
