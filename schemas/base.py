"""Shared pieces of every message model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema


def _epoch_or_iso(value: object) -> object:
    # Cameras send either ISO 8601 or epoch seconds; both mean UTC when no zone is given.
    if isinstance(value, bool):
        raise ValueError("a timestamp is ISO 8601 text or epoch seconds, not a boolean")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    return value


def _assume_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


#: A time: ISO 8601 text or epoch seconds in, ISO 8601 text (UTC) out.
Timestamp = Annotated[
    datetime,
    BeforeValidator(_epoch_or_iso),
    AfterValidator(_assume_utc),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
            "description": "ISO 8601 (a time without a zone is UTC), or epoch seconds",
        }
    ),
]
#: An id (frame, camera, label, model): 1-256 characters, none of them a control character
#: (they would corrupt logs, metric labels and terminals).
Identifier = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]
Box = tuple[float, float, float, float]


class Part(BaseModel):
    """Base of every nested part of a message: frozen, lenient about extra fields."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Message(Part):
    """Base of every top-level message: a ``schema_version`` this release understands."""

    schema_version: Literal[1] = 1


def utcnow() -> datetime:
    return datetime.now(tz=UTC)
