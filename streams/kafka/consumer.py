"""Faust's Kafka consumer, with one race closed: a record handed on before its partition was
sought never moves that partition's read offset.

faust-streaming (0.15.3, the latest) keeps a *read offset* per partition, written by its fetch
loop after it hands each record to the streams, and silently drops every later record below
it (``DROPPED MESSAGE ROFF``). At the end of a rebalance it seeks the stream partitions back
to their committed offsets and sets their read offsets there. Records the fetch loop was still
handing on at that moment (fetched during the rebalance's recovery) then write their offsets
*after* the seek, so the records fetched again from the committed offset are dropped; the
streams skip (and acknowledge) some of the records handed on during the rebalance, and those
frames were never reported. Seen on Apache Kafka 4.4 with workers joining and leaving a group
while cameras publish: 2 to 4 frames lost in one join-and-leave cycle out of 3 to 20.

Here the fetch loop's write is kept only for a record the stream takes: handed on since the
latest seek of its partition (each seek is counted), in the current generation, while the
flow runs. Otherwise the read offset stays where the seek put it and every record from there
on is handed on again; a record that was processed already is processed a second time (at
least once, as after any rebalance), none is skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.types import TP

__all__ = ["SeekSafeConsumer"]


class _ReadOffsets(dict):
    """Faust's read offsets (None where unknown), keeping the fetch loop's writes only for
    records the stream takes."""

    def __init__(self, consumer: SeekSafeConsumer) -> None:
        super().__init__()
        self._consumer = consumer
        self._handed: dict[TP, tuple[int, int]] = {}

    def __missing__(self, tp: TP) -> None:
        return None

    def handed(self, tp: TP, generation: int) -> None:
        """The fetch loop hands on a record of ``tp`` fetched in consumer ``generation``; its
        read offset is written next."""
        self._handed[tp] = (self._consumer.seeks[tp], generation)

    def __setitem__(self, tp: TP, offset: int | None) -> None:
        handed = self._handed.pop(tp, None)
        if handed is None or self._consumer.takes(tp, *handed):
            super().__setitem__(tp, offset)


class SeekSafeConsumer(AIOKafkaConsumer):
    """Faust's aiokafka consumer whose seeks hold (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seeks: Counter = Counter()
        self._read_offset = _ReadOffsets(self)

    def takes(self, tp: TP, seeks: int, generation: int) -> bool:
        """Whether a record of ``tp``, handed on after its ``seeks``-th seek and fetched in
        ``generation``, reaches a stream now (the stream's own test, and no seek since)."""
        app = self.app
        return (
            seeks == self.seeks[tp]
            and generation == app.consumer_generation_id
            and self.flow_active
            and app.flow_control.is_active()
        )

    async def perform_seek(self) -> None:
        # counted when it starts and again when it is done: a record handed on while the
        # seek runs may have been fetched before it
        sought = [TP(tp.topic, tp.partition) for tp in self.assignment()]
        self.seeks.update(sought)
        try:
            await super().perform_seek()
        finally:
            self.seeks.update(sought)

    async def seek(self, partition: TP, offset: int) -> None:
        tp = TP(partition.topic, partition.partition)
        self.seeks[tp] += 1
        try:
            await self._seek(partition, offset)
            dict.__setitem__(self._read_offset, tp, offset if offset else None)
        finally:
            self.seeks[tp] += 1

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Any]]:
        read_offsets = self._read_offset
        async for tp, message in super().getmany(timeout):
            read_offsets.handed(tp, message.generation_id)
            yield tp, message
