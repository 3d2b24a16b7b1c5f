"""Shared message pieces: timestamps, identifiers, frozen parts, the schema version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from framegate.schemas.base import Identifier, Message, Part, Timestamp, utcnow

NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class Stamp(Message):
    at: Timestamp
    name: Identifier = "x"


class Piece(Part):
    value: int


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-28T12:00:00Z",
        "2026-11-28T12:00:00",
        "2026-11-28T14:00:00+02:00",
        "2026-11-28T07:00:00-05:00",
        NOON.timestamp(),
        int(NOON.timestamp()),
        NOON,
        NOON.replace(tzinfo=None),
    ],
    ids=[
        "iso-z",
        "iso-naive",
        "iso-plus-2",
        "iso-minus-5",
        "epoch-float",
        "epoch-int",
        "aware",
        "naive",
    ],
)
def test_every_timestamp_form_is_the_same_instant(value: object) -> None:
    at = Stamp(at=value).at
    assert at == NOON
    assert at.utcoffset() is not None  # never naive


def test_offset_is_kept_not_converted() -> None:
    at = Stamp(at="2026-11-28T14:00:00+02:00").at
    assert at.utcoffset() == timedelta(hours=2)


def test_fractional_epoch_seconds_keep_their_fraction() -> None:
    assert Stamp(at=NOON.timestamp() + 0.25).at == NOON + timedelta(milliseconds=250)


@pytest.mark.parametrize(
    "value",
    [True, False, "yesterday", "", None, [2026, 11, 28]],
    ids=["true", "false", "words", "empty", "none", "list"],
)
def test_non_timestamps_are_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        Stamp(at=value)


@pytest.mark.parametrize(
    ("name", "ok"),
    [("a", True), ("x" * 256, True), ("", False), ("x" * 257, False)],
    ids=["one-char", "256-chars", "empty", "257-chars"],
)
def test_identifier_is_1_to_256_characters(name: str, ok: bool) -> None:
    if ok:
        assert Stamp(at=NOON, name=name).name == name
    else:
        with pytest.raises(ValidationError):
            Stamp(at=NOON, name=name)


def test_parts_are_frozen_and_ignore_unknown_fields() -> None:
    piece = Piece.model_validate({"value": 3, "added_by_a_newer_producer": True})
    assert piece.value == 3 and not hasattr(piece, "added_by_a_newer_producer")
    with pytest.raises(ValidationError):
        piece.value = 4
    assert hash(piece) == hash(Piece(value=3))  # frozen models are hashable values


@pytest.mark.parametrize(
    ("version", "ok"),
    [(1, True), (2, False), (0, False), ("1", False)],
    ids=["v1", "v2", "v0", "text"],
)
def test_only_schema_version_1_is_understood(version: object, ok: bool) -> None:
    if ok:
        assert Stamp(at=NOON, schema_version=version).schema_version == 1
    else:
        with pytest.raises(ValidationError):
            Stamp(at=NOON, schema_version=version)


def test_schema_version_defaults_to_1_and_is_serialised() -> None:
    assert Stamp(at=NOON).model_dump()["schema_version"] == 1


def test_utcnow_is_aware_utc_and_current() -> None:
    now = utcnow()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
