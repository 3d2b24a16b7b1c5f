"""CUSUM thresholds for a target run length, and river's chart that applies them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from river.drift import PageHinkley

_OVERSHOOT = 1.166  # Siegmund's correction for Gaussian increments: 2 * 0.583


def cusum_arl(h: float, k: float) -> float:
    """In-control average run length of a one-sided CUSUM on N(0, 1) with drift ``k``.

    >>> round(cusum_arl(4.0, 0.5))
    338
    """
    b = h + _OVERSHOOT
    if k <= 1e-9:
        return b * b
    a = 2.0 * k * b
    if a > 700:
        return math.inf
    return (math.exp(a) - a - 1.0) / (2.0 * k * k)


def cusum_threshold(arl: float, k: float) -> float:
    """Smallest threshold ``h`` whose in-control run length reaches ``arl`` (bisection).

    >>> round(cusum_threshold(1e5, 0.5), 2)
    9.65
    """
    if arl <= 1:
        raise ValueError("arl must exceed 1")
    lo, hi = 0.0, 1.0
    while cusum_arl(hi, k) < arl:
        hi *= 2.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if cusum_arl(mid, k) < arl:
            lo = mid
        else:
            hi = mid
    return hi


def discrete_cusum_arl(
    values: np.ndarray, probs: np.ndarray, h: float, k: float, cells: int = 400
) -> float:
    """In-control run length of a two-sided CUSUM on increments with a discrete law.

    Brook and Evans' Markov chain: each side's statistic lives on ``cells`` points of
    ``[0, h]``; an update moves it by ``value - k`` (upwards) or ``-value - k`` (downwards)
    with probability ``probs``. The two sides' alarm rates add up (they are rarely near
    their thresholds together).

    >>> v = np.array([-1.0, 1.0]); p = np.array([0.5, 0.5])
    >>> round(discrete_cusum_arl(v, p, h=2.5, k=0.0))  # a +-1 walk: 3 steps up, twice over
    6
    """
    grid = np.linspace(0.0, h, cells)
    step = grid[1] - grid[0]
    rate = 0.0
    for sign in (1.0, -1.0):
        nxt = grid[:, None] + sign * values[None, :] - k
        inside = nxt <= h
        to = np.clip(np.rint(np.maximum(nxt, 0.0) / step), 0, cells - 1).astype(int)
        q = np.zeros((cells, cells))
        rows = np.broadcast_to(np.arange(cells)[:, None], nxt.shape)
        np.add.at(q, (rows[inside], to[inside]), np.broadcast_to(probs, nxt.shape)[inside])
        run = np.linalg.solve(np.eye(cells) - q, np.ones(cells))[0]
        rate += 1.0 / run
    return 1.0 / rate


def discrete_cusum_threshold(values: np.ndarray, probs: np.ndarray, arl: float, k: float) -> float:
    """Smallest threshold giving a two-sided discrete CUSUM an in-control run length ``arl``.

    The log run length grows about linearly in ``h``; a bracketed secant search on it
    needs a handful of Markov-chain solves.
    """
    target = math.log(arl)
    lo, hi = 0.0, max(cusum_threshold(arl, k), 1.0)
    f_hi = math.log(discrete_cusum_arl(values, probs, hi, k))
    while f_hi < target:
        lo, hi = hi, hi * 1.5
        f_hi = math.log(discrete_cusum_arl(values, probs, hi, k))
    f_lo = 0.0 if lo == 0.0 else math.log(discrete_cusum_arl(values, probs, lo, k))
    for _ in range(30):
        mid = lo + (hi - lo) * (target - f_lo) / max(f_hi - f_lo, 1e-12)
        mid = min(max(mid, lo + 0.05 * (hi - lo)), hi - 0.05 * (hi - lo))
        f_mid = math.log(discrete_cusum_arl(values, probs, mid, k))
        if f_mid < target:
            lo, f_lo = mid, f_mid
        else:
            hi, f_hi = mid, f_mid
        if hi - lo < 1e-3 * hi:
            break
    return hi


class _ReferenceMean:
    """Stands in for PageHinkley's running mean: the standardised reference mean is 0."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = math.inf

    def update(self, x: float) -> None:  # noqa: ARG002 - the reference does not move
        return None

    def get(self) -> float:
        return 0.0


class ReferencePageHinkley(PageHinkley):
    """river's two-sided Page-Hinkley test against a known reference mean of zero.

    With ``alpha=1`` and the mean fixed at the reference, Page-Hinkley is Page's CUSUM:
    ``delta`` is the allowance ``k`` and ``threshold`` the decision interval ``h``, both in
    units of the standardised statistic. State is explicit (:meth:`state`), never pickled.

    >>> ph = ReferencePageHinkley(delta=0.5, threshold=4.0)
    >>> for x in [0.1, -0.2] + [1.5] * 5:
    ...     ph.update(x)
    >>> ph.drift_detected, ph.statistic
    (True, 5.0)
    """

    def __init__(self, delta: float, threshold: float) -> None:
        super().__init__(min_instances=1, delta=delta, threshold=threshold, alpha=1.0, mode="both")

    def _reset(self) -> None:
        super()._reset()
        self._x_mean = _ReferenceMean()
        self._max_decrease = 0.0
        self._min_increase = 0.0

    @property
    def statistic(self) -> float:
        """Largest of the upward and downward CUSUM statistics."""
        return max(self._sum_increase - self._min_increase, self._max_decrease - self._sum_decrease)

    @property
    def direction(self) -> int:
        """+1 when the upward side is the larger, -1 otherwise."""
        up = self._sum_increase - self._min_increase
        down = self._max_decrease - self._sum_decrease
        return 1 if up >= down else -1

    def state(self) -> dict[str, Any]:
        """The chart's running sums, JSON-ready; :meth:`load_state` restores them."""
        return {
            "sum_increase": self._sum_increase,
            "sum_decrease": self._sum_decrease,
            "min_increase": self._min_increase,
            "max_decrease": self._max_decrease,
            "drift_detected": self._drift_detected,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self._sum_increase = float(state["sum_increase"])
        self._sum_decrease = float(state["sum_decrease"])
        self._min_increase = float(state["min_increase"])
        self._max_decrease = float(state["max_decrease"])
        self._drift_detected = bool(state["drift_detected"])
