"""Liveness and operators' actions through a real broker, across a worker restart."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from framegate.streams.cli.commands import main
from tests.factories import frame_bytes, jittered, jpeg, photo

pytestmark = pytest.mark.integration


def frames(camera: str, start: int, n: int) -> list[tuple[bytes, bytes]]:
    image = photo("coffee")
    return [
        (camera.encode(), frame_bytes(camera, i, jpeg(jittered(image, i))))
        for i in range(start, start + n)
    ]


def test_a_silent_camera_goes_offline_on_the_worker_that_took_it_over_and_comes_back(
    gate_factory,
):
    settings = {"embedder": "none", "liveness_offline_min_s": "4"}
    first = gate_factory(**settings)
    first.start()
    first.publish("frames", frames("cam-l", 0, 5))
    assert len(first.collect("quality", count=5)) == 5
    first.stop()  # the camera falls silent while its worker is replaced

    second = gate_factory(
        prefix=first.settings.topic_prefix, consumer_group=first.settings.consumer_group, **settings
    )
    second.start()
    alerts = second.collect("alerts", count=1, timeout=45)
    assert [(a["metric"], a["status"], a["camera_id"]) for a in alerts] == [
        ("camera_offline", "firing", "cam-l")
    ]
    [offline] = alerts
    assert offline["change_point"] == "cam-l:000004" and offline["kind"] == "camera_health"
    second.publish("frames", frames("cam-l", 5, 2))
    alerts = second.collect("alerts", count=2, timeout=45)
    assert [(a["metric"], a["status"]) for a in alerts[:2]] == [
        ("camera_offline", "firing"),
        ("camera_offline", "resolved"),
    ]
    assert alerts[1]["alert_id"] == offline["alert_id"]
    # silent again after the two frames: a new episode, named by its own last frame
    assert [(a["status"], a["change_point"]) for a in alerts[2:]] in (
        [],
        [("firing", "cam-l:000006")],
    )


def test_a_rebaseline_from_the_cli_is_applied_by_the_next_owner_and_audited(gate_factory):
    settings = {"embedder": "none", "drift_warmup_frames": "100"}
    first = gate_factory(**settings)
    first.start()
    first.publish("frames", frames("cam-b", 0, 8))
    assert len(first.collect("quality", count=8)) == 8
    first.stop()

    env = {k: v for k, v in first.env.items() if k.startswith("FRAMEGATE_")}
    result = CliRunner().invoke(main, ["rebaseline", "cam-b", "--note", "new lens"], env=env)
    assert result.exit_code == 0, result.output
    assert "re-baseline of cam-b requested" in result.output

    second = gate_factory(
        prefix=first.settings.topic_prefix, consumer_group=first.settings.consumer_group, **settings
    )
    second.start()
    [record] = second.collect("audit", count=1, timeout=45)
    assert (record["kind"], record["outcome"], record["camera_id"]) == (
        "rebaseline",
        "applied",
        "cam-b",
    )
    assert record["actor"].startswith("cli:") and record["note"] == "new lens"
    # the statistics it restarted were learnt by the first worker: its state was recovered
    assert "brightness" in record["detail"] and "scene references restarted" in record["detail"]
