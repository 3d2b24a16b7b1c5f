"""One cause per frame: the order is consistent, and real faults are named by their own check."""

from __future__ import annotations

import cv2
import numpy as np

from framegate.detectors.causes import CAUSE_ORDER, EXPLAINS, name_cause
from framegate.detectors.inspector import CameraInspector, decode_for_checks
from framegate.detectors.issues import build_issue
from framegate.detectors.policy import Policy
from framegate.schemas.checks import Check
from tests.factories import jittered, jpeg, photo


def _issue(check: Check, score: float = 0.9):
    return build_issue(check, score, 0.5, str(check), critical_at=0.8)


def test_every_check_has_a_place_and_only_an_earlier_check_explains_a_later_one():
    assert set(CAUSE_ORDER) == set(Check)
    rank = {check: n for n, check in enumerate(CAUSE_ORDER)}
    for cause, explained in EXPLAINS.items():
        assert all(rank[cause] < rank[check] for check in explained), cause


def test_without_issues_there_is_no_cause():
    assert name_cause([]) == (None, [])


def test_a_dark_frame_is_dark_and_its_side_effects_say_so():
    issues = [_issue(c) for c in (Check.LOW_CONTRAST, Check.GRAYSCALE, Check.OBSTRUCTED)]
    cause, marked = name_cause([*issues, _issue(Check.DARK, 0.6)])
    assert cause == Check.DARK  # though its score is the lowest
    assert [i.explained_by for i in marked] == [Check.DARK, Check.DARK, Check.DARK, None]
    assert [i.check for i in marked] == [i.check for i in [*issues, _issue(Check.DARK)]]


def test_a_label_problem_is_not_explained_by_the_picture():
    cause, marked = name_cause([_issue(Check.LABEL_DISAGREEMENT), _issue(Check.BLURRY)])
    assert cause == Check.BLURRY
    assert [i.explained_by for i in marked] == [None, None]  # both stay reasons


def test_a_side_effect_names_the_first_condition_that_explains_it():
    # a rescaled copy: odd_size and near_duplicate explain camera_moved; the copy comes first
    _, marked = name_cause(
        [_issue(Check.CAMERA_MOVED), _issue(Check.ODD_SIZE), _issue(Check.NEAR_DUPLICATE)]
    )
    assert [i.explained_by for i in marked] == [
        Check.NEAR_DUPLICATE,
        Check.NEAR_DUPLICATE,
        None,
    ]


def test_a_darkened_photo_through_the_inspector_is_named_dark():
    policy = Policy().for_camera("cam-c")
    inspector = CameraInspector(policy, camera_id="cam-c")
    scene = photo("astronaut")
    for n in range(40):  # a fixed camera learns its view
        image = decode_for_checks(jpeg(jittered(scene, n)), max_pixels=50_000_000)
        inspector.inspect(image, frame_id=f"cam-c:{n}", captured_at=float(n))
    dark = cv2.convertScaleAbs(scene, alpha=0.08)
    image = decode_for_checks(jpeg(jittered(dark, 99)), max_pixels=50_000_000)
    issues = inspector.inspect(image, frame_id="cam-c:40", captured_at=40.0).issues
    assert len(issues) >= 2, [i.check for i in issues]  # the fault and its side effects
    cause, marked = name_cause(issues)
    assert cause == Check.DARK
    assert [i.check for i in marked if i.explained_by is None] == [Check.DARK]
    assert np.all([i.explained_by == Check.DARK for i in marked if i.check != Check.DARK])
