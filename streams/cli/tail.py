"""`framegate tail`: one readable line per message, with filters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import click

from framegate.schemas.checks import SEVERITY_RANK
from framegate.schemas.settings import Settings
from framegate.streams.kafka.clients import reader


@dataclass(frozen=True)
class Filters:
    camera: str | None = None
    check: str | None = None
    severity: str | None = None

    def accept(self, message: dict[str, Any]) -> bool:
        if self.camera and message.get("camera_id") != self.camera:
            return False
        issues = message.get("issues") or message.get("reasons") or []
        if self.check and not any(i.get("check") == self.check for i in issues):
            return False
        if self.severity:
            floor = SEVERITY_RANK[self.severity]
            levels = [i.get("severity", "info") for i in issues] or [
                message.get("severity", "info")
            ]
            if max(SEVERITY_RANK.get(level, 0) for level in levels) < floor:
                return False
        return True


def _issues(issues: list[dict[str, Any]]) -> str:
    return ", ".join(f"{i['check']}({i['score']:.2f},{i['severity']})" for i in issues) or "ok"


def render(topic: str, message: dict[str, Any]) -> str:
    """One line a person can read."""
    camera = message.get("camera_id") or "fleet"
    if topic == "frames":
        image = message.get("image", {})
        where = image.get("uri") or f"{len(image.get('data') or '') * 3 // 4} bytes inline"
        return f"{message.get('captured_at')} {camera} {message.get('frame_id')} {where}"
    if topic == "predictions":
        kind = "classes" if message.get("classes") is not None else "detections"
        return f"{camera} {message.get('frame_id')} {message.get('model')} {kind}"
    if topic == "quality":
        metrics = message.get("metrics", {})
        shown = " ".join(f"{k}={v:.3g}" for k, v in list(metrics.items())[:4])
        return (
            f"{message.get('captured_at')} {camera} {message.get('frame_id')} "
            f"{_issues(message.get('issues', []))}  [{shown}]"
        )
    if topic == "relabel":
        return (
            f"{camera} {message.get('frame_id')} priority={message.get('priority'):.2f} "
            f"{_issues(message.get('reasons', []))} id={message.get('request_id')}"
        )
    if topic == "alerts":
        return (
            f"{message.get('at')} [{message.get('severity')}] {message.get('status')} "
            f"{message.get('kind')} {camera} {message.get('metric')} "
            f"({message.get('detector')}) {message.get('detail', '')}"
        )
    if topic == "deadletter":
        return (
            f"{message.get('at')} {message.get('source_topic')}[{message.get('partition')}]"
            f"@{message.get('offset')} key={message.get('key')} {message.get('reason')}: "
            f"{message.get('error')}"
        )
    return json.dumps(message)


async def tail_topic(
    settings: Settings,
    topic: str,
    filters: Filters,
    *,
    from_beginning: bool,
    follow: bool,
    as_json: bool,
    limit: int,
) -> int:
    consumer = reader(
        settings,
        settings.topic(topic),
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    shown = 0
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=1000)
            if not batches and not follow:
                break
            for records in batches.values():
                for record in records:
                    try:
                        message = json.loads(record.value)
                    except (TypeError, ValueError):
                        click.echo(f"<not JSON: {len(record.value or b'')} bytes>")
                        continue
                    if not isinstance(message, dict) or not filters.accept(message):
                        continue
                    click.echo(json.dumps(message) if as_json else render(topic, message))
                    shown += 1
                    if limit and shown >= limit:
                        return shown
    finally:
        await consumer.stop()
    return shown
