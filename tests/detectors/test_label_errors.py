"""Classification confident learning and the detection label checks, on constructed cases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from framegate.detectors.label_errors import ConfidentLearning, detection_label_issues
from framegate.schemas import Annotation, Check, Detection


def _stream(seed: int, n: int = 600, noise: float = 0.1):
    """Three classes, a decent model, ``noise`` of the labels flipped."""
    rng = np.random.default_rng(seed)
    names = ["cat", "dog", "fox"]
    true = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), true] += 3.0
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    given = true.copy()
    flip = rng.random(n) < noise
    given[flip] = (true[flip] + rng.integers(1, 3, flip.sum())) % 3
    for i in range(n):
        yield names[given[i]], dict(zip(names, probs[i].tolist(), strict=True)), bool(flip[i])


def test_flags_flipped_labels_far_more_than_clean_ones():
    cl = ConfidentLearning(min_count=10)
    hits = {True: 0, False: 0}
    totals = {True: 0, False: 0}
    for label, probs, flipped in _stream(0):
        totals[flipped] += 1
        hits[flipped] += cl.observe(label, probs) is not None
    assert hits[True] / totals[True] > 0.6
    assert hits[False] / totals[False] < 0.05
    assert 0.03 < cl.noise_rate("cat") < 0.25


def test_issue_scores_and_detail():
    cl = ConfidentLearning(min_count=3)
    for _ in range(20):
        cl.update("cat", {"cat": 0.9, "dog": 0.1})
        cl.update("dog", {"cat": 0.1, "dog": 0.9})
    cl.update("cat", {"cat": 0.2, "dog": 0.8})
    issue = cl.check("cat", {"cat": 0.1, "dog": 0.9})
    assert issue.check == Check.LABEL_DISAGREEMENT
    assert issue.score == pytest.approx(0.9) and issue.score >= issue.threshold
    assert "'dog'" in issue.detail
    s = cl.score("cat", {"cat": 0.1, "dog": 0.9})
    assert (s.self_confidence, s.normalized_margin) == pytest.approx((0.1, -0.8))
    assert cl.check("cat", {"cat": 0.95, "dog": 0.05}) is None


def test_nothing_is_flagged_during_warmup():
    cl = ConfidentLearning(min_count=50)
    flagged = [cl.observe(lbl, p) for lbl, p, _ in list(_stream(1))[:40]]
    assert flagged == [None] * 40 and cl.thresholds == {}


def test_state_round_trip_gives_identical_decisions():
    cl = ConfidentLearning(min_count=5, memory=100)
    items = list(_stream(2))
    for label, probs, _ in items[:300]:
        cl.update(label, probs)
    back = ConfidentLearning.from_state(json.loads(json.dumps(cl.state())))
    for label, probs, _ in items[300:]:
        assert back.observe(label, probs) == cl.observe(label, probs)
    assert back.state() == cl.state()


def _ann(label, box):
    return Annotation(label=label, box=box)


def _det(label, score, box):
    return Detection(label=label, score=score, box=box)


CASES = [
    ([_ann("car", (0, 0, 100, 100))], [_det("car", 0.9, (2, 2, 98, 100))], []),
    (
        [_ann("car", (0, 0, 100, 100))],
        [_det("person", 0.8, (300, 300, 340, 400))],
        [Check.MISSED_OBJECT],
    ),
    ([_ann("car", (0, 0, 100, 100))], [_det("truck", 0.85, (0, 0, 100, 95))], [Check.CLASS_SWAP]),
    (
        [_ann("car", (0, 0, 100, 100))],
        [_det("car", 0.9, (50, 0, 150, 100))],
        [Check.LABEL_DISAGREEMENT],
    ),
    (
        [_ann("car", (0, 0, 100, 100))],
        [_det("truck", 0.3, (0, 0, 100, 100)), _det("dog", 0.2, (500, 500, 600, 600))],
        [],
    ),
    ([], [_det("car", 0.7, (0, 0, 10, 10))], [Check.MISSED_OBJECT]),
    ([_ann("cat", None)], [_det("cat", 0.9, (0, 0, 10, 10))], [Check.MISSED_OBJECT]),
]


@pytest.mark.parametrize(
    ("anns", "dets", "expected"),
    CASES,
    ids=[
        "agree",
        "missed",
        "swap",
        "badly-located",
        "weak-predictions",
        "no-labels",
        "whole-image-label-only",
    ],
)
def test_detection_label_issues(anns, dets, expected):
    issues = detection_label_issues(anns, dets)
    assert [i.check for i in issues] == expected
    for issue in issues:
        assert 0 <= issue.score <= 1 and issue.score >= issue.threshold and issue.detail


def test_badly_located_detail_and_score():
    [issue] = detection_label_issues(
        [_ann("car", (0, 0, 100, 100))], [_det("car", 0.9, (50, 0, 150, 100))]
    )
    assert "badly located" in issue.detail and issue.score == pytest.approx(1 - 1 / 3)


def test_many_missed_objects_make_one_issue():
    dets = [_det("person", 0.5 + i / 20, (100 * i, 0, 100 * i + 50, 50)) for i in range(6)]
    [issue] = detection_label_issues([], dets)
    assert issue.score == pytest.approx(0.75) and "and 3 more" in issue.detail
