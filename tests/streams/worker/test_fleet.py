"""The fleet agent without a broker: typed summaries in, fleet alerts out, bad input dead."""

from __future__ import annotations

import asyncio

from framegate.schemas.fleet import DriftTransition, FleetSummary
from framegate.schemas.settings import Settings
from framegate.streams.worker.fleet import FLEET_KEY, FleetAgent
from framegate.streams.worker.metrics import Metrics
from framegate.streams.worker.outputs import Outputs
from tests.streams.worker.fakes import events, recording_topics


def make_agent(table: dict | None = None, **overrides) -> FleetAgent:
    settings = Settings(**overrides)
    topics = recording_topics(settings)
    outputs = Outputs(topics, Metrics(), settings)
    return FleetAgent(settings, topics, outputs, table if table is not None else {})


def firing(camera: str, at: float) -> FleetSummary:
    return FleetSummary(
        camera_id=camera,
        at=at,
        zscores={"brightness": (-3.0, 1)},
        events=[
            DriftTransition(
                metric="brightness",
                detector="cusum",
                status="firing",
                frame_id=f"{camera}:1",
                at=at,
                change_point=f"{camera}:0",
                before={"mean": 0.5, "std": 0.02, "n": 3000},
                after={"mean": 0.3, "std": 0.02, "n": 40},
                direction="down",
            )
        ],
    )


def feed(agent: FleetAgent, summaries: list[FleetSummary | bytes]) -> None:
    raw = [
        (b"fleet", s if isinstance(s, bytes) else s.model_dump_json().encode()) for s in summaries
    ]
    for event in events("framegate.fleet", raw):
        asyncio.run(agent.handle(event))


def test_cameras_drifting_together_raise_one_fleet_alert():
    agent = make_agent()
    feed(agent, [firing(f"cam-{i}", 1000.0 + i) for i in range(5)])
    alerts = agent.topics.alerts.documents()
    assert len(alerts) == 1
    [alert] = alerts
    assert alert["camera_id"] is None and alert["status"] == "firing"
    assert alert["metric"] == "brightness"


def test_one_camera_alone_is_not_a_fleet_alert():
    agent = make_agent()
    feed(agent, [firing("cam-0", 1000.0)])
    assert agent.topics.alerts.documents() == []


def test_a_malformed_summary_is_dead_lettered_and_the_next_is_read():
    agent = make_agent()
    bad = b'{"camera_id": "cam-1", "at": "soon"}'
    feed(agent, [bad, *(firing(f"cam-{i}", 1000.0 + i) for i in range(3))])
    [dead] = agent.topics.deadletter.documents()
    assert dead["stage"] == "fleet" and dead["reason"] == "invalid_fields"
    assert [a["status"] for a in agent.topics.alerts.documents()] == ["firing"]


def test_the_monitor_is_saved_on_hand_over_and_restored_by_the_next_owner():
    table: dict = {}
    first = make_agent(table, state_flush_s=3600)
    feed(first, [firing(f"cam-{i}", 1000.0 + i) for i in range(2)])
    asyncio.run(first.hand_over(sender=None, revoked=set()))
    assert FLEET_KEY in table and first.live == {}
    second = make_agent(table)
    feed(second, [firing("cam-2", 1003.0)])  # the third camera completes the vote
    [alert] = second.topics.alerts.documents()
    assert alert["status"] == "firing"
