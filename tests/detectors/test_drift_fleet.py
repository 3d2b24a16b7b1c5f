"""Fleet-wide drift: the pooled chart and the camera vote."""

from __future__ import annotations

import json

import numpy as np
import pytest

from framegate.detectors.drift import (
    CameraDriftMonitor,
    DriftConfig,
    DriftEvent,
    FleetDriftConfig,
    FleetDriftMonitor,
    calibrate,
)


def _fleet_run(shift_cams: int, n_cams: int, shift: float, seed: int, frames: int = 4000):
    rng = np.random.default_rng(seed)
    cfg = DriftConfig(frame_rate=2.0)
    cams = {
        f"cam{c}": CameraDriftMonitor(
            cfg, calibrate({"b": rng.normal(size=5000)}, cfg, replay=False)
        )
        for c in range(n_cams)
    }
    fleet = FleetDriftMonitor(FleetDriftConfig(period_s=50.0, min_cameras=3, min_fraction=0.3))
    cam_events, fleet_events = [], []
    for t in range(frames):
        at = t * 0.5
        for c, (cid, mon) in enumerate(cams.items()):
            v = rng.normal() + (shift if (t >= 1000 and c < shift_cams) else 0.0)
            ev = mon.update({"b": v}, frame_id=f"{cid}-{t}", at=at)
            cam_events += ev
            if ev or t % 20 == 19:
                fleet_events += fleet.update(cid, at=at, zscores=mon.drain_z(), events=ev)
    return cam_events, fleet_events, fleet


def test_fleet_vote_fires_once_when_many_cameras_drift_together() -> None:
    cam_events, fleet_events, _ = _fleet_run(shift_cams=5, n_cams=10, shift=-2.0, seed=7)
    assert sum(e.status == "firing" for e in cam_events) == 5
    votes = [e for e in fleet_events if e.detector == "camera_vote"]
    assert [e.status for e in votes] == ["firing"]
    assert votes[0].direction == "down" and len(votes[0].camera_ids) >= 3


@pytest.mark.parametrize("shift", [-2.0, -0.4], ids=["far-off", "slightly-off"])
def test_one_broken_camera_is_not_a_fleet_change(shift: float) -> None:
    cam_events, fleet_events, _ = _fleet_run(shift_cams=1, n_cams=10, shift=shift, seed=8)
    assert sum(e.status == "firing" for e in cam_events) == 1
    assert fleet_events == []  # neither the vote nor the pooled chart: a median ignores it


def test_a_camera_firing_on_its_own_is_left_out_of_the_pooled_chart() -> None:
    # in a fleet of four, one camera far off for hours moves the median of four a lot
    cam_events, fleet_events, _ = _fleet_run(
        shift_cams=1, n_cams=4, shift=3.0, seed=16, frames=12_000
    )
    assert [e.status for e in cam_events] == ["firing"]
    assert fleet_events == []


def test_a_fleet_of_one_camera_never_raises_a_fleet_alert() -> None:
    cam_events, fleet_events, _ = _fleet_run(shift_cams=1, n_cams=1, shift=-2.0, seed=8)
    assert [e.status for e in cam_events] == ["firing"]
    assert fleet_events == []


def test_pooled_fleet_chart_sees_a_shift_too_small_for_each_camera() -> None:
    cam_events, fleet_events, fleet = _fleet_run(
        shift_cams=12, n_cams=12, shift=0.25, seed=9, frames=3000
    )
    pooled = [e for e in fleet_events if e.detector == "page_hinkley"]
    assert [e.status for e in pooled] == ["firing"] and pooled[0].direction == "up"
    assert pooled[0].at >= 500.0  # not before the shift (frame 1000 at 2 fps)
    first_camera = min(e.at for e in cam_events if e.status == "firing")
    assert pooled[0].at < first_camera  # the fleet sees it before any single camera does
    again = FleetDriftMonitor.from_state(json.loads(json.dumps(fleet.state())), fleet.config)
    assert json.dumps(again.state()) == json.dumps(fleet.state())


def _health(check, status: str, frame_id: str, at: float, fired: str):
    from framegate.detectors.health import HealthEvent

    return HealthEvent(check, status, frame_id, at, "critical", fired_frame_id=fired, score=0.9)


def test_many_cameras_frozen_together_is_a_fleet_vote() -> None:
    from framegate.schemas import Check

    fleet = FleetDriftMonitor(FleetDriftConfig(min_cameras=3, min_fraction=0.3))
    for c in range(6):  # six cameras report; three of them freeze, one after another
        fleet.update(f"cam{c}", at=10.0, zscores={"b": (0.1, 1)})
    found = []
    for c in range(3):
        firing = _health(Check.FROZEN, "firing", f"cam{c}-20", 20.0 + c, f"cam{c}-20")
        found += fleet.update(f"cam{c}", at=20.0 + c, health=[firing])
    for c in range(3):
        resolved = _health(Check.FROZEN, "resolved", f"cam{c}-40", 40.0 + c, f"cam{c}-20")
        found += fleet.update(f"cam{c}", at=40.0 + c, health=[resolved])
    assert [(e.metric, e.detector, e.status) for e in found] == [
        ("frozen", "camera_vote", "firing"),
        ("frozen", "camera_vote", "resolved"),
    ]
    assert found[0].camera_ids == ("cam0", "cam1", "cam2") and found[0].change_point == "cam0-20"
    again = FleetDriftMonitor.from_state(json.loads(json.dumps(fleet.state())), fleet.config)
    assert json.dumps(again.state()) == json.dumps(fleet.state())


def test_fleet_state_of_another_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        FleetDriftMonitor.from_state({"version": 3})


def test_drift_event_survives_json_between_the_gate_and_the_fleet_agent() -> None:
    cam_events, fleet_events, _ = _fleet_run(shift_cams=5, n_cams=10, shift=-2.0, seed=7)
    for event in cam_events + fleet_events:
        assert DriftEvent.from_dict(json.loads(json.dumps(event.to_dict()))) == event
