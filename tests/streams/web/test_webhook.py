"""The alert webhook against a real HTTP server on 127.0.0.1: retries, de-duplication,
bounds, and the feed handing it every alert it reads."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web

from framegate.schemas.settings import Settings
from framegate.streams.web.feed import FleetFeed
from framegate.streams.web.views import Web
from framegate.streams.web.webhook import WebhookSender
from framegate.streams.worker.metrics import Metrics
from tests.factories import T0
from tests.streams.factories import alert, view_at
from tests.streams.web.test_actions import record

NOW = (T0 + timedelta(seconds=30)).timestamp()


class Receiver:
    """A local webhook receiver answering with the statuses it is given, then 200."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[str, dict]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.headers["X-Framegate-Delivery"], await request.json()))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}/hook"

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


def sender(url: str, **kwargs) -> tuple[WebhookSender, list[float]]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    kwargs.setdefault("clock", lambda: NOW)
    return WebhookSender(url, backoff_s=0.5, sleep=sleep, **kwargs), waits


def payload(alert_id: str, status: str = "firing") -> dict:
    return json.loads(alert(alert_id, status).model_dump_json())


async def deliver_all(hook: WebhookSender) -> None:
    async with aiohttp.ClientSession() as session:
        await hook.drain(session)


def test_a_500_is_retried_with_backoff_until_the_receiver_takes_it():
    async def scenario():
        receiver = Receiver(500, 503)
        async with receiver as url:
            hook, waits = sender(url)
            assert hook.offer(payload("a1"))
            await deliver_all(hook)
        return receiver, hook, waits

    receiver, hook, waits = asyncio.run(scenario())
    assert [key for key, _ in receiver.received] == ["a1:firing"] * 3
    assert receiver.received[-1][1] == payload("a1")
    assert waits == [0.5, 1.0]
    assert (hook.sent, hook.failed) == (1, 0)


def test_a_redelivered_alert_is_sent_once_and_its_resolution_once():
    async def scenario():
        receiver = Receiver()
        async with receiver as url:
            hook, _ = sender(url)
            offered = [hook.offer(payload(*a)) for a in (("a1",), ("a1",), ("a1", "resolved"))]
            await deliver_all(hook)
            offered.append(hook.offer(payload("a1")))  # read again later
            await deliver_all(hook)
        return receiver, offered

    receiver, offered = asyncio.run(scenario())
    assert offered == [True, False, True, False]
    assert [key for key, _ in receiver.received] == ["a1:firing", "a1:resolved"]


def test_a_client_error_is_final_and_attempts_are_bounded():
    async def scenario():
        refused, broken = Receiver(400), Receiver(*[500] * 10)
        async with refused as url_refused, broken as url_broken:
            first, _ = sender(url_refused)
            first.offer(payload("a1"))
            await deliver_all(first)
            second, waits = sender(url_broken, attempts=3)
            second.offer(payload("a2"))
            await deliver_all(second)
        return refused, broken, first, second, waits

    refused, broken, first, second, waits = asyncio.run(scenario())
    assert len(refused.received) == 1 and (first.sent, first.failed) == (0, 1)
    assert len(broken.received) == 3 and (second.sent, second.failed) == (0, 1)
    assert waits == [0.5, 1.0]


def test_an_unreachable_receiver_is_retried_then_given_up():
    hook, waits = sender("http://127.0.0.1:9/hook", attempts=2)  # nothing listens on port 9
    hook.offer(payload("a1"))
    asyncio.run(deliver_all(hook))
    assert (hook.sent, hook.failed, waits) == (0, 1, [0.5])


def test_the_queue_is_bounded_and_drops_the_oldest():
    hook, _ = sender("http://127.0.0.1:9/hook", queue_size=2)
    for i in range(3):
        hook.offer(payload(f"a{i}"))
    assert hook.pending() == 2 and hook.dropped == 1
    assert [hook.key(a) for a in hook._queue] == ["a1:firing", "a2:firing"]


def test_old_and_acknowledged_alerts_are_not_sent():
    async def scenario():
        receiver = Receiver()
        async with receiver as url:
            late, _ = sender(url, clock=lambda: NOW + 7200)  # the backlog after a restart
            assert not late.offer(payload("old"))
            acked, _ = sender(url, skip=lambda a: a["alert_id"] == "seen")
            acked.offer(payload("seen"))
            acked.offer(payload("new"))
            await deliver_all(acked)
        return receiver, late, acked

    receiver, late, acked = asyncio.run(scenario())
    assert [key for key, _ in receiver.received] == ["new:firing"]
    assert late.skipped == 1 and acked.skipped == 1


def test_the_feed_offers_every_alert_it_reads_once_unless_acknowledged():
    async def scenario():
        receiver = Receiver()
        async with receiver as url:
            web_ = Web(Settings(webhook_url=url), Metrics())
            web_.fleet.clock = web_.fleet.operations.clock = lambda: NOW
            web_.webhook.clock = lambda: NOW
            value = alert("a1").model_dump_json().encode()
            await web_.feed.handle("alerts", [value, value])  # a redelivery
            ack = record("acknowledge", alert_id="a2").model_dump_json().encode()
            await web_.feed.handle("audit", [ack])  # acknowledged before it was sent
            await web_.feed.handle("alerts", [alert("a2").model_dump_json().encode()])
            await deliver_all(web_.webhook)
        return receiver

    receiver = asyncio.run(scenario())
    assert [key for key, _ in receiver.received] == ["a1:firing"]


def test_no_url_no_webhook():
    assert Web(Settings(), Metrics()).webhook is None
    assert FleetFeed(Settings(), view_at(0.0)).alert_listeners == []


@pytest.mark.parametrize("bad", [{"queue_size": 0}, {"attempts": 0}, {"remember": 0}])
def test_bounds_must_be_positive(bad):
    with pytest.raises(ValueError):
        WebhookSender("http://127.0.0.1:9/", **bad)
