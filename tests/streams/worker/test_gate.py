"""The gate agent's batch path without a broker: real validation, decoding, checks and
tables' documents; only the topics are recording stand-ins (see ``fakes``)."""

from __future__ import annotations

import asyncio
import copy
import json
import time

import pytest

from framegate.schemas.settings import Settings
from framegate.streams.worker.gate import GateAgent
from framegate.streams.worker.metrics import Metrics
from framegate.streams.worker.outputs import Outputs
from framegate.streams.worker.runtime import Runtime
from tests.factories import frame_bytes, jittered, jpeg, photo
from tests.streams.worker.fakes import events, recording_topics


def prediction(camera: str, index: int, classes: dict[str, float]) -> bytes:
    return json.dumps(
        {
            "schema_version": 1,
            "frame_id": f"{camera}:{index:06d}",
            "camera_id": camera,
            "model": "clf@1",
            "classes": classes,
        }
    ).encode()


@pytest.fixture
def make_agent():
    """``make_agent(camera_state={}, **settings)`` -> a GateAgent on an open Runtime."""
    runtimes: list[Runtime] = []

    def make(camera_state: dict | None = None, **overrides) -> GateAgent:
        settings = Settings(embedder="none", **overrides)
        runtime = Runtime(settings).open()
        runtimes.append(runtime)
        topics = recording_topics(settings)
        metrics = Metrics()
        outputs = Outputs(topics, metrics, settings)
        state = camera_state if camera_state is not None else {}
        return GateAgent(runtime, topics, outputs, metrics, state)

    yield make
    for runtime in runtimes:
        runtime.close()


def frames_topic(agent: GateAgent) -> str:
    return agent.settings.topic("frames")


def test_a_batch_reports_valid_frames_in_order_and_dead_letters_only_the_bad(make_agent):
    agent = make_agent()
    good = [
        (b"cam-a", frame_bytes("cam-a", i, jpeg(jittered(photo("coffee"), i)))) for i in range(3)
    ]
    batch = events(
        frames_topic(agent),
        [
            good[0],
            (b"cam-b", b"{not json"),
            good[1],
            (b"cam-b", frame_bytes("cam-b", 0, b"\xff\xd8 truncated jpeg")),
            good[2],
        ],
    )
    asyncio.run(agent.check_batch(batch))
    reports = agent.topics.quality.documents()
    assert [r["frame_id"] for r in reports] == [f"cam-a:{i:06d}" for i in range(3)]
    dead = agent.topics.deadletter.documents()
    assert [(d["offset"], d["stage"], d["reason"]) for d in dead] == [
        (1, "validate", "invalid_json"),
        (3, "image_decode", dead[1]["reason"]),
    ]
    assert dead[1]["reason"] != "processing_failed"
    assert (
        agent.metrics.registry.get_sample_value(
            "framegate_frames_processed_total", {"camera": "cam-a"}
        )
        == 3
    )


def test_a_prediction_in_the_same_batch_joins_its_frame(make_agent):
    agent = make_agent()
    topic_f, topic_p = frames_topic(agent), agent.settings.topic("predictions")
    batch = [
        *events(topic_p, [(b"cam-p", prediction("cam-p", 0, {"cup": 0.9, "bowl": 0.1}))]),
        *events(topic_f, [(b"cam-p", frame_bytes("cam-p", 0))], first_offset=1),
    ]
    asyncio.run(agent.check_batch(batch))
    [report] = agent.topics.quality.documents()
    assert report["metrics"]["confidence"] == pytest.approx(0.9)


def test_a_held_frame_is_completed_by_the_timer_when_its_prediction_never_comes(make_agent):
    agent = make_agent(join_window_s=0.05)
    topic_f, topic_p = frames_topic(agent), agent.settings.topic("predictions")
    # The camera sends predictions, so its next frame waits for its own.
    asyncio.run(
        agent.check_batch(
            events(topic_p, [(b"cam-h", prediction("cam-h", 0, {"cup": 0.8, "bowl": 0.2}))])
        )
    )
    asyncio.run(agent.check_batch(events(topic_f, [(b"cam-h", frame_bytes("cam-h", 5))])))
    assert agent.topics.quality.documents() == []
    assert agent.gates["cam-h"].held == 1
    time.sleep(0.1)
    asyncio.run(agent.complete_held_frames())
    [report] = agent.topics.quality.documents()
    assert report["frame_id"] == "cam-h:000005" and "confidence" not in report["metrics"]
    assert (
        agent.metrics.registry.get_sample_value(
            "framegate_predictions_unmatched_total", {"camera": "cam-h"}
        )
        == 1
    )  # prediction 0's frame never came


def test_a_hand_over_saves_every_camera_and_the_next_owner_decides_alike(make_agent):
    table: dict = {}
    first = make_agent(camera_state=table, state_flush_s=3600)
    frames = [(b"cam-r", frame_bytes("cam-r", i, jpeg(jittered(photo(), i)))) for i in range(6)]
    asyncio.run(first.check_batch(events(frames_topic(first), frames[:2])))
    saved = copy.deepcopy(table)  # a new camera is written at once
    asyncio.run(first.check_batch(events(frames_topic(first), frames[2:4], first_offset=2)))
    assert table == saved  # then at most every state_flush_s
    asyncio.run(first.hand_over(sender=None, revoked=set()))
    assert first.gates == {} and table != saved
    second = make_agent(camera_state=table)
    asyncio.run(second.check_batch(events(frames_topic(second), frames[4:], first_offset=4)))
    uninterrupted = make_agent()
    asyncio.run(uninterrupted.check_batch(events(frames_topic(uninterrupted), frames)))
    ours = second.topics.quality.documents()
    theirs = uninterrupted.topics.quality.documents()[4:]
    assert [r["frame_id"] for r in ours] == ["cam-r:000004", "cam-r:000005"]
    for a, b in zip(ours, theirs, strict=True):
        assert a["metrics"] == b["metrics"] and a["issues"] == b["issues"]


def test_a_frame_that_breaks_a_check_costs_only_itself(make_agent):
    agent = make_agent()
    broken = agent.gate("cam-x")

    def frame(*args, **kwargs):
        raise RuntimeError("a bug in one camera's checks")

    broken.frame = frame
    asyncio.run(
        agent.check_batch(
            events(
                frames_topic(agent),
                [
                    (b"cam-ok", frame_bytes("cam-ok", 0)),
                    (b"cam-x", frame_bytes("cam-x", 0)),
                    (b"cam-ok", frame_bytes("cam-ok", 1)),
                ],
            )
        )
    )
    assert [r["frame_id"] for r in agent.topics.quality.documents()] == [
        "cam-ok:000000",
        "cam-ok:000001",
    ]
    [dead] = agent.topics.deadletter.documents()
    assert (dead["offset"], dead["stage"], dead["reason"]) == (1, "check", "processing_failed")
    assert "a bug in one camera's checks" in dead["error"]
