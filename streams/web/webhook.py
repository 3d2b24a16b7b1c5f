"""An optional webhook for alerts: each alert POSTed as JSON to ``FRAMEGATE_WEBHOOK_URL``.

The dashboard's feed (:mod:`framegate.streams.web.feed`) hands every alert it reads from
``framegate.alerts`` to :meth:`WebhookSender.offer`; :meth:`WebhookSender.run` (a worker task)
delivers them in order:

- one POST per alert, the alert's JSON as published, with ``X-Framegate-Delivery:
  <alert_id>:<status>`` (the same for a redelivery, so a receiver can de-duplicate too);
- de-duplicated by ``alert_id`` and ``status``: a redelivered alert, or one read again after
  a restart, is not sent twice (the last ``remember`` keys are kept); alerts older than
  ``max_age_s`` (the feed's backlog after a restart) and acknowledged alerts are not sent;
- retried after a network error, a timeout, a 5xx, 408 or 429, with exponential backoff
  (``backoff_s`` doubling up to ``max_backoff_s``), ``attempts`` times in all; another 4xx
  is final;
- a bounded queue: when the receiver is down longer than the queue lasts, the oldest waiting
  alerts are dropped (counted in ``dropped``), never the worker's memory.

Every worker whose settings name a URL sends what its dashboard reads, which is every alert of
the fleet: set the URL on one worker, or de-duplicate on the receiving side by the header.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429})


class WebhookSender:
    """Delivers alerts to one URL; see the module's description."""

    def __init__(
        self,
        url: str,
        *,
        queue_size: int = 1000,
        attempts: int = 6,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        timeout_s: float = 10.0,
        remember: int = 10_000,
        max_age_s: float = 3600.0,
        skip: Callable[[dict[str, Any]], bool] = lambda alert: False,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if queue_size < 1 or attempts < 1 or remember < 1:
            raise ValueError("queue_size, attempts and remember must be at least 1")
        self.url = url
        self.attempts = attempts
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.remember = remember
        self.max_age_s = max_age_s
        self.skip = skip
        self.clock, self.sleep = clock, sleep
        self._queue: deque[dict[str, Any]] = deque(maxlen=queue_size)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._ready = asyncio.Event()
        self.sent = self.failed = self.dropped = self.skipped = 0

    @staticmethod
    def key(alert: dict[str, Any]) -> str:
        return f"{alert['alert_id']}:{alert.get('status', 'firing')}"

    def offer(self, alert: dict[str, Any]) -> bool:
        """Queues ``alert`` (as published) unless it was offered before or is too old."""
        key = self.key(alert)
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > self.remember:
            self._seen.popitem(last=False)
        try:
            age = self.clock() - datetime.fromisoformat(alert["at"]).timestamp()
        except (KeyError, TypeError, ValueError):
            age = 0.0
        if age > self.max_age_s:
            self.skipped += 1
            return False
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
            log.warning("webhook queue full: dropping alert %s", self.key(self._queue[0]))
        self._queue.append(alert)
        self._ready.set()
        return True

    def pending(self) -> int:
        return len(self._queue)

    async def run(self) -> None:
        """Delivers queued alerts until cancelled."""
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            while True:
                if not self._queue:
                    self._ready.clear()
                    await self._ready.wait()
                    continue
                await self.deliver(session, self._queue.popleft())

    async def drain(self, session: aiohttp.ClientSession) -> None:
        """Delivers what is queued now, then returns (for tests and shutdown)."""
        while self._queue:
            await self.deliver(session, self._queue.popleft())

    async def deliver(self, session: aiohttp.ClientSession, alert: dict[str, Any]) -> bool:
        """POSTs one alert, retrying with backoff; True once the receiver took it."""
        key = self.key(alert)
        for attempt in range(self.attempts):
            if self.skip(alert):  # acknowledged meanwhile
                self.skipped += 1
                return False
            if attempt:
                await self.sleep(min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)))
            try:
                async with session.post(
                    self.url, json=alert, headers={"X-Framegate-Delivery": key}
                ) as response:
                    with contextlib.suppress(aiohttp.ClientError):
                        await response.read()
                    if 200 <= response.status < 300:
                        self.sent += 1
                        return True
                    if response.status < 500 and response.status not in RETRY_STATUSES:
                        log.warning("webhook refused alert %s: HTTP %d", key, response.status)
                        break
                    why = f"HTTP {response.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                why = f"{type(exc).__name__}: {exc}"
            log.info("webhook delivery of %s failed (%s), attempt %d", key, why, attempt + 1)
        self.failed += 1
        return False
