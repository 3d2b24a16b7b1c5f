"""Relabel routing: deterministic ids, priorities, the per-camera budget."""

from __future__ import annotations

import json

import numpy as np
import pytest

from framegate.detectors.issues import build_issue
from framegate.detectors.relabel import RelabelBudget, build_request, priority, request_id
from framegate.schemas import Check, Frame, Prediction, RelabelRequest


def _frame(frame_id: str = "f1", camera_id: str = "cam") -> Frame:
    return Frame(
        frame_id=frame_id,
        camera_id=camera_id,
        captured_at=1_700_000_000,
        image={"encoding": "jpeg", "uri": "file:///frames/f1.jpg"},
    )


def _issue(check: Check, score: float, threshold: float = 0.5, detail: str = ""):
    return build_issue(check, score, threshold, detail, critical_at=0.8)


def test_request_id_is_deterministic_and_unambiguous():
    assert request_id("cam", "f1") == request_id("cam", "f1")
    assert request_id("a/b", "c") != request_id("a", "b/c")


def test_priority_combines_reasons():
    strong = _issue(Check.CLASS_SWAP, 0.9)
    weak = _issue(Check.HIGH_ENTROPY, 0.85, 0.8)
    dark = _issue(Check.DARK, 0.9)
    assert priority([strong, weak]) > priority([strong]) > priority([weak]) > 0
    assert 0 < priority([dark]) < priority([weak]) and 0 <= priority([strong] * 10) <= 1
    assert priority([dark], {Check.DARK: 0.0}) == 0.0


def test_build_request_carries_image_prediction_and_reasons():
    pred = Prediction(frame_id="f1", camera_id="cam", model="m", classes={"cat": 0.4})
    reasons = [
        _issue(Check.LOW_CONFIDENCE, 0.6, detail="x"),
        _issue(Check.LABEL_DISAGREEMENT, 0.9, detail="y"),
        _issue(Check.DARK, 0.9, detail="z"),
    ]
    req = build_request(_frame(), reasons, prediction=pred)
    assert isinstance(req, RelabelRequest)
    assert req.request_id == request_id("cam", "f1") and req.image.uri.endswith("f1.jpg")
    assert [r.check for r in req.reasons] == [
        Check.LABEL_DISAGREEMENT,
        Check.LOW_CONFIDENCE,
        Check.DARK,
    ]
    assert req.prediction == pred and 0.9 < req.priority <= 1
    dark_only = build_request(_frame(), [reasons[2]])
    assert dark_only is not None and dark_only.priority < 0.2
    assert build_request(_frame(), [reasons[2]], weights={Check.DARK: 0.0}) is None
    assert build_request(_frame(), reasons, prediction=pred) == req  # redelivery: the same request


def test_budget_is_a_hard_cap_and_keeps_the_top_priorities():
    rng = np.random.default_rng(0)
    budget = RelabelBudget(per_hour=30)
    prios = rng.random(4 * 3600 // 2)
    times = np.arange(prios.size) * 2.0  # a flagged frame every 2 s for 4 hours
    admitted = np.array(
        [budget.offer(float(p), now=float(t)) for p, t in zip(prios, times, strict=True)]
    )
    for hour in range(4):
        in_hour = admitted[(times >= 3600 * hour) & (times < 3600 * (hour + 1))]
        assert in_hour.sum() <= 30 + budget.burst
    assert admitted.sum() >= 0.8 * 4 * 30  # the budget is used
    assert prios[admitted].mean() > 0.95  # on the top ~2 %
    assert prios[admitted][-60:].min() > 0.9


def test_budget_admits_everything_when_under_budget():
    budget = RelabelBudget(per_hour=100)
    assert all(budget.offer(0.1, now=60.0 * i) for i in range(50))  # one a minute
    assert budget.cutoff == 0.0
    assert not budget.offer(0.0, now=3001.0)  # nothing worth relabelling


def test_budget_follows_a_burst_of_urgent_frames():
    budget = RelabelBudget(per_hour=60, burst=10)
    for t in range(3600):  # a quiet hour of low priorities
        budget.offer(0.2, now=float(t))
    sent = sum(budget.offer(0.99, now=3600.0 + t) for t in range(20))
    assert sent >= 10  # saved tokens go to the urgent frames


def test_budget_state_round_trip_gives_identical_decisions():
    rng = np.random.default_rng(1)
    budget = RelabelBudget(per_hour=20)
    for t in range(2000):
        budget.offer(float(rng.random()), now=float(t))
    text = json.dumps(budget.state())
    assert len(text) < 2000
    back = RelabelBudget.from_state(json.loads(text))
    for t in range(2000, 4000):
        p = float(rng.random())
        assert back.offer(p, now=float(t)) == budget.offer(p, now=float(t))


@pytest.mark.parametrize(
    "kwargs",
    [{"per_hour": 0}, {"window_s": -1}, {"burst": 0.5}],
    ids=["per-hour", "window", "burst"],
)
def test_budget_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        RelabelBudget(**kwargs)


def test_a_request_carries_the_labels_the_camera_sent():
    from framegate.detectors.relabel import build_request
    from framegate.schemas import Annotation, Frame, Issue
    from tests.factories import frame_doc

    labels = [{"label": "person", "box": [10, 20, 110, 220]}, {"label": "street"}]
    frame = Frame.model_validate(frame_doc("cam-r", 3, annotations=labels))
    issue = Issue(check="dark", score=0.9, threshold=0.5, severity="critical", detail="dark")
    request = build_request(frame, [issue])
    assert request is not None
    assert request.annotations == [Annotation(**a) for a in labels]
