"""`framegate.deadletter`: every input that could not be processed, and why."""

from __future__ import annotations

from enum import StrEnum

from framegate.schemas.base import Message, Timestamp


class DeadLetterReason(StrEnum):
    """Why an input was not processed; stable codes, counted in ``framegate_deadletter_total``."""

    INVALID_JSON = "invalid_json"
    MESSAGE_TOO_LARGE = "message_too_large"
    TOO_DEEPLY_NESTED = "too_deeply_nested"
    NON_FINITE_NUMBER = "non_finite_number"
    NUMBER_OUT_OF_RANGE = "number_out_of_range"
    INVALID_TEXT = "invalid_text"
    OVER_LIMIT = "over_limit"
    INVALID_FIELDS = "invalid_fields"
    UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
    BAD_BASE64 = "bad_base64"
    EMPTY_IMAGE = "empty_image"
    NOT_AN_IMAGE = "not_an_image"
    TRUNCATED_IMAGE = "truncated_image"
    TOO_MANY_PIXELS = "too_many_pixels"
    URI_NOT_ALLOWED = "uri_not_allowed"
    URI_UNREADABLE = "uri_unreadable"
    BOX_OUTSIDE_IMAGE = "box_outside_image"
    CAMERA_LIMIT = "camera_limit"
    PROCESSING_FAILED = "processing_failed"


class DeadLetter(Message):
    """The original payload (base64, truncated), where it came from and what was wrong."""

    source_topic: str
    partition: int
    offset: int
    key: str | None
    stage: str
    reason: DeadLetterReason
    error: str
    payload_size: int
    payload_base64: str
    truncated: bool
    at: Timestamp
