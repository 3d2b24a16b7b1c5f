"""Camera liveness episodes from times alone (``detectors/liveness.py``)."""

from __future__ import annotations

import json

import pytest

from framegate.detectors.liveness import LAGGING, OFFLINE, Liveness


def steady(live: Liveness, n: int, *, every: float = 1.0, delay: float = 0.2, start: int = 0):
    events = []
    for i in range(start, start + n):
        events += live.frame(f"f{i}", captured_at=i * every, arrived_at=i * every + delay)
    return events


def test_offline_waits_for_several_usual_intervals_and_the_minimum():
    live = Liveness(offline_intervals=5, offline_min_s=3.0)
    assert steady(live, 10, every=2.0) == []  # usual interval 2 s -> offline after 10 s
    last = 9 * 2.0 + 0.2
    assert live.tick(now=last + 9.0) == []  # a short gap pages no one
    [event] = live.tick(now=last + 10.5)
    assert (event.metric, event.status, event.fired_frame_id) == (OFFLINE, "firing", "f9")
    assert event.limit == pytest.approx(10.0) and event.value == pytest.approx(10.5)
    assert live.tick(now=last + 60) == []  # one alert per episode
    [back] = live.frame("f10", captured_at=100.0, arrived_at=100.1)
    assert (back.status, back.fired_frame_id) == ("resolved", "f9")
    assert event.to_alert("c").alert_id == back.to_alert("c").alert_id


def test_the_minimum_silence_applies_to_fast_cameras():
    live = Liveness(offline_min_s=30.0)
    steady(live, 50, every=0.1)
    last = 49 * 0.1 + 0.2
    assert live.tick(now=last + 29.0) == []
    assert [e.status for e in live.tick(now=last + 31.0)] == ["firing"]


def test_lagging_beyond_the_usual_delay_fires_and_clears():
    live = Liveness(lag_s=10.0, lag_frames=3)
    # a camera whose clock is 4 days behind is not lagging: that is its usual delay
    assert steady(live, 20, delay=4 * 86400.0) == []
    late = steady(live, 3, delay=4 * 86400.0 + 25.0, start=20)
    assert [(e.metric, e.status, e.frame_id) for e in late] == [(LAGGING, "firing", "f22")]
    assert live.lagging
    assert steady(live, 2, delay=4 * 86400.0 + 1.0, start=23) == []
    back = steady(live, 1, delay=4 * 86400.0 + 1.0, start=25)
    assert [(e.status, e.fired_frame_id) for e in back] == [("resolved", "f22")]
    assert not live.lagging


def test_late_frames_that_are_not_in_a_row_do_not_fire():
    live = Liveness(lag_s=10.0, lag_frames=3)
    steady(live, 5)
    events = []
    for i in range(5, 20):
        delay = 30.0 if i % 2 else 0.2
        events += live.frame(f"f{i}", captured_at=float(i), arrived_at=i + delay)
    assert events == []


def test_state_round_trips_through_json_and_decides_alike():
    a = Liveness(offline_min_s=5.0, lag_s=5.0, lag_frames=2)
    steady(a, 10)
    a.frame("f10", captured_at=10.0, arrived_at=30.0)
    b = Liveness.from_state(
        json.loads(json.dumps(a.state())), offline_min_s=5.0, lag_s=5.0, lag_frames=2
    )
    for live in (a, b):
        assert [e.status for e in live.frame("f11", captured_at=11.0, arrived_at=31.0)] == [
            "firing"
        ]
    assert [e.to_alert("c") for e in a.tick(now=40.0)] == [
        e.to_alert("c") for e in b.tick(now=40.0)
    ]


def test_a_new_owner_counts_silence_from_when_it_took_over():
    live = Liveness(offline_min_s=10.0)
    steady(live, 5)
    live.watch_from(100.0)
    assert live.tick(now=105.0) == []
    assert [e.status for e in live.tick(now=111.0)] == ["firing"]


@pytest.mark.parametrize(
    "params",
    [{"offline_intervals": 1.0}, {"offline_min_s": 0.0}, {"lag_s": -1.0}, {"lag_frames": 0}],
    ids=["intervals", "min_s", "lag_s", "lag_frames"],
)
def test_bad_hyperparameters_are_refused(params):
    with pytest.raises(ValueError):
        Liveness(**params)
