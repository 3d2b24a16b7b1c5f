"""The frame/prediction join: either order, expiry, bounds, round trip."""

from __future__ import annotations

import json

import pytest

from framegate.detectors.prediction_join import PredictionJoin
from framegate.schemas import Prediction


def test_prediction_first_then_frame():
    join = PredictionJoin(window_s=5.0)
    assert join.add_prediction("f1", "p1", now=10.0) is None
    hit = join.add_frame("f1", "frame1", now=12.0)
    assert (hit.frame, hit.prediction, hit.waited_s) == ("frame1", "p1", 2.0)
    assert len(join) == 0 and join.expire(now=100.0) == []


def test_frame_first_then_prediction():
    join = PredictionJoin(window_s=5.0)
    assert join.add_frame("f1", "frame1", now=10.0) is None
    hit = join.add_prediction("f1", "p1", now=10.5)
    assert (hit.frame, hit.prediction) == ("frame1", "p1")


def test_unmatched_entries_expire_and_are_reported():
    join = PredictionJoin(window_s=5.0)
    join.add_frame("a", "fa", now=0.0)
    join.add_prediction("b", "pb", now=2.0)
    join.add_frame("c", "fc", now=4.0)
    assert join.expire(now=4.9) == []
    first = join.expire(now=7.0)
    assert [(e.frame_id, e.side, e.item, e.reason) for e in first] == [
        ("a", "frame", "fa", "window"),
        ("b", "prediction", "pb", "window"),
    ]
    assert "c" in join and join.waiting("frame") == 1
    # a partner that arrives after expiry waits on its own (and expires in turn)
    assert join.add_prediction("a", "pa", now=7.5) is None


def test_redelivery_does_not_extend_the_window():
    join = PredictionJoin(window_s=5.0)
    join.add_frame("a", "v1", now=0.0)
    join.add_frame("a", "v2", now=4.0)
    [gone] = join.expire(now=5.0)
    assert (gone.item, gone.arrived_at) == ("v2", 0.0)


def test_overflow_evicts_the_oldest_and_reports_it():
    join = PredictionJoin(window_s=60.0, max_pending=2)
    for i in range(3):
        join.add_frame(f"f{i}", i, now=float(i))
    assert len(join) == 2 and "f0" not in join
    [gone] = join.expire(now=3.0)
    assert (gone.frame_id, gone.reason) == ("f0", "overflow")


def test_state_round_trip_with_models():
    join = PredictionJoin(window_s=5.0)
    pred = Prediction(frame_id="f1", camera_id="c", model="m", classes={"cat": 0.7})
    join.add_prediction("f1", pred, now=1.0)
    join.add_frame("f2", {"uri": "file:///x.jpg"}, now=2.0)
    state = json.loads(json.dumps(join.state()))
    back = PredictionJoin.from_state(state, prediction_type=Prediction)
    assert back.add_frame("f1", "frame", now=3.0).prediction == pred
    assert [e.frame_id for e in back.expire(now=7.0)] == ["f2"]


@pytest.mark.parametrize("kwargs", [{"window_s": 0}, {"max_pending": 0}], ids=["window", "pending"])
def test_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        PredictionJoin(**kwargs)
