"""The worker's consumer: a seek holds against records handed on before it.

Faust's fetch loop (``Consumer._drain_messages``) hands each record to the streams and then
writes the partition's read offset; it drops every later record below that offset. These
tests make those calls as the loop does, on the consumer a real worker app builds. The
consumer is not started (no broker here): its broker-side calls (the committed offsets, the
fetcher's position) are replaced by stand-ins; tests/apache_kafka runs it against Kafka.
"""

from __future__ import annotations

import asyncio

import pytest
from faust.types import TP

from framegate.schemas.settings import Settings
from framegate.streams.app import create_app
from framegate.streams.kafka.consumer import SeekSafeConsumer

FRAMES = TP("cams.frames", 0)
OTHER = TP("cams.frames", 1)


@pytest.fixture
def consumer(monkeypatch) -> SeekSafeConsumer:
    app = create_app(Settings(bootstrap_servers="127.0.0.1:9", embedder="none")).app
    consumer = app.consumer
    assert isinstance(consumer, SeekSafeConsumer)
    committed = {FRAMES: 32, OTHER: 7}
    positions: dict[TP, int] = {}

    async def seek_to_committed():
        positions.update(committed)
        return dict(committed)

    async def _seek(tp, offset):
        positions[tp] = offset

    monkeypatch.setattr(consumer, "assignment", lambda: set(committed))
    monkeypatch.setattr(consumer, "seek_to_committed", seek_to_committed)
    monkeypatch.setattr(consumer, "_seek", _seek)
    consumer.positions = positions
    app.consumer_generation_id = 3
    consumer.flow_active = True
    app.flow_control.resume()
    return consumer


def _hand_on(consumer: SeekSafeConsumer, tp: TP, offset: int, generation: int = 3) -> None:
    """What the fetch loop does for one record once the stream has it."""
    consumer._read_offset.handed(tp, generation)
    consumer._read_offset[tp] = offset


def test_records_handed_on_move_the_read_offset(consumer):
    assert consumer._read_offset[FRAMES] is None
    _hand_on(consumer, FRAMES, 40)
    _hand_on(consumer, FRAMES, 41)
    assert consumer._read_offset[FRAMES] == 41


def test_a_record_handed_on_before_a_seek_does_not_move_the_read_offset_after_it(consumer):
    _hand_on(consumer, FRAMES, 52)
    consumer._read_offset.handed(FRAMES, 3)  # record 53 is on its way to the stream...
    asyncio.run(consumer.perform_seek())  # ...when the rebalance seeks back to 32
    consumer._read_offset[FRAMES] = 53  # the fetch loop's late write
    assert consumer._read_offset[FRAMES] == 32  # records 32 to 53 come again, not dropped
    assert consumer.positions[FRAMES] == 32
    _hand_on(consumer, FRAMES, 32)
    assert consumer._read_offset[FRAMES] == 32
    _hand_on(consumer, OTHER, 7)  # other partitions go on as before
    assert consumer._read_offset[OTHER] == 7


def test_a_seek_of_one_partition_sets_its_read_offset_and_holds_against_late_writes(consumer):
    consumer._read_offset.handed(FRAMES, 3)
    asyncio.run(consumer.seek(FRAMES, 12))
    assert consumer._read_offset[FRAMES] == 12 and consumer.positions[FRAMES] == 12
    consumer._read_offset[FRAMES] = 60  # the late write of a record fetched before the seek
    assert consumer._read_offset[FRAMES] == 12
    assert consumer._read_offset.pop(FRAMES) == 12  # revoking a partition forgets it
    assert consumer._read_offset[FRAMES] is None


def test_a_record_of_a_previous_generation_does_not_move_the_read_offset(consumer):
    _hand_on(consumer, FRAMES, 40)
    consumer.app.consumer_generation_id = 4  # a rebalance; the stream skips generation 3
    _hand_on(consumer, FRAMES, 54, generation=3)
    assert consumer._read_offset[FRAMES] == 40
    _hand_on(consumer, FRAMES, 41, generation=4)
    assert consumer._read_offset[FRAMES] == 41


@pytest.mark.parametrize("stopped", ["consumer", "flow_control"])
def test_a_record_handed_on_while_the_flow_is_stopped_does_not_move_it(consumer, stopped):
    _hand_on(consumer, FRAMES, 40)
    if stopped == "consumer":
        consumer.stop_flow()
    else:
        consumer.app.flow_control.suspend()
    _hand_on(consumer, FRAMES, 41)
    assert consumer._read_offset[FRAMES] == 40
