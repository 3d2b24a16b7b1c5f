"""Every message accounted for, through the pure batch path (no broker): a valid frame is
reported exactly once and an invalid message dead-lettered exactly once, whatever they are
mixed with; a batch that fails as a whole loses only its culprit; undelivered outputs are
sent again."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framegate.schemas.settings import Settings
from framegate.streams.worker import pipeline
from framegate.streams.worker.gate import GateAgent
from framegate.streams.worker.metrics import Metrics
from framegate.streams.worker.outputs import DeliveryAborted, Outbox, Outputs
from framegate.streams.worker.runtime import Runtime
from tests.factories import frame_bytes, jittered, jpeg, photo
from tests.streams.worker.fakes import RecordingTopic, events, recording_topics

FRAME = jpeg(photo(size=(128, 96)))
INVALID = [
    b"",
    b"{not json",
    b"[" * 5000 + b"]" * 5000,
    b'{"frame_id": NaN}',
    json.dumps({"schema_version": 1, "frame_id": "x"}).encode(),
    frame_bytes("cam-bad", 0, b"\xff\xd8\xff truncated"),
    frame_bytes("cam-bad", 1, b"GIF89a not a frame"),
    frame_bytes("cam-bad", 2, FRAME, annotations=[{"label": "p", "box": [0, 0, 900, 900]}]),
    frame_bytes("cam-bad", 3, FRAME).replace(b'"cam-bad"', b'"cam\\u0000bad"'),
    frame_bytes("cam-bad", 4, FRAME).replace(b'"jpeg"', b'"gif"'),
]


def make_agent(**overrides) -> GateAgent:
    settings = Settings(embedder="none", **overrides)
    runtime = Runtime(settings).open()
    topics = recording_topics(settings)
    metrics = Metrics()
    outputs = Outputs(topics, metrics, settings, retry_s=0.01)
    return GateAgent(runtime, topics, outputs, metrics, {})


@pytest.fixture(scope="module")
def agent():
    agent = make_agent()
    yield agent
    agent.runtime.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(st.integers(0, 3), st.sampled_from(INVALID)), min_size=1, max_size=12))
def test_every_valid_frame_one_report_every_invalid_one_dead_letter(agent, batch):
    agent.topics.quality.sent.clear()
    agent.topics.deadletter.sent.clear()
    base = getattr(agent, "_next_index", 0)
    messages, valid = [], []
    for offset, entry in enumerate(batch):
        if isinstance(entry, int):
            frame_id = base + offset
            messages.append((b"cam-%d" % entry, frame_bytes(f"cam-{entry}", frame_id, FRAME)))
            valid.append(f"cam-{entry}:{frame_id:06d}")
        else:
            messages.append((b"cam-bad", entry))
    agent._next_index = base + len(batch)
    asyncio.run(agent.check_batch(events(agent.settings.topic("frames"), messages)))
    reported = [r["frame_id"] for r in agent.topics.quality.documents()]
    dead = [d["offset"] for d in agent.topics.deadletter.documents()]
    assert sorted(reported) == sorted(valid)
    assert sorted(dead) == [i for i, entry in enumerate(batch) if not isinstance(entry, int)]


def test_a_batch_that_fails_as_a_whole_loses_only_its_culprit(monkeypatch):
    agent = make_agent()
    real = pipeline.run_batch

    def fragile(items, *args, **kwargs):
        if any(i.message.camera_id == "cam-poison" for i in items):
            raise RuntimeError("a bug triggered by one message")
        return real(items, *args, **kwargs)

    monkeypatch.setattr(pipeline, "run_batch", fragile)
    frames = [(b"cam-a", frame_bytes("cam-a", i, FRAME)) for i in range(3)]
    batch = [frames[0], (b"cam-poison", frame_bytes("cam-poison", 0, FRAME)), *frames[1:]]
    asyncio.run(agent.check_batch(events(agent.settings.topic("frames"), batch)))
    assert [r["frame_id"] for r in agent.topics.quality.documents()] == [
        f"cam-a:{i:06d}" for i in range(3)
    ]
    [dead] = agent.topics.deadletter.documents()
    assert (dead["offset"], dead["reason"]) == (1, "processing_failed")
    assert "a bug triggered by one message" in dead["error"]


class FlakyTopic(RecordingTopic):
    """A topic whose broker refuses the first ``failures`` messages."""

    def __init__(self, name: str, failures: int) -> None:
        super().__init__(name)
        self.failures = failures
        self.attempts = 0

    async def send(self, *, key, value):
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            refused = asyncio.get_running_loop().create_future()
            refused.set_exception(ConnectionError("broker unavailable"))
            return refused
        return await super().send(key=key, value=value)


def test_outputs_the_broker_refused_are_sent_again_in_order_and_counted_once():
    settings = Settings()
    topics = recording_topics(settings)
    flaky = FlakyTopic("quality", failures=2)
    metrics = Metrics()
    outputs = Outputs(topics, metrics, settings, retry_s=0.01)
    outbox = Outbox()
    counted: list[int] = []
    for i in range(4):
        outbox.add(flaky, b"k", b"%d" % i, lambda i=i: counted.append(i))
    asyncio.run(outputs.deliver(outbox))
    # the two refused messages follow the two confirmed ones: order holds within each attempt
    assert [v for _, v in flaky.sent] == [b"2", b"3", b"0", b"1"]
    assert sorted(counted) == [0, 1, 2, 3] and len(counted) == 4
    assert flaky.attempts == 6


def test_a_worker_stopping_mid_outage_acknowledges_nothing():
    settings = Settings()
    outputs = Outputs(recording_topics(settings), Metrics(), settings, retry_s=0.01)
    outbox = Outbox()
    outbox.add(FlakyTopic("quality", failures=10**6), b"k", b"v")
    with pytest.raises(DeliveryAborted):
        asyncio.run(outputs.deliver(outbox, stopping=lambda: True))


def test_new_cameras_beyond_the_limit_are_refused_and_counted():
    agent = make_agent(max_cameras=2)
    batch = [(b"cam-%d" % i, frame_bytes(f"cam-{i}", 0, FRAME)) for i in range(4)]
    asyncio.run(agent.check_batch(events(agent.settings.topic("frames"), batch)))
    assert {r["camera_id"] for r in agent.topics.quality.documents()} == {"cam-0", "cam-1"}
    dead = agent.topics.deadletter.documents()
    assert [(d["offset"], d["reason"]) for d in dead] == [(2, "camera_limit"), (3, "camera_limit")]
    assert agent.metrics.registry.get_sample_value("framegate_cameras_refused_total") == 2
    # a known camera is never refused
    again = [(b"cam-0", frame_bytes("cam-0", 1, FRAME))]
    asyncio.run(agent.check_batch(events(agent.settings.topic("frames"), again, 4)))
    assert agent.topics.quality.documents()[-1]["frame_id"] == "cam-0:000001"


def test_idle_cameras_wait_in_the_table_and_come_back_unchanged():
    evicting, keeping = make_agent(max_live_cameras=1), make_agent()
    for agent in (evicting, keeping):
        for i in range(4):
            batch = [
                (
                    b"cam-%d" % c,
                    frame_bytes(f"cam-{c}", i, jpeg(jittered(photo(size=(128, 96)), i))),
                )
                for c in range(3)
            ]
            asyncio.run(agent.check_batch(events(agent.settings.topic("frames"), batch, 3 * i)))
    assert len(evicting.gates) == 1 and set(evicting.camera_state) >= {"cam-0", "cam-1"}
    ours = evicting.topics.quality.documents()
    theirs = keeping.topics.quality.documents()
    assert [(r["frame_id"], r["metrics"], r["issues"]) for r in ours] == [
        (r["frame_id"], r["metrics"], r["issues"]) for r in theirs
    ]
