"""Drift transitions become alerts with deterministic ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from detectors.camera_health import HEALTH_DETECTOR
from detectors.drift import DriftEvent
from detectors.drift.fleet import VOTE
from schemas import Alert

_NAMESPACE = uuid.UUID("0d7c6b1e-2f4a-4c1b-9e55-666c65657473")  # framegate alerts


def alert_id(camera_id: str | None, event: DriftEvent) -> str:
    """Same change, same id: firing and resolved share it (``DriftEvent.alert_key`` names the
    frame that fired), and a redelivery repeats it."""
    return str(uuid.uuid5(_NAMESPACE, f"{camera_id or '*'}|{event.alert_key}"))


def to_alert(camera_id: str | None, event: DriftEvent) -> Alert:
    """The alert for one transition."""
    before, after = event.before, event.after
    where = f"camera {camera_id}" if camera_id else f"{len(event.camera_ids)} cameras"
    health = event.detector == HEALTH_DETECTOR
    if health:
        detail = (
            f"{where}: {event.metric.replace('_', ' ')}"
            if event.status == "firing"
            else f"{where}: {event.metric.replace('_', ' ')} cleared"
        )
    elif event.detector == VOTE:
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
        kind="camera_health" if health else "drift",
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
