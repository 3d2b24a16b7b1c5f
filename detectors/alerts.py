"""Drift and camera-health transitions become alerts with deterministic ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from framegate.detectors.drift import DriftEvent
from framegate.detectors.drift.fleet import VOTE
from framegate.detectors.health import HEALTH_DETECTOR, HealthEvent
from framegate.schemas import Alert

_NAMESPACE = uuid.UUID("0d7c6b1e-2f4a-4c1b-9e55-666c65657473")  # framegate alerts


def alert_id(camera_id: str | None, event: DriftEvent | HealthEvent) -> str:
    """Same change, same id: firing and resolved share it (the event's ``alert_key`` names
    the frame that fired), and a redelivery repeats it."""
    return str(uuid.uuid5(_NAMESPACE, f"{camera_id or '*'}|{event.alert_key}"))


def to_alert(camera_id: str | None, event: DriftEvent | HealthEvent) -> Alert:
    """The alert for one transition: ``camera_health`` for a :class:`HealthEvent`, ``drift``
    for a :class:`DriftEvent` (``camera_id`` None: the fleet's)."""
    if isinstance(event, HealthEvent):
        return _health_alert(camera_id, event)
    return _drift_alert(camera_id, event)


def _health_alert(camera_id: str | None, event: HealthEvent) -> Alert:
    firing = event.status == "firing"
    name = event.check.value
    where = f"camera {camera_id}" if camera_id else "0 cameras"  # health is per camera
    what = f"{where}: {name.replace('_', ' ')}"
    return Alert(
        alert_id=alert_id(camera_id, event),
        kind="camera_health",
        status=event.status,
        camera_id=camera_id,
        metric=name,
        detector=HEALTH_DETECTOR,
        at=datetime.fromtimestamp(event.at, tz=UTC),
        frame_id=event.frame_id,
        # the frame that opened the episode is its change point and its example
        change_point=event.frame_id if firing else None,
        before={},
        after={"score": event.score} if firing and event.score is not None else {},
        example_frame_ids=[event.frame_id] if firing else [],
        severity=event.severity,
        detail=what if firing else f"{what} cleared",
    )


def _drift_alert(camera_id: str | None, event: DriftEvent) -> Alert:
    before, after = event.before, event.after
    where = f"camera {camera_id}" if camera_id else f"{len(event.camera_ids)} cameras"
    if event.detector == VOTE:
        drifting, active = (
            int(after.get("cameras_drifting", 0)),
            int(before.get("cameras_active", 0)),
        )
        detail = (
            f"{event.metric} drifting {event.direction} on {drifting} of {active} cameras together"
            if event.status == "firing"
            else f"{event.metric}: fewer cameras drifting together ({drifting} of {active})"
        )
    else:
        shift = (after.get("mean", 0.0) - before.get("mean", 0.0)) / (before.get("std") or 1.0)
        verb = "changed" if event.status == "firing" else "is back at its reference"
        detail = f"{event.metric} on {where} {verb} ({event.direction}, {shift:+.2f} sd)"
    return Alert(
        alert_id=alert_id(camera_id, event),
        kind="drift",
        status=event.status,
        camera_id=camera_id,
        metric=event.metric,
        detector=event.detector,
        at=datetime.fromtimestamp(event.at, tz=UTC),
        frame_id=event.frame_id,
        change_point=event.change_point,
        before=before,
        after=after,
        example_frame_ids=list(event.example_frame_ids),
        severity=event.severity,
        detail=detail
        + (f"; cameras: {', '.join(event.camera_ids[:8])}" if event.camera_ids else ""),
    )
