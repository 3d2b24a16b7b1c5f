"""Operators' actions and liveness on the gate agent, without a broker (see ``fakes``)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from framegate.schemas.settings import Settings
from framegate.streams.worker.gate import GateAgent
from framegate.streams.worker.metrics import Metrics
from framegate.streams.worker.outputs import Outputs
from framegate.streams.worker.runtime import Runtime
from tests.factories import frame_bytes, jittered, jpeg, photo
from tests.streams.worker.fakes import events, recording_topics


@pytest.fixture
def make_agent():
    runtimes: list[Runtime] = []

    def make(**overrides) -> GateAgent:
        settings = Settings(embedder="none", drift_warmup_frames=100, **overrides)
        runtime = Runtime(settings).open()
        runtimes.append(runtime)
        topics = recording_topics(settings)
        metrics = Metrics()
        return GateAgent(runtime, topics, Outputs(topics, metrics, settings), metrics, {}, {}, {})

    yield make
    for runtime in runtimes:
        runtime.close()


def action(camera: str, kind: str, action_id: str = "a-1", **fields) -> tuple[bytes, bytes]:
    document = {
        "schema_version": 1,
        "action_id": action_id,
        "kind": kind,
        "camera_id": camera,
        "actor": "test",
        "requested_at": datetime(2026, 12, 1, tzinfo=UTC).isoformat(),
        **fields,
    }
    return camera.encode(), json.dumps(document).encode()


def frames(camera: str, start: int, n: int) -> list[tuple[bytes, bytes]]:
    return [
        (camera.encode(), frame_bytes(camera, i, jpeg(jittered(photo("coffee"), i))))
        for i in range(start, start + n)
    ]


def run(agent: GateAgent, topic: str, messages, first_offset: int = 0) -> None:
    asyncio.run(agent.check_batch(events(agent.settings.topic(topic), messages, first_offset)))


def test_a_rebaseline_restarts_the_cameras_references_and_is_audited(make_agent):
    agent = make_agent()
    run(agent, "frames", frames("cam-r", 0, 12))
    learnt = sorted(agent.gates["cam-r"].drift.metrics)
    assert "brightness" in learnt
    before = agent.gates["cam-r"].drift.metrics["brightness"].state()
    run(agent, "control", [action("cam-r", "rebaseline", note="new lens")], first_offset=12)
    [record] = agent.topics.audit.documents()
    assert (record["kind"], record["outcome"], record["camera_id"]) == (
        "rebaseline",
        "applied",
        "cam-r",
    )
    assert "scene references restarted" in record["detail"]
    assert ", ".join(learnt) in record["detail"] and record["note"] == "new lens"
    assert agent.gates["cam-r"].drift.metrics["brightness"].state() != before
    # saved at once, so a worker that takes over finds the new normal
    assert agent.camera_state["cam-r"] == agent.gates["cam-r"].state()


def test_an_action_is_applied_in_its_place_among_the_cameras_frames(make_agent):
    agent = make_agent()
    batch = [
        *events(agent.settings.topic("frames"), frames("cam-o", 0, 3)),
        *events(agent.settings.topic("control"), [action("cam-o", "rebaseline")], 3),
        *events(agent.settings.topic("frames"), frames("cam-o", 3, 2), 4),
    ]
    asyncio.run(agent.check_batch(batch))
    [record] = agent.topics.audit.documents()
    assert "brightness" in record["detail"]  # the frames before it had been seen
    assert len(agent.topics.quality.documents()) == 5


def test_a_redelivered_action_is_applied_once_and_a_bad_one_is_dead_lettered(make_agent):
    agent = make_agent()
    run(agent, "control", [action("cam-x", "mute", check="frozen", duration_s=60)] * 2)
    run(agent, "control", [(b"cam-x", b'{"kind": "mute"}')], first_offset=2)
    assert len(agent.topics.audit.documents()) == 1
    [dead] = agent.topics.deadletter.documents()
    assert (dead["stage"], dead["reason"]) == ("validate", "invalid_fields")


@pytest.mark.parametrize(
    ("kind", "fields", "detail"),
    [
        ("acknowledge", {}, "needs alert_id"),
        ("mute", {"check": "frozen"}, "needs duration_s"),
        ("unmute", {}, "needs check"),
    ],
    ids=["ack", "mute", "unmute"],
)
def test_an_incomplete_action_is_rejected_on_the_record(make_agent, kind, fields, detail):
    agent = make_agent()
    run(agent, "control", [action("cam-x", kind, **fields)])
    [record] = agent.topics.audit.documents()
    assert record["outcome"] == "rejected" and detail in record["detail"]


def silent_camera(make_agent, **settings) -> tuple[GateAgent, list[float]]:
    agent = make_agent(liveness_offline_min_s=5.0, **settings)
    now = [1000.0]
    agent.liveness.clock = lambda: now[0]
    agent.liveness._assigned_at = 0.0
    run(agent, "frames", frames("cam-s", 0, 3))
    return agent, now


def offline_alerts(agent: GateAgent) -> list[tuple[str, str]]:
    return [
        (a["metric"], a["status"])
        for a in agent.topics.alerts.documents()
        if a["metric"] == "camera_offline"
    ]


def test_a_silent_camera_goes_offline_once_and_comes_back(make_agent):
    agent, now = silent_camera(make_agent)
    now[0] += 4.0
    asyncio.run(agent.watch_liveness())
    assert offline_alerts(agent) == []
    now[0] += 2.0
    asyncio.run(agent.watch_liveness())
    asyncio.run(agent.watch_liveness())
    assert offline_alerts(agent) == [("camera_offline", "firing")]
    assert agent.liveness.table["cam-s"]["liveness"]["offline"] == "cam-s:000002"
    run(agent, "frames", frames("cam-s", 3, 1), first_offset=3)
    assert offline_alerts(agent) == [("camera_offline", "firing"), ("camera_offline", "resolved")]
    [firing, resolved] = [a for a in agent.topics.alerts.documents()]
    assert firing["alert_id"] == resolved["alert_id"] and firing["detector"] == "liveness"


def test_a_muted_check_sends_no_firing_alert_until_unmuted(make_agent):
    agent, now = silent_camera(make_agent)
    run(agent, "control", [action("cam-s", "mute", check="camera_offline", duration_s=30)], 3)
    now[0] += 10.0
    asyncio.run(agent.watch_liveness())
    assert offline_alerts(agent) == []  # muted: decided, not sent
    run(agent, "frames", frames("cam-s", 3, 1), first_offset=4)
    assert offline_alerts(agent) == [("camera_offline", "resolved")]  # resolutions still go


def test_an_acknowledged_alert_is_not_sent_again(make_agent):
    agent, now = silent_camera(make_agent)
    now[0] += 10.0
    asyncio.run(agent.watch_liveness())
    [firing] = agent.topics.alerts.documents()
    run(agent, "control", [action("cam-s", "acknowledge", alert_id=firing["alert_id"])], 3)
    # the same episode decided again (a worker that lost its state) is screened out
    agent.liveness.camera("cam-s")._offline = None
    asyncio.run(agent.watch_liveness())
    assert len(agent.topics.alerts.documents()) == 1
    [record] = agent.topics.audit.documents()
    assert record["alert_id"] == firing["alert_id"] and record["outcome"] == "applied"
