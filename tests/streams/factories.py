"""Factories for the messages framegate publishes (reports, requests, alerts) and the fleet
view they fill, shared by the tests of the web view, the CLI and the metrics."""

from __future__ import annotations

import base64
from datetime import timedelta

from framegate.schemas import Alert, FrameImage, Issue, QualityReport, RelabelRequest
from framegate.streams.web.fleetview import FleetView
from tests.factories import T0

DARK = Issue(check="dark", score=0.9, threshold=0.5, severity="critical", detail="too dark")


def report(
    camera: str,
    index: int,
    *,
    processed: float = 0.0,
    brightness: float = 0.5,
    issues: tuple[Issue, ...] = (),
) -> QualityReport:
    return QualityReport(
        frame_id=f"{camera}:{index}",
        camera_id=camera,
        captured_at=T0 + timedelta(seconds=index / 5),
        processed_at=T0 + timedelta(seconds=processed),
        width=640,
        height=480,
        metrics={"brightness": brightness, "sharpness": 100.0 + index},
        issues=list(issues),
    )


def request(camera: str, index: int, data: bytes | None = None) -> RelabelRequest:
    image = (
        FrameImage(data=base64.b64encode(data).decode())
        if data is not None
        else FrameImage(uri=f"file:///frames/{index}.jpg")
    )
    return RelabelRequest(
        request_id=f"r{camera}{index}",
        frame_id=f"{camera}:{index}",
        camera_id=camera,
        captured_at=T0,
        image=image,
        reasons=[DARK],
        priority=0.7,
    )


def alert(alert_id: str, status: str = "firing", camera: str | None = "cam-1") -> Alert:
    return Alert(
        alert_id=alert_id,
        kind="drift",
        status=status,
        camera_id=camera,
        metric="brightness",
        detector="page_hinkley",
        at=T0 + timedelta(seconds=1),
    )


def view_at(seconds: float, **kwargs) -> FleetView:
    return FleetView(clock=lambda: (T0 + timedelta(seconds=seconds)).timestamp(), **kwargs)
