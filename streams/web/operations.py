"""What operators did, as every dashboard sees it: read back from ``framegate.audit``.

:class:`Operations` is filled by the dashboard's feed with the audit records the workers
publish (:mod:`framegate.streams.worker.control`); it marks alerts acknowledged or muted, so
every worker's dashboard shows the same state, after a reload too. It also checks and
builds the actions a dashboard POSTs (:func:`action_from_request`), safe against
cross-site requests (:func:`same_origin`). Nothing here knows Kafka or asyncio.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from framegate.schemas.actions import Action, AuditRecord

#: The header a dashboard's ``fetch`` sets; a cross-site form cannot, and a cross-site
#: script cannot without a CORS preflight, which this server never grants.
REQUESTED_WITH = "X-Requested-With"
REQUESTED_WITH_VALUE = "framegate"
ACTION_FIELDS = ("kind", "camera_id", "alert_id", "check", "metric", "duration_s", "note")


def same_origin(headers: Mapping[str, str], host: str | None) -> str | None:
    """None when a state-changing request may be honoured, else why not.

    It must carry ``X-Requested-With: framegate``; an ``Origin`` (or, without one, a
    ``Referer``) must name this host; ``Sec-Fetch-Site``, when sent, must not be cross-site.
    """
    if headers.get(REQUESTED_WITH) != REQUESTED_WITH_VALUE:
        return f"missing header {REQUESTED_WITH}: {REQUESTED_WITH_VALUE}"
    site = headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return f"cross-site request ({site})"
    origin = headers.get("Origin") or headers.get("Referer")
    if origin is not None and (origin == "null" or urlsplit(origin).netloc != host):
        return f"origin {origin!r} is not this dashboard"
    return None


def action_from_request(
    body: Any, *, actor: str, clock: Callable[[], float] = time.time
) -> Action | str:
    """The :class:`Action` a POSTed JSON body asks for, or why it is refused."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    unknown = sorted(set(body) - set(ACTION_FIELDS))
    if unknown:
        return f"unknown fields: {', '.join(unknown)}"
    try:
        return Action(
            action_id=str(uuid.uuid4()),
            requested_at=datetime.fromtimestamp(clock(), tz=UTC),
            actor=actor,
            **body,
        )
    except ValidationError as exc:
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


class Operations:
    """Acknowledged alerts, mutes and the latest audit records.

    Examples
    --------
    >>> ops = Operations(clock=lambda: 100.0)
    >>> _ = ops.add(AuditRecord(action_id="a1", kind="acknowledge", camera_id="c", actor="me",
    ...     requested_at=99, applied_at=99.5, worker="w", outcome="applied", alert_id="x"))
    >>> ops.mark([{"alert_id": "x", "camera_id": "c", "metric": "frozen"}])[0]["acknowledged"]
    True
    """

    def __init__(self, *, keep: int = 200, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._acknowledged: dict[str, dict[str, Any]] = {}
        self._mutes: dict[tuple[str, str], float] = {}
        self._records: deque[dict[str, Any]] = deque(maxlen=keep)
        self._keep_acks = 10 * keep

    def add(self, record: AuditRecord) -> dict[str, Any]:
        """Records one audit record; returns what the live feed sends about it."""
        item = record.model_dump(mode="json")
        self._records.append(item)
        if record.outcome != "applied":
            return item
        if record.kind == "acknowledge" and record.alert_id:
            self._acknowledged[record.alert_id] = item
            while len(self._acknowledged) > self._keep_acks:
                self._acknowledged.pop(next(iter(self._acknowledged)))
        elif record.kind == "mute" and record.check and record.muted_until:
            self._mutes[(record.camera_id, record.check)] = record.muted_until.timestamp()
        elif record.kind == "unmute" and record.check:
            self._mutes.pop((record.camera_id, record.check), None)
        return item

    def muted(self) -> list[dict[str, Any]]:
        now = self.clock()
        return [
            {"camera_id": camera, "check": check, "until": until}
            for (camera, check), until in sorted(self._mutes.items())
            if until > now
        ]

    def mark(self, alerts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Copies of ``alerts`` with ``acknowledged`` (by whom) and ``muted``."""
        now = self.clock()
        marked = []
        for alert in alerts:
            ack = self._acknowledged.get(alert.get("alert_id", ""))
            until = self._mutes.get((alert.get("camera_id") or "", alert.get("metric", "")))
            marked.append(
                {
                    **alert,
                    "acknowledged": ack is not None,
                    "acknowledged_by": ack["actor"] if ack else None,
                    "muted": until is not None and until > now,
                }
            )
        return marked

    def records(self) -> list[dict[str, Any]]:
        """The latest audit records, newest first."""
        return list(reversed(self._records))
