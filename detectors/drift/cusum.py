"""CUSUM thresholds from a target run length (Siegmund's approximation) and river's chart."""

from __future__ import annotations

import math
from typing import Any

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


def cusum_delay(h: float, k: float, shift: float) -> float:
    """Approximate detection delay (updates) of a CUSUM for a step ``shift`` > ``k``."""
    b = h + _OVERSHOOT
    d = shift - k
    if d <= 0:
        return math.inf
    return (math.exp(-2 * d * b) + 2 * d * b - 1) / (2 * d * d)


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
        return {
            "si": self._sum_increase,
            "sd": self._sum_decrease,
            "mi": self._min_increase,
            "md": self._max_decrease,
            "dd": self._drift_detected,
        }

    def load_state(self, s: dict[str, Any]) -> None:
        self._sum_increase = float(s["si"])
        self._sum_decrease = float(s["sd"])
        self._min_increase = float(s["mi"])
        self._max_decrease = float(s["md"])
        self._drift_detected = bool(s["dd"])
