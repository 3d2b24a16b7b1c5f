"""The root of framegate's exceptions and the one error the dead-letter path understands."""

from __future__ import annotations


class FramegateError(Exception):
    """Root of every error framegate raises on purpose."""


class InvalidMessage(FramegateError):
    """A message on an input topic cannot be processed.

    The worker publishes it to the dead-letter topic with ``reason`` and goes on with the
    next message. Operator: fix the producer named by the record's key; nothing is lost,
    the original payload (truncated) is in the dead-letter record.

    Parameters
    ----------
    reason
        A stable, machine-readable code (see :class:`framegate.schemas.DeadLetterReason`).
    message
        What is wrong, in words a producer's developer can act on.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
