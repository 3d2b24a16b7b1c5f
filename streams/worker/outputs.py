"""What a worker sends, and the guarantee that it was delivered before its input is acked.

Everything a batch produces (reports, requests, alerts, fleet summaries, dead letters) is
first built into an :class:`Outbox` (encoding a message can fail, and that failure belongs
to one input), then :meth:`Outputs.deliver` sends it all and waits for the broker to confirm
every message. A message the broker refused is sent again, with backoff, until it is
confirmed or the worker stops: the batch's inputs are not acknowledged before that, so a
broker outage delays the gate and loses nothing (at-least-once; every id is deterministic).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from framegate.detectors.alerts import to_alert
from framegate.detectors.drift import DriftEvent
from framegate.detectors.health import HealthEvent
from framegate.schemas.settings import Settings
from framegate.streams.worker.deadletter import dead_letter
from framegate.streams.worker.metrics import Metrics
from framegate.streams.worker.topics import Topics

log = logging.getLogger(__name__)


@dataclass
class Outgoing:
    """One message to send, and what to count once the broker has it."""

    topic: Any
    key: bytes | None
    value: bytes
    on_sent: Callable[[], None] | None = None


@dataclass
class Outbox:
    """The messages of one batch, in the order they must reach their topics."""

    messages: list[Outgoing] = field(default_factory=list)

    def add(
        self,
        topic: Any,
        key: bytes | None,
        value: bytes,
        on_sent: Callable[[], None] | None = None,
    ) -> None:
        self.messages.append(Outgoing(topic, key, value, on_sent))

    def extend(self, other: Outbox) -> None:
        self.messages += other.messages

    def __len__(self) -> int:
        return len(self.messages)


class Outputs:
    """The send side of the agents: messages built, delivered and counted.

    Parameters
    ----------
    retry_s, max_retry_s
        First and longest wait between attempts to deliver what the broker refused.
    """

    def __init__(
        self,
        topics: Topics,
        metrics: Metrics,
        settings: Settings,
        *,
        retry_s: float = 0.5,
        max_retry_s: float = 30.0,
    ) -> None:
        self.topics = topics
        self.metrics = metrics
        self.settings = settings
        self.retry_s = retry_s
        self.max_retry_s = max_retry_s

    # -- building ---------------------------------------------------------------------------
    def alert(
        self, outbox: Outbox, key: bytes, camera_id: str | None, event: DriftEvent | HealthEvent
    ) -> None:
        """The alert for one drift or camera-health transition (``camera_id`` None: the
        fleet)."""
        alert = to_alert(camera_id, event)
        outbox.add(
            self.topics.alerts,
            key,
            alert.model_dump_json().encode(),
            lambda: self.metrics.observe_alert(alert),
        )

    def dead_letter(self, outbox: Outbox, event: Any, stage: str, error: BaseException) -> None:
        """The dead-letter record of an input ``event`` that failed at ``stage``."""
        message = event.message
        record = dead_letter(
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            payload=message.value,
            stage=stage,
            error=error,
            settings=self.settings,
        )
        outbox.add(
            self.topics.deadletter,
            message.key,
            record.model_dump_json().encode(),
            lambda: self.metrics.observe_dead_letter(record),
        )

    # -- sending ----------------------------------------------------------------------------
    async def deliver(self, outbox: Outbox, *, stopping: Callable[[], bool] = bool) -> None:
        """Send every message and wait until the broker confirmed each (see the module
        docstring); returns early only when ``stopping()`` turns true (the inputs are then
        not acknowledged and will be read again)."""
        pending = list(outbox.messages)
        wait = self.retry_s
        while pending:
            pending = await self._attempt(pending)
            if not pending:
                return
            if stopping():
                raise DeliveryAborted(f"{len(pending)} messages not delivered at shutdown")
            log.warning(
                "%d messages not confirmed by the broker; sending them again in %.1f s",
                len(pending),
                wait,
            )
            await asyncio.sleep(wait)
            wait = min(self.max_retry_s, wait * 2)

    async def _attempt(self, messages: list[Outgoing]) -> list[Outgoing]:
        """Send ``messages`` in order; returns the ones not confirmed, in their order."""
        confirmations: list[tuple[Outgoing, Awaitable[Any] | None]] = []
        unsent: list[Outgoing] = []
        for index, message in enumerate(messages):
            try:
                sent = await message.topic.send(key=message.key, value=message.value)
            except Exception as exc:  # refused outright: the rest waits, in order
                log.warning("sending to %s failed: %s", _name(message.topic), exc)
                unsent = messages[index:]
                break
            confirmations.append((message, sent))
        unconfirmed: list[Outgoing] = []
        for message, sent in confirmations:
            try:
                if sent is not None:
                    await sent
            except Exception as exc:
                log.warning(
                    "the broker did not confirm a message to %s: %s", _name(message.topic), exc
                )
                unconfirmed.append(message)
                continue
            if message.on_sent is not None:
                message.on_sent()
        return unconfirmed + unsent


class DeliveryAborted(Exception):
    """The worker stopped before the broker confirmed a batch's outputs; its inputs were not
    acknowledged and are read again by whichever worker owns them next."""


def _name(topic: Any) -> str:
    get = getattr(topic, "get_topic_name", None)
    return get() if callable(get) else str(getattr(topic, "name", topic))
