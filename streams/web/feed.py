"""Reads framegate's output topics into a :class:`~framegate.streams.web.fleetview.FleetView`.

Every worker runs one :class:`FleetFeed` (started by :class:`.views.Web`), and so does
``framegate status``. It is a plain aiokafka consumer with no group (``group_id=None``) that
is assigned every partition of the quality, relabel, alerts, dead-letter and audit topics, so each
worker's dashboard shows the whole fleet whichever input partitions the worker owns. On
start it reads back a bounded backlog (the last ``backfill[topic]`` messages of each
partition) so a dashboard opened after a restart is not empty. It commits nothing and never
writes; it cannot disturb the consumer group that does the work.

Live subscribers (the dashboard's server-sent events) get each new alert and flagged frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import cv2
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import TypeAdapter, ValidationError

from framegate.detectors.decode import read_size
from framegate.schemas import Alert, DeadLetter, InvalidMessage, QualityReport, RelabelRequest
from framegate.schemas.actions import AuditRecord
from framegate.schemas.frames import Annotation
from framegate.schemas.settings import Settings
from framegate.streams.kafka.clients import reader
from framegate.streams.media import encode_jpeg
from framegate.streams.web.explorer import INSPECTOR_QUALITY, inspector_pixels
from framegate.streams.web.fleetview import FleetView, thumbnail_of
from framegate.streams.worker.intake import image_bytes, parse

log = logging.getLogger(__name__)

OUTPUT_TOPICS = ("quality", "relabel", "alerts", "deadletter", "audit")
BACKFILL: Mapping[str, int] = {
    "quality": 2000,
    "relabel": 100,
    "alerts": 500,
    "deadletter": 200,
    "audit": 2000,
}
"""Messages per partition read back on start, per topic."""

Event = tuple[str, dict[str, Any]]
ANNOTATIONS = TypeAdapter(list[Annotation])
Images = tuple[bytes | None, bytes | None, tuple[int, int] | None]


def annotations_of(value: bytes | None) -> list[Annotation]:
    """The ground truth a relabel request carries (``annotations``, as on its frame), if any.

    Read from the message's JSON so that a producer sending them is shown without a schema
    change; malformed annotations are dropped, never fatal.
    """
    try:
        found = json.loads(value or b"null")
        return ANNOTATIONS.validate_python(found.get("annotations") or [])
    except (ValueError, AttributeError, ValidationError):
        return []


class FleetFeed:
    """One group-less consumer of the output topics, and the subscribers of its events.

    Parameters
    ----------
    settings
        Where the broker and the topics are.
    view
        The model to fill.
    backfill
        Messages per partition to read back on start, by topic name.
    queue_size
        Events buffered per subscriber; a subscriber that falls further behind loses the
        oldest.
    thumbnails
        Whether flagged frames get a thumbnail (the terminal has no use for one).
    """

    def __init__(
        self,
        settings: Settings,
        view: FleetView,
        *,
        backfill: Mapping[str, int] = BACKFILL,
        queue_size: int = 256,
        thumbnails: bool = True,
    ) -> None:
        self.settings = settings
        self.view = view
        self.backfill = dict(backfill)
        self.queue_size = queue_size
        self.thumbnails = thumbnails
        self.skipped = 0
        self._names = {settings.topic(name): name for name in OUTPUT_TOPICS}
        self._consumer: AIOKafkaConsumer | None = None
        self._next: dict[TopicPartition, int] = {}
        self._subscribers: set[asyncio.Queue[Event | None]] = set()
        #: Called with every alert read (as the view keeps it), e.g. the webhook's ``offer``.
        self.alert_listeners: list[Callable[[dict[str, Any]], Any]] = []

    # -- subscribers ----------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[Event | None]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue(self.queue_size)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event | None]) -> None:
        self._subscribers.discard(queue)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        self._offer((kind, data))

    def close_subscribers(self) -> None:
        """Ends every live stream (a ``None`` in each queue), so shutdown never waits on one."""
        self._offer(None)

    def _offer(self, item: Event | None) -> None:
        """Into every subscriber's queue; a slow one loses its oldest item, never blocks us."""
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(item)

    # -- consuming ------------------------------------------------------------------------

    async def start(self) -> dict[TopicPartition, int]:
        """Connects, assigns every output partition, seeks; returns the end offsets seen."""
        consumer = reader(self.settings, client_id="framegate-fleetview")
        await consumer.start()
        self._consumer = consumer
        await consumer.topics()  # fetches metadata for every topic
        partitions = [
            TopicPartition(topic, partition)
            for topic in self._names
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            raise RuntimeError(f"none of the output topics exist yet: {', '.join(self._names)}")
        consumer.assign(partitions)
        beginning = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        for tp in partitions:
            if tp in self._next:  # a restart after an error: carry on where we were
                consumer.seek(tp, self._next[tp])
                continue
            # The embedded broker's "latest" may be off; a wrong end only changes how much
            # backlog is read, never what is shown afterwards.
            back = self.backfill.get(self._names[tp.topic], 0)
            consumer.seek(tp, max(beginning.get(tp, 0), end.get(tp, 0) - back))
        return end

    async def stop(self) -> None:
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            await consumer.stop()

    async def poll(self, timeout_ms: int = 500) -> int:
        """Reads what is there (waiting up to ``timeout_ms``); returns the records handled."""
        assert self._consumer is not None, "call start() first"
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=2000)
        handled = 0
        for tp, records in batches.items():
            await self.handle(self._names[tp.topic], [r.value for r in records])
            self._next[tp] = records[-1].offset + 1
            handled += len(records)
        return handled

    async def handle(self, topic: str, values: list[bytes | None]) -> None:
        """Feeds one topic's messages to the view (and the subscribers), oldest first."""
        if topic == "quality":
            for report in self._parse(QualityReport, values):
                self.view.add_report(report)
        elif topic == "alerts":
            for alert in self._parse(Alert, values):
                item = self.view.add_alert(alert)
                self.publish("alert", item)
                for listener in self.alert_listeners:
                    listener(item)
        elif topic == "audit":
            for record in self._parse(AuditRecord, values):
                self.publish("audit", self.view.operations.add(record))
        elif topic == "deadletter":
            for record in self._parse(DeadLetter, values):
                self.view.add_dead_letter(record)
        elif topic == "relabel":
            kept = [(v, self._parse(RelabelRequest, [v])) for v in values]
            requests = [(v, parsed[0]) for v, parsed in kept if parsed]
            # Only the newest requests stay on the dashboard; only they get images.
            keep = len(requests) - max(self.view.flagged_size, self.view.explorer.images_size)
            loop = asyncio.get_running_loop()
            for index, (value, request) in enumerate(requests):
                thumbnail = inspector = size = None
                if self.thumbnails and index >= keep:
                    thumbnail, inspector, size = await loop.run_in_executor(
                        None, self._images, request
                    )
                self.view.explorer.add_flagged(request, annotations_of(value), inspector, size)
                self.publish("flagged", self.view.add_relabel(request, thumbnail))

    def _parse(self, model: type[Any], values: list[bytes | None]) -> list[Any]:
        parsed = []
        for value in values:
            try:
                parsed.append(parse(model, value))
            except InvalidMessage as exc:
                self.skipped += 1
                log.debug(
                    "skipping a %s message the dashboard cannot read: %s", model.__name__, exc
                )
        return parsed

    def _images(self, request: RelabelRequest) -> Images:
        """Thumbnail, inspector image and source (width, height) of a flagged frame, from
        its inline data or allowed ``file://`` URI only (the intake's rule)."""
        try:
            data = image_bytes(request.image, self.settings)
            width, height, _ = read_size(data, max_pixels=self.settings.max_pixels)
            # one decode serves both: the thumbnail is the inspector image made small
            pixels = inspector_pixels(data, max_pixels=self.settings.max_pixels)
            return thumbnail_of(pixels), encode_jpeg(pixels, INSPECTOR_QUALITY), (width, height)
        except (InvalidMessage, ValueError, OSError, cv2.error) as exc:  # listed, not shown
            log.debug("no images for %s: %s", request.frame_id, exc)
            return None, None, None

    async def run(self, *, retry_s: float = 5.0) -> None:
        """Follows the topics until cancelled; reconnects after any error."""
        while True:
            try:
                await self.start()
                while True:
                    await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dashboard feed failed; retrying in %.0f s", retry_s)
            finally:
                with contextlib.suppress(Exception):
                    await self.stop()
            await asyncio.sleep(retry_s)

    async def catch_up(self, *, idle_s: float = 1.5, timeout_s: float = 30.0) -> None:
        """Reads the backlog once: until every partition reaches its end, or nothing comes."""
        end = await self.start()
        try:
            deadline = time.monotonic() + timeout_s
            last_record = time.monotonic()
            while time.monotonic() < deadline:
                if await self.poll(timeout_ms=200):
                    last_record = time.monotonic()
                assert self._consumer is not None
                positions = {tp: await self._consumer.position(tp) for tp in end}
                if all(positions[tp] >= offset for tp, offset in end.items()):
                    return
                if time.monotonic() - last_record > idle_s:
                    return
        finally:
            await self.stop()
