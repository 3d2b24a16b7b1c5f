"""Per-camera embedding reference: outlier and near-duplicate, state round trip."""

from __future__ import annotations

import json

import numpy as np

from framegate.detectors.embedding_reference import EmbeddingReference
from framegate.schemas import Check


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def _scene(rng: np.random.Generator, base: np.ndarray) -> np.ndarray:
    return _unit(base + rng.normal(scale=0.4, size=base.size))


def test_outlier_fires_after_warmup_only():
    rng = np.random.default_rng(1)
    base = rng.normal(size=128)
    ref = EmbeddingReference(warmup=30, history=0)
    odd = _unit(rng.normal(size=128))
    assert ref.check(odd) == []
    for i in range(29):
        ref.update(_scene(rng, base), frame_id=str(i))
    assert ref.check(odd) == [] and not ref.ready
    ref.update(_scene(rng, base))
    [issue] = ref.check(odd)
    assert issue.check == Check.OUTLIER and issue.score >= 0.5
    normal = [ref.check(_scene(rng, base)) for _ in range(200)]
    assert sum(bool(x) for x in normal) <= 2


def test_outliers_barely_move_the_reference():
    rng = np.random.default_rng(2)
    base = rng.normal(size=64)
    ref = EmbeddingReference(warmup=20, history=0)
    for _ in range(100):
        ref.update(_scene(rng, base))
    before = ref.spread
    odd = _unit(rng.normal(size=64))
    for _ in range(5):
        ref.update(odd)
    assert ref.check(odd)[0].check == Check.OUTLIER
    assert abs(ref.spread[0] - before[0]) < 0.05


def test_near_duplicate_is_judged_against_the_cameras_ordinary_frames():
    rng = np.random.default_rng(3)
    base = rng.normal(size=256)
    ref = EmbeddingReference(warmup=20)
    # A fixed camera: every frame is very similar to the last (cosine ~0.99) and none of
    # them is a duplicate.
    ordinary = []
    for i in range(60):
        e = _unit(base + rng.normal(scale=0.1, size=256))
        ordinary.append(ref.observe(e, frame_id=f"f{i}")[1])
    assert sum(bool(found) for found in ordinary[20:]) == 0
    earlier = _unit(base + rng.normal(scale=0.1, size=256))
    ref.update(earlier, frame_id="a")
    ref.update(_unit(base + rng.normal(scale=0.1, size=256)), frame_id="b")
    # The same picture again, re-encoded: far closer than the camera's ordinary change.
    score, issues = ref.observe(_unit(earlier + rng.normal(scale=0.002, size=256)), frame_id="c")
    assert score.duplicate_of == "a"
    assert [i.check for i in issues] == [Check.NEAR_DUPLICATE] and "'a'" in issues[0].detail


def test_state_round_trip_gives_identical_decisions():
    rng = np.random.default_rng(4)
    base = rng.normal(size=1280)
    ref = EmbeddingReference(warmup=10)
    for i in range(60):
        ref.update(_scene(rng, base), frame_id=f"f{i}")
    text = json.dumps(ref.state())
    assert len(text) < 40_000  # documented: about 35 KB at D = 1280, history = 8
    back = EmbeddingReference.from_state(json.loads(text))
    probes = [_scene(rng, base) for _ in range(20)] + [_unit(rng.normal(size=1280))]
    for e in probes:
        assert back.score(e) == ref.score(e)
        ref.update(e)
        back.update(e)
    assert back.state() == ref.state()
