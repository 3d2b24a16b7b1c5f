"""Stand-ins for Faust's topics and events, so the agents' code runs without a broker.

Only the transport is replaced: everything the agents do with what they read (validation,
decoding, every check, the tables' documents, what is sent) is the real code.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from framegate.schemas.settings import Settings
from framegate.streams.worker.topics import DESCRIPTIONS, Topics


@dataclass
class RecordingTopic:
    """A topic whose ``send`` keeps what was sent."""

    name: str
    sent: list[tuple[bytes | None, bytes]] = field(default_factory=list)

    async def send(self, *, key: bytes | None, value: bytes) -> asyncio.Future:
        """Keeps the message; returns the broker's confirmation, as Faust's ``send`` does."""
        self.sent.append((key, value))
        confirmed = asyncio.get_running_loop().create_future()
        confirmed.set_result(None)
        return confirmed

    def documents(self) -> list[dict[str, Any]]:
        return [json.loads(value) for _, value in self.sent]


def recording_topics(settings: Settings) -> Topics:
    names = {name: RecordingTopic(settings.topic(name)) for name in DESCRIPTIONS}
    return Topics(
        **names,
        inputs=RecordingTopic("inputs"),
        predictions_name=settings.topic("predictions"),
    )


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass  # not slotted: the tables keep a weak reference to the latest event
class Event:
    message: Message

    @property
    def value(self) -> bytes | None:
        return self.message.value


def events(topic: str, messages: list[tuple[bytes | None, bytes]], first_offset: int = 0):
    """Events as a batch from ``take_events`` would hold them."""
    return [
        Event(Message(topic, 0, first_offset + index, key, value))
        for index, (key, value) in enumerate(messages)
    ]
