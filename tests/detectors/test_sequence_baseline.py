"""A camera's recent normal: median, robust sigma and quantiles over a ring of rows."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from framegate.detectors.sequence_baseline import RobustBaseline

MAD_TO_SIGMA = 1.4826


def _filled(names: tuple[str, ...], columns: dict[str, list[float]], **kw: int) -> RobustBaseline:
    base = RobustBaseline(names, **kw)
    n = len(next(iter(columns.values())))
    for i in range(n):
        base.update({name: col[i] for name, col in columns.items()})
    return base


@pytest.mark.parametrize(
    ("values", "median", "mad"),
    [
        ([1, 2, 3, 4, 5, 6, 7, 8, 9], 5.0, 2.0),
        ([1, 2, 3, 100], 2.5, 1.0),
        ([7, 7, 7, 7], 7.0, 0.0),
        ([-3, -1, 0, 2, 10, 11], 1.0, 3.0),
    ],
    ids=["one-to-nine", "outlier-ignored", "constant", "even-count"],
)
def test_median_and_robust_sigma_of_known_data(values, median, mad) -> None:
    base = _filled(("x",), {"x": values}, window=16, warmup=1)
    assert base.median("x") == pytest.approx(median)
    assert base.sigma("x") == pytest.approx(MAD_TO_SIGMA * mad)


def test_sigma_estimates_the_standard_deviation_despite_outliers() -> None:
    rng = np.random.default_rng(0)
    values = list(rng.normal(10.0, 2.0, 480)) + [1e6] * 30  # 6 % gross outliers
    base = _filled(("x",), {"x": values}, window=512, warmup=8)
    assert base.median("x") == pytest.approx(10.0, abs=0.3)
    assert base.sigma("x") == pytest.approx(2.0, rel=0.15)


def test_ready_after_warmup_rows_and_count_capped_at_the_window() -> None:
    base = RobustBaseline(("x",), window=5, warmup=3)
    seen = []
    for v in range(8):
        seen.append((base.count, base.ready))
        base.update({"x": float(v)})
    assert seen == [(0, False), (1, False), (2, False)] + [(n, True) for n in (3, 4, 5, 5, 5)]


def test_ring_forgets_the_oldest_rows() -> None:
    base = _filled(("x",), {"x": [1000.0] * 4 + [1.0, 2.0, 3.0, 4.0]}, window=4, warmup=1)
    assert base.median("x") == 2.5
    assert base.quantile("x", 1.0) == 4.0


def test_statistics_follow_each_update() -> None:
    base = _filled(("x",), {"x": [1.0, 2.0, 3.0]}, window=8, warmup=1)
    assert base.median("x") == 2.0  # cached ...
    base.update({"x": 50.0})
    base.update({"x": 60.0})
    assert base.median("x") == 3.0  # ... and recomputed after update


def test_columns_are_independent() -> None:
    base = _filled(("a", "b"), {"a": [1.0, 2.0, 3.0], "b": [30.0, 10.0, 20.0]}, window=8, warmup=1)
    assert (base.median("a"), base.median("b")) == (2.0, 20.0)
    assert base.sigma("b") == pytest.approx(MAD_TO_SIGMA * 10.0)


def test_nothing_known_before_the_first_row() -> None:
    base = RobustBaseline(("x",), window=4, warmup=1)
    assert math.isnan(base.median("x"))
    assert math.isnan(base.sigma("x"))
    assert math.isnan(base.quantile("x", 0.5))
    assert not base.ready


def test_missing_metric_is_unknown_and_ignored_by_the_statistics() -> None:
    base = RobustBaseline(("a", "b"), window=8, warmup=1)
    for v in (1.0, 2.0, 3.0, 4.0, 5.0):
        base.update({"a": v, "b": v * 10})
    base.update({"a": 100.0})  # "b" not measured on this frame
    base.update({"a": 101.0, "b": None})
    assert base.median("b") == 30.0
    assert base.quantile("b", 0.0) == 10.0 and base.quantile("b", 1.0) == 50.0
    assert base.median("a") == 4.0


@pytest.mark.parametrize("q", [0.0, 0.05, 0.5, 0.9, 1.0], ids=lambda q: f"q{q}")
def test_quantile_matches_numpy_over_the_window(q: float) -> None:
    rng = np.random.default_rng(3)
    values = rng.exponential(1.0, 40).astype(np.float32)
    base = _filled(("x",), {"x": list(values)}, window=32, warmup=1)
    assert base.quantile("x", q) == pytest.approx(float(np.quantile(values[-32:], q)))


def test_unknown_metric_name_is_an_error() -> None:
    base = _filled(("x",), {"x": [1.0]}, window=4, warmup=1)
    with pytest.raises(KeyError):
        base.median("y")


@pytest.mark.parametrize(
    ("window", "warmup"), [(0, 1), (4, 0), (-1, -1)], ids=["window-0", "warmup-0", "negative"]
)
def test_window_and_warmup_must_be_positive(window: int, warmup: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        RobustBaseline(("x",), window=window, warmup=warmup)


def _stats(base: RobustBaseline) -> list[float]:
    out = [float(base.count), float(base.ready)]
    for name in base.names:
        out += [base.median(name), base.sigma(name), base.quantile(name, 0.05)]
    return out


@pytest.mark.parametrize("rows", [3, 10, 23], ids=["warming", "full", "wrapped"])
def test_state_round_trips_through_json_and_keeps_the_ring_position(rows: int) -> None:
    rng = np.random.default_rng(rows)
    names = ("a", "b")
    original = RobustBaseline(names, window=10, warmup=4)
    for _ in range(rows):
        original.update({"a": float(rng.normal()), "b": float(rng.uniform())})
    restored = RobustBaseline(names, window=10, warmup=4)
    restored.load_state(json.loads(json.dumps(original.state())))
    assert _stats(restored) == _stats(original)
    for _ in range(7):  # the next rows overwrite the same (oldest) slots in both
        row = {"a": float(rng.normal()), "b": float(rng.uniform())}
        original.update(row)
        restored.update(row)
        assert _stats(restored) == _stats(original)


def test_restored_rows_are_writable() -> None:
    original = _filled(("x",), {"x": [1.0] * 4}, window=4, warmup=1)
    restored = RobustBaseline(("x",), window=4, warmup=1)
    restored.load_state(original.state())
    restored.update({"x": 9.0})  # np.frombuffer alone would be read-only
    assert restored.quantile("x", 1.0) == 9.0


def test_smaller_window_keeps_the_most_recent_rows() -> None:
    stored = _filled(("x",), {"x": [float(v) for v in range(20)]}, window=8, warmup=2)
    smaller = RobustBaseline(("x",), window=4, warmup=2)
    smaller.load_state(stored.state())
    assert smaller.count == 4
    assert smaller.median("x") == 17.5  # rows 16..19


def test_larger_window_keeps_every_stored_row() -> None:
    stored = _filled(("x",), {"x": [float(v) for v in range(20)]}, window=8, warmup=2)
    larger = RobustBaseline(("x",), window=16, warmup=2)
    larger.load_state(stored.state())
    assert larger.count == 8
    assert (larger.quantile("x", 0.0), larger.quantile("x", 1.0)) == (12.0, 19.0)


def test_changed_metrics_keep_the_shared_ones_and_drop_the_rest() -> None:
    stored = _filled(("a", "b"), {"a": [1.0, 2.0, 3.0], "b": [10.0, 20.0, 30.0]}, window=8)
    changed = RobustBaseline(("b", "c"), window=8, warmup=2)
    changed.load_state(stored.state())
    assert changed.count == 3 and changed.ready
    assert changed.median("b") == 20.0
    assert math.isnan(changed.quantile("c", 0.5))


def test_state_of_a_baseline_without_metrics_loads_into_one_with_metrics() -> None:
    empty = RobustBaseline((), window=4, warmup=1)
    empty.update({})
    base = RobustBaseline(("x",), window=4, warmup=1)
    base.load_state(json.loads(json.dumps(empty.state())))
    assert base.count == 0
