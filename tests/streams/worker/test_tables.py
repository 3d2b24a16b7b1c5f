"""Checkpoints: a key is written when it changed and is due, never again while unchanged."""

from __future__ import annotations

from framegate.streams.worker.tables import Checkpoints
from tests.streams.worker.fakes import Event, Message


class Counter:
    """A live object whose state counts how often it was asked for."""

    def __init__(self) -> None:
        self.asked = 0

    def state(self) -> dict:
        self.asked += 1
        return {"asked": self.asked}


def test_an_unchanged_key_is_not_written_again():
    table: dict = {}
    checkpoints = Checkpoints(table, interval_s=0.0)
    live = {"cam": Counter()}
    checkpoints.seen("cam", Event(Message("t", 0, 0, b"cam", b"")))
    checkpoints.save(live, ["cam"])
    checkpoints.save(live, ["cam"])  # nothing new since: no second write
    assert table == {"cam": {"asked": 1}}
    checkpoints.changed("cam")  # a timer changed it
    checkpoints.save(live, ["cam"])
    assert table == {"cam": {"asked": 2}}
    checkpoints.save(live, ["cam"], force=True)  # a hand-over writes whatever its state
    assert table == {"cam": {"asked": 3}}


def test_a_changed_key_waits_for_its_interval():
    table: dict = {}
    checkpoints = Checkpoints(table, interval_s=3600.0)
    live = {"cam": Counter()}
    event = Event(Message("t", 0, 0, b"cam", b""))
    checkpoints.seen("cam", event)
    checkpoints.save(live, ["cam"])  # a new key is written at once
    checkpoints.seen("cam", event)
    checkpoints.save(live, ["cam"])  # changed, but not due
    assert table == {"cam": {"asked": 1}}
