"""The worker's consumer hands on every record of the agents' topics it fetches, again if it
fetches it again; the changelog topics keep Faust's read-offset filter.

Faust's fetch loop (``Consumer._drain_messages``) drops a fetched record whose offset is below
the partition's read offset, and writes the read offset after handing a record on. These tests
make those calls as the loop does, on the consumer a real worker app builds (not started: no
broker here, so the set of acknowledged topics, which the app learns when it subscribes, is
given); tests/apache_kafka runs it against Kafka.
"""

from __future__ import annotations

import pytest
from faust.types import TP
from faust.types.tuples import ConsumerMessage

from framegate.schemas.settings import Settings
from framegate.streams.app import create_app
from framegate.streams.kafka.consumer import AtLeastOnceConsumer

FRAMES = TP("cams.frames", 0)
CHANGELOG = TP("framegate-camera-state-changelog", 0)


@pytest.fixture
def consumer(monkeypatch) -> AtLeastOnceConsumer:
    app = create_app(Settings(bootstrap_servers="127.0.0.1:9", embedder="none")).app
    consumer = app.consumer
    assert isinstance(consumer, AtLeastOnceConsumer)
    monkeypatch.setattr(app.topics, "acks_enabled_for", lambda topic: topic == FRAMES.topic)
    return consumer


def _handed_on(consumer: AtLeastOnceConsumer, tp: TP, offset: int) -> bool:
    """The fetch loop's test for one fetched record, and its write when the record passes."""
    read = consumer._read_offset[tp]
    if read is not None and offset < read:
        return False  # DROPPED MESSAGE ROFF
    consumer._read_offset[tp] = offset
    return True


def test_a_record_of_an_agents_topic_fetched_again_is_handed_on_again(consumer):
    assert all(_handed_on(consumer, FRAMES, offset) for offset in range(288, 315))
    # a rebalance seeks back to the committed offset, 288, and Faust notes it...
    consumer._read_offset.update({FRAMES: 288})
    # ...but a record handed on before the seek writes its offset after it
    consumer._read_offset[FRAMES] = 314
    # records 288 to 313 come again: none is dropped, whatever the stream did with them
    assert all(_handed_on(consumer, FRAMES, offset) for offset in range(288, 314))


def test_a_changelog_keeps_fausts_filter(consumer):
    assert all(_handed_on(consumer, CHANGELOG, offset) for offset in range(40, 51))
    assert not _handed_on(consumer, CHANGELOG, 45)  # seen: recovery does not read it twice
    assert _handed_on(consumer, CHANGELOG, 51)
    assert consumer._read_offset.pop(CHANGELOG) == 51  # revoking a partition forgets it
    assert consumer._read_offset[CHANGELOG] is None


def _message(tp: TP, offset: int) -> ConsumerMessage:
    return ConsumerMessage(tp.topic, tp.partition, offset, 0.0, 0, None, b"k", b"v", None)


def test_a_record_a_stream_skipped_is_let_go_without_committing_its_offset(consumer):
    taken, skipped = _message(FRAMES, 288), _message(FRAMES, 289)
    taken.tracked = True  # a stream took it (Stream._py_aiter tracks what it takes)
    assert consumer.ack(taken) and taken.acked
    # skipped (a finished generation, a stopped flow): Faust's stream acknowledges it too
    assert not consumer.ack(skipped)
    assert skipped.acked  # nothing waits for it (the rebalance's wait for acks ends)
    assert list(consumer._acked[FRAMES]) == [288]  # 289 is never committed: it comes again
    again = _message(FRAMES, 289)
    again.tracked = True
    assert consumer.ack(again) and list(consumer._acked[FRAMES]) == [288, 289]
