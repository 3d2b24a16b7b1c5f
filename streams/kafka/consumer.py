"""Faust's Kafka consumer, handing on every record of the agents' topics it fetches, and
committing none that nobody processed.

faust-streaming (0.15.3, the latest) keeps a *read offset* per partition, written by its fetch
loop after it hands a record to the streams, and silently drops every later record below it
(``DROPPED MESSAGE ROFF``, a dev-level log line), meaning to skip records it has seen. Its
streams skip the records of a finished consumer generation, or handed on while the flow is
stopped, and acknowledge them as if processed. Around rebalances the two meet: records handed
on while a rebalance seeks back to the committed offsets write their offsets after the seek, a
fresh worker's subscription update moves its fetch position back under the read offset, and
the records fetched again are dropped; the skipped ones are committed. Their frames are never
reported. Seen on Apache Kafka 4.4: 4 frames lost in 1 join-and-leave cycle out of 3 to 10,
and 31 frames of one camera when a sole worker was killed and replaced.

Here a record a stream skipped is let go without committing its offset, and on the agents'
topics (those whose records are acknowledged) the read offset is never known: a record
fetched again is handed on again, at least once, as after any rebalance (a repeated delivery
is no duplicate of itself in the gate, and its relabel request keeps its id). Faust's gap
tracking for those topics goes with it: commits step over one missing offset at a time (a
transaction marker) and stop at a longer hole, from where a restarted worker reads again;
nothing is skipped. The changelog topics, which Faust's recovery reads through the same loop,
keep the filter.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.types import TP, Message

__all__ = ["AtLeastOnceConsumer"]


class _ReadOffsets(dict):
    """Faust's read offsets (None where unknown): always unknown on the agents' topics."""

    def __init__(self, consumer: AtLeastOnceConsumer) -> None:
        super().__init__()
        self._consumer = consumer

    def __missing__(self, tp: TP) -> None:
        return None

    def __getitem__(self, tp: TP) -> int | None:
        if self._consumer.app.topics.acks_enabled_for(tp.topic):
            return None
        return super().__getitem__(tp)


class AtLeastOnceConsumer(AIOKafkaConsumer):
    """Faust's aiokafka consumer that never drops a record of the agents' topics as seen,
    nor commits one a stream skipped (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_offset = _ReadOffsets(self)

    def ack(self, message: Message) -> bool:
        if not message.tracked and self.app.topics.acks_enabled_for(message.topic):
            # A stream skipped it (its generation was over, or the flow stopped) before taking
            # it: nothing waits for it, and its offset is not committed, so it comes again.
            message.acked = True
            return False
        return super().ack(message)
