"""Per-camera state survives a worker restart: it lives in tables with changelogs."""

from __future__ import annotations

import pytest

from tests.factories import frame_bytes, jittered, jpeg, photo

pytestmark = pytest.mark.integration


def test_camera_state_is_recovered_by_the_next_worker(gate_factory):
    first = gate_factory()
    first.start()
    scene = [jpeg(jittered(photo("rocket"), seed)) for seed in range(12)]
    first.publish("frames", [(b"cam-r", frame_bytes("cam-r", i, data=scene[i])) for i in range(12)])
    before = first.collect("quality", count=12)
    assert len(before) == 12
    first.stop()

    # Same topics, same consumer group: the new worker restores the camera's table state from
    # its changelog. Frame 3's exact bytes again can only be recognised from that history.
    second = gate_factory(
        prefix=first.settings.topic_prefix, consumer_group=first.settings.consumer_group
    )
    second.start()
    second.publish("frames", [(b"cam-r", frame_bytes("cam-r", 12, data=scene[3]))])
    after = second.collect("quality", count=13)
    report = next(r for r in after if r["frame_id"] == "cam-r:000012")
    checks = {issue["check"] for issue in report["issues"]}
    assert "exact_duplicate" in checks, report["issues"]
