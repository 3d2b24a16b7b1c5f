"""Drift transitions as alerts: ids shared by a firing and its resolve, and readable details."""

from __future__ import annotations

import numpy as np

from framegate.detectors.alerts import to_alert
from framegate.detectors.drift import (
    CameraDriftMonitor,
    DriftConfig,
    FleetDriftConfig,
    FleetDriftMonitor,
    calibrate,
)


def test_camera_alert_firing_and_resolve_share_one_id() -> None:
    rng = np.random.default_rng(0)
    cfg = DriftConfig()
    mon = CameraDriftMonitor(cfg, calibrate({"brightness": rng.normal(0, 1, 5000)}, cfg))
    x = rng.normal(0, 1, 3000)
    x[500:1500] -= 3.0
    events = [
        e for i, v in enumerate(x) for e in mon.update({"brightness": v}, frame_id=f"f{i}", at=i)
    ]
    alerts = [to_alert("cam-1", e) for e in events]
    assert [a.status for a in alerts] == ["firing", "resolved"]
    assert alerts[0].alert_id == alerts[1].alert_id
    assert alerts[0].kind == "drift" and alerts[0].camera_id == "cam-1"
    assert "brightness on camera cam-1 changed (down, -3" in alerts[0].detail
    assert "is back at its reference" in alerts[1].detail


def test_fleet_vote_alert_says_how_many_cameras_drift_together() -> None:
    fleet = FleetDriftMonitor(FleetDriftConfig(min_cameras=3, min_fraction=0.3))
    rng = np.random.default_rng(1)
    cfg = DriftConfig()
    ref = calibrate({"brightness": rng.normal(0, 1, 5000)}, cfg, replay=False)
    cams = {f"cam-{c}": CameraDriftMonitor(cfg, ref) for c in range(5)}
    votes = []
    for t in range(400):
        for c, (cid, mon) in enumerate(cams.items()):
            v = rng.normal() - (4.0 if t >= 100 and c < 3 else 0.0)
            ev = mon.update({"brightness": v}, frame_id=f"{cid}-{t}", at=t * 0.5)
            votes += [
                e for e in fleet.update(cid, at=t * 0.5, events=ev) if e.detector == "camera_vote"
            ]
    alert = to_alert(None, votes[0])
    assert alert.camera_id is None and alert.status == "firing"
    assert alert.detail.startswith("brightness drifting down on 3 of 5 cameras together")


def test_health_episode_alerts_are_camera_health_with_one_id() -> None:
    from framegate.detectors.health import HealthEpisodes
    from framegate.detectors.issues import build_issue
    from framegate.schemas import Check

    episodes = HealthEpisodes(clear_frames=2)
    frozen = [build_issue(Check.FROZEN, 0.9, 0.5, "still", critical_at=0.8)]
    events = [
        e
        for i, issues in enumerate([frozen, frozen, [], []])
        for e in episodes.update(issues, frame_id=f"f{i}", at=1_800_000_000.0 + i)
    ]
    firing, resolved = (to_alert("cam-1", e).model_dump_json() for e in events)
    # the bytes the alerts topic carried when health transitions were DriftEvents
    assert firing == (
        '{"schema_version":1,"alert_id":"7782fc51-bdf3-53a9-a085-4b4bdb148502",'
        '"kind":"camera_health","status":"firing","camera_id":"cam-1","metric":"frozen",'
        '"detector":"check","at":"2027-01-15T08:00:00Z","frame_id":"f0","change_point":"f0",'
        '"before":{},"after":{"score":0.9},"example_frame_ids":["f0"],"severity":"critical",'
        '"detail":"camera cam-1: frozen"}'
    )
    assert resolved == (
        '{"schema_version":1,"alert_id":"7782fc51-bdf3-53a9-a085-4b4bdb148502",'
        '"kind":"camera_health","status":"resolved","camera_id":"cam-1","metric":"frozen",'
        '"detector":"check","at":"2027-01-15T08:00:03Z","frame_id":"f3","change_point":null,'
        '"before":{},"after":{},"example_frame_ids":[],"severity":"info",'
        '"detail":"camera cam-1: frozen cleared"}'
    )
