"""A self-starting reference's pool: warm-up, lag, schedule, state."""

from __future__ import annotations

import json

import pytest

from framegate.detectors.drift import DriftConfig
from framegate.detectors.drift.pool import ReferencePool

CONFIG = DriftConfig(warmup_frames=100, reference_frames=200, reference_lag_frames=20)


def test_the_warm_up_is_due_for_a_first_estimate_then_grows_by_the_factor() -> None:
    pool = ReferencePool(CONFIG)
    pool.learn(1.0, 99)
    assert not pool.due
    pool.learn(2.0)
    assert pool.due and pool.size == 100
    pool.estimated()
    for i in range(20 + 24):
        pool.offer(float(i))
    assert pool.size == 124 and not pool.due  # 1.25 x 100 = 125
    pool.offer(0.0)
    assert pool.due


def test_values_join_late_and_what_waits_is_dropped_when_a_change_fires() -> None:
    pool = ReferencePool(CONFIG)
    pool.learn(0.0, 100)
    for i in range(30):
        pool.offer(float(i))
    assert pool.size == 110 and pool.pending == 20  # 10 values are old enough
    assert list(pool.values)[100:] == [float(i) for i in range(10)]
    pool.discard_pending()  # a change fired: what waits may hold its start
    assert pool.pending == 0 and pool.size == 110


def test_the_pool_stops_at_its_full_size() -> None:
    pool = ReferencePool(CONFIG)
    pool.learn(0.0, 100)
    for i in range(400):
        pool.offer(float(i))
        if pool.due:
            pool.estimated()
    assert pool.size == 200 and pool.full


@pytest.mark.parametrize("offered", [0, 5, 50], ids=lambda n: f"offered={n}")
def test_state_round_trips_through_json(offered: int) -> None:
    pool = ReferencePool(CONFIG)
    pool.learn(0.5, 100)
    pool.estimated()
    for i in range(offered):
        pool.offer(i * 0.1)
    again = ReferencePool.from_state(json.loads(json.dumps(pool.state())), CONFIG)
    for p in (pool, again):
        for i in range(30):
            p.offer(i * 0.3)
    assert json.dumps(again.state()) == json.dumps(pool.state())
