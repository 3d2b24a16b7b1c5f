"""CUSUM thresholds for a target run length, and river's chart that applies them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from river.drift import PageHinkley

_OVERSHOOT = 1.166  # Siegmund's correction for Gaussian increments: 2 * 0.583


def _hermite(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    return x, w / w.sum()


# Gauss-Hermite nodes and weights over the error of a reference's mean and of its scale
_HERMITE, _SCALE_HERMITE = _hermite(16), _hermite(7)


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


def cusum_arls(h: np.ndarray | float, k: np.ndarray | float) -> np.ndarray:
    """:func:`cusum_arl` on arrays, for an allowance of either sign (a negative ``k`` is a
    chart drifting towards its threshold: about ``(h + 1.166) / -k`` steps).

    >>> [round(float(a)) for a in cusum_arls(4.0, np.array([0.5, 0.0, -0.5]))]
    [338, 27, 8]
    """
    h, k = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float))
    b = h + _OVERSHOOT
    a = np.minimum(2.0 * k * b, 700.0)
    tiny = np.abs(a) < 1e-4
    safe_k = np.where(tiny, 1.0, k)
    with np.errstate(over="ignore"):
        exact = (np.expm1(a) - a) / (2.0 * safe_k * safe_k)
    return np.where(tiny, b * b * (1.0 + a / 3.0), exact)


def estimated_cusum_threshold(arl: float, k: float, mean_se: float, scale_se: float = 0.0) -> float:
    """Threshold ``h`` of a one-sided CUSUM whose in-control run length is ``arl`` on
    average over the error of an estimated reference.

    The chart standardises its input by a reference learnt from a finite sample: the
    reference mean is off by ``d ~ N(0, mean_se**2)`` and its scale by a factor ``1 + e``,
    ``e ~ N(0, scale_se**2)`` (both in the chart's z units). Such a chart runs on
    ``N(d, (1 + e)**2)``; its false-alarm rate ``1 / ARL`` is averaged over ``d`` and ``e``
    (Gauss-Hermite quadrature) and ``h`` solved so that the average is ``1 / arl``: the
    unconditional run length of Jones, Champ and Rigdon (2004). A camera with a short
    reference gets a higher threshold, tightening as its reference grows.

    >>> round(estimated_cusum_threshold(1e5, 0.5, 0.0), 2) == round(cusum_threshold(1e5, 0.5), 2)
    True
    >>> round(estimated_cusum_threshold(1e5, 0.5, 0.1, 0.05), 1)
    12.0
    """
    return float(_estimated_thresholds(arl, np.array([k]), mean_se, scale_se)[0])


def estimated_chart(
    arl: float,
    k: float,
    mean_se: float,
    scale_se: float = 0.0,
    *,
    min_allowance: float = 0.0,
    candidates: int = 10,
) -> tuple[float, float]:
    """Allowance and threshold of a chart designed for a step of ``2 * k`` (z units) when
    its reference is estimated (see :func:`estimated_cusum_threshold`).

    With a known reference the best allowance is half the step, ``k``. An uncertain
    reference mean makes a small allowance costly (a reference off by more than ``k``
    walks the chart to its threshold), so allowances from ``k`` to ``0.95 * 2k`` are tried
    and the one with the shortest delay for the step (Siegmund's approximation) is kept;
    none below ``min_allowance``.

    >>> k, h = estimated_chart(1e5, 0.5, 0.0)  # an exact reference: the usual chart
    >>> k, round(h, 2), round(cusum_threshold(1e5, 0.5), 2)
    (0.5, 9.65, 9.65)
    >>> k, h = estimated_chart(1e6, 0.1, 0.06, 0.04)
    >>> round(k, 3), round(h, 1)
    (0.181, 70.0)
    """
    ks = np.maximum(k + (0.95 * 2.0 * k - k) * np.arange(candidates) / candidates, min_allowance)
    hs = _estimated_thresholds(arl, ks, mean_se, scale_se)
    delays = cusum_arls(hs, ks - 2.0 * k)
    best = int(np.argmin(delays))
    return float(ks[best]), round(float(hs[best]), 6)


def _estimated_thresholds(
    arl: float, ks: np.ndarray, mean_se: float, scale_se: float
) -> np.ndarray:
    if arl <= 1:
        raise ValueError("arl must exceed 1")
    x, w = _HERMITE
    d, wd = (x * mean_se, w) if mean_se > 0 else (np.zeros(1), np.ones(1))
    xe, we = _SCALE_HERMITE
    e, we = (xe * scale_se, we) if scale_se > 0 else (np.zeros(1), np.ones(1))
    scale = np.exp(e)[None, :, None]  # axes: allowance, scale error, mean error
    allowance = (ks[:, None, None] - d[None, None, :]) / scale
    weights = we[None, :, None] * wd[None, None, :]
    target = 1.0 / arl

    def too_low(h: np.ndarray) -> np.ndarray:  # average alarm rate above the target
        rates = weights / cusum_arls(h[:, None, None] / scale, allowance)
        return rates.sum(axis=(1, 2)) > target

    lo = np.zeros(len(ks))
    # Siegmund's run length is about exp(2 k (h + 1.166)) / (2 k^2): a first upper guess
    hi = np.maximum(np.log1p(2.0 * ks * ks * arl) / (2.0 * ks) - _OVERSHOOT, 1.0)
    while (grow := too_low(hi)).any():
        lo, hi = np.where(grow, hi, lo), np.where(grow, hi * 1.5, hi)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        low = too_low(mid)
        lo, hi = np.where(low, mid, lo), np.where(low, hi, mid)
        if np.all(hi - lo < 1e-4 * hi):
            break
    return hi


def discrete_cusum_arl(
    values: np.ndarray, probs: np.ndarray, h: float, k: float, cells: int = 64
) -> float:
    """In-control run length of a two-sided CUSUM on increments with a discrete law.

    Brook and Evans' Markov chain: each side's statistic lives on ``cells`` points of
    ``[0, h]``; an update moves it by ``value - k`` (upwards) or ``-value - k`` (downwards)
    with probability ``probs``. The two sides' alarm rates add up (they are rarely near
    their thresholds together). 64 cells put the run length within about 25 % of a fine
    grid's (a threshold within about 0.15), and keep the linear solve small enough for one
    thread, so a re-estimation costs milliseconds.

    >>> v = np.array([-1.0, 1.0]); p = np.array([0.5, 0.5])
    >>> round(discrete_cusum_arl(v, p, h=2.5, k=0.0))  # a +-1 walk: 3 steps up, twice over
    6
    """
    keep = probs > 1e-300
    values, probs = values[keep], probs[keep]
    grid = np.linspace(0.0, h, cells)
    step = grid[1] - grid[0]
    rows = np.arange(cells)[:, None] * cells
    rate = 0.0
    for sign in (1.0, -1.0):
        nxt = grid[:, None] + sign * values[None, :] - k
        inside = nxt <= h
        to = np.minimum(np.rint(np.maximum(nxt, 0.0) / step), cells - 1).astype(np.int64)
        q = np.bincount(
            (rows + to)[inside],
            weights=np.broadcast_to(probs, nxt.shape)[inside],
            minlength=cells * cells,
        ).reshape(cells, cells)
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
        if hi - lo < 3e-3 * hi:
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
