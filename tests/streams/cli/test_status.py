"""`framegate status`: the overview rendered for a terminal."""

from __future__ import annotations

from datetime import timedelta

from framegate.schemas import Alert
from framegate.streams.cli.status import render
from tests.factories import T0
from tests.streams.factories import DARK, report, view_at


def test_status_names_cameras_issues_and_open_alerts():
    view = view_at(60.0)
    for i in range(10):
        view.add_report(report("cam-1", i, processed=55 + i / 2, issues=(DARK,) if i < 2 else ()))
        view.add_report(report("camera-long-name", i, processed=40))
    view.add_alert(
        Alert(
            alert_id="a",
            kind="camera_health",
            camera_id="cam-1",
            metric="frozen",
            detector="check",
            at=T0 + timedelta(seconds=3),
            severity="critical",
            detail="camera cam-1: frozen",
        )
    )
    text = render(view.overview())
    lines = text.splitlines()
    assert lines[0] == "fleet: 2 cameras, 1.0 frames/s (last 10 s), 20 reports read"
    assert "10.0% of frames with issues (last 5 min); 1 open alerts" in lines[1]
    assert "issues by check: dark 10.0%" in text
    header = next(line for line in lines if line.startswith("camera"))
    assert header.split() == [
        "camera",
        "frames/s",
        "frames",
        "issues",
        "top",
        "issues",
        "alerts",
        "last",
        "report",
    ]
    cam1 = next(line for line in lines if line.startswith("cam-1 "))
    assert "dark 20.0%" in cam1 and "0 s ago" in cam1
    assert "[critical] camera_health cam-1 frozen (check)" in text


def test_status_of_an_idle_fleet_says_so():
    view = view_at(10_000.0)
    view.add_report(report("cam-1", 0, processed=0))
    assert "no frames in the last 5 min" in render(view.overview())
