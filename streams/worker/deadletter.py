"""Dead-letter records: nothing that could not be processed is dropped silently."""

from __future__ import annotations

import base64
import logging

from framegate.schemas import DeadLetter, InvalidMessage
from framegate.schemas.base import utcnow
from framegate.schemas.deadletter import DeadLetterReason
from framegate.schemas.settings import Settings

log = logging.getLogger(__name__)


def dead_letter(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    payload: bytes | None,
    stage: str,
    error: InvalidMessage | Exception,
    settings: Settings,
) -> DeadLetter:
    """The record for one failed input; logs topic, partition and offset for the operator."""
    if isinstance(error, InvalidMessage):
        reason, message = DeadLetterReason(error.reason), error.message
    else:
        reason, message = DeadLetterReason.PROCESSING_FAILED, f"{type(error).__name__}: {error}"
    payload = payload or b""
    kept = payload[: settings.deadletter_payload_bytes]
    log.warning(
        "dead letter %s[%d]@%d %s: %s",
        topic,
        partition,
        offset,
        reason,
        message[:200],
        # an unexpected failure is a bug to fix: keep its traceback for the operator
        exc_info=error if reason == DeadLetterReason.PROCESSING_FAILED else None,
    )
    return DeadLetter(
        source_topic=topic,
        partition=partition,
        offset=offset,
        key=key.decode("utf-8", "replace") if key is not None else None,
        stage=stage,
        reason=reason,
        error=message,
        payload_size=len(payload),
        payload_base64=base64.b64encode(kept).decode("ascii"),
        truncated=len(kept) < len(payload),
        at=utcnow(),
    )
