"""The one error the dead-letter path understands."""

from __future__ import annotations

import pytest

from framegate.schemas.deadletter import DeadLetterReason
from framegate.schemas.errors import FramegateError, InvalidMessage


@pytest.mark.parametrize("reason", list(DeadLetterReason), ids=str)
def test_invalid_message_carries_its_reason_and_message(reason: DeadLetterReason) -> None:
    error = InvalidMessage(reason, "what is wrong")
    assert error.reason == reason and error.message == "what is wrong"
    assert str(error) == f"{reason.value}: what is wrong"


def test_invalid_message_is_a_framegate_error() -> None:
    with pytest.raises(FramegateError) as caught:
        raise InvalidMessage(DeadLetterReason.EMPTY_IMAGE, "no bytes")
    assert isinstance(caught.value, Exception)
    assert caught.value.reason == "empty_image"  # a StrEnum compares equal to its value
