"""A statistic's reference: level, spread, autocorrelation, and the charts it implies."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.stats import betabinom, binom

from framegate.detectors.drift.config import DriftConfig
from framegate.detectors.drift.cusum import cusum_threshold, discrete_cusum_threshold


class MetricReference(BaseModel):
    """What a clean period says about one statistic of one camera.

    A correlated statistic is first prewhitened by the autoregressive model ``ar`` fitted to
    the clean period: the residual ``r_t = (x_t - mean) - sum_i ar[i] * (x_{t-i} - mean)``
    is close to independent, and a step ``d`` in the statistic is a step
    ``d * (1 - sum(ar))`` in the residual from the next frame on. What correlation the model
    leaves (``tau``, the residuals' integrated autocorrelation time) is averaged out in
    ``block`` frames. ``lr_std`` is the statistic's long-run standard deviation,
    ``residual std * sqrt(tau) / (1 - sum(ar))``, so the block mean of residuals standardised
    as ``mean(r) * sqrt(block) / (lr_std * (1 - sum(ar)))`` is close to N(0, 1) and a step
    ``d`` moves it by ``d * sqrt(block) / lr_std``. Prewhitening keeps the blocks short on
    correlated footage, which is what makes small steps quick to detect there.

    A 0/1 ``indicator`` (class frequency) is not prewhitened; it is standardised on the
    arcsine scale,
    ``2 * sqrt(block) * (asin(sqrt(rate')) - asin(sqrt(rate_ref'))) * std / lr_std``
    with Anscombe's ``rate' = (count + 3/8) / (block + 3/4)``; its thresholds come from the
    exact law of the block counts (:func:`indicator_block_law`), as a block without a rare
    class lies far out in the lower tail. ``allowances``/``thresholds`` are the CUSUM
    ``k``/``h`` of each chart.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mean: float
    std: float = Field(gt=0)
    lr_std: float = Field(gt=0)
    tau: float = Field(ge=1, description="residuals' integrated autocorrelation time, frames")
    block: int = Field(ge=1)
    n: int = Field(ge=1, description="reference frames")
    indicator: bool = False
    ar: tuple[float, ...] = Field((), description="prewhitening autoregression, lag 1 first")
    allowances: tuple[float, ...]
    thresholds: tuple[float, ...]


class CameraReference(BaseModel):
    """A camera's references, as :func:`framegate.detectors.drift.calibrate` returns them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metrics: dict[str, MetricReference] = Field(default_factory=dict)
    frames: int = 0
    in_sample_alarms: int = Field(0, description="alarms when replaying the clean period")


def integrated_autocorrelation_time(x: np.ndarray, c: float = 5.0) -> float:
    """Sokal's windowed estimate of 1 + 2 * sum of autocorrelations (>= 1).

    >>> rng = np.random.default_rng(0)
    >>> round(integrated_autocorrelation_time(rng.normal(size=20000)), 1)
    1.0
    """
    n = len(x)
    if n < 4:
        return 1.0
    acov = autocovariance(x)
    if acov[0] <= 0:
        return 1.0
    acf = acov / acov[0]
    taus = 2.0 * np.cumsum(acf) - 1.0
    window = np.arange(n) >= c * taus
    m = int(np.argmax(window)) if window.any() else n - 1
    return max(1.0, float(taus[m]))


def autocovariance(x: np.ndarray) -> np.ndarray:
    """Biased sample autocovariance of ``x`` at lags 0 .. len(x) - 1 (FFT)."""
    n = len(x)
    y = np.asarray(x, dtype=float) - float(np.mean(x))
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(y, size)
    return np.fft.irfft(f * np.conj(f), size)[:n] / n


def fit_autoregression(x: np.ndarray, max_order: int) -> tuple[float, ...]:
    """Yule-Walker autoregression of order <= ``max_order`` chosen by BIC (Levinson-Durbin).

    >>> rng = np.random.default_rng(0)
    >>> e = rng.normal(size=20000)
    >>> x = np.zeros_like(e)
    >>> for t in range(1, len(x)):
    ...     x[t] = 0.8 * x[t - 1] + e[t]
    >>> [round(c, 2) for c in fit_autoregression(x, 5)]
    [0.8]
    >>> fit_autoregression(e, 5)
    ()
    """
    n = len(x)
    acov = autocovariance(x)[: max_order + 1]
    if n < 4 * (max_order + 1) or acov[0] <= 0:
        return ()
    best, best_bic = np.zeros(0), n * math.log(acov[0])
    phi = np.zeros(0)
    err = float(acov[0])
    for p in range(1, max_order + 1):
        refl = (acov[p] - phi @ acov[p - 1 : 0 : -1]) / err
        if not abs(refl) < 1.0:
            break
        phi = np.r_[phi - refl * phi[::-1], refl]
        err *= 1.0 - refl * refl
        bic = n * math.log(err) + p * math.log(n)
        if bic < best_bic:
            best, best_bic = phi.copy(), bic
    return tuple(float(c) for c in best)


def residuals(x: np.ndarray, mean: float, ar: Sequence[float]) -> np.ndarray:
    """Prewhitened residuals of ``x`` (from its ``len(ar)``-th value on)."""
    y = np.asarray(x, dtype=float) - mean
    p = len(ar)
    if not p:
        return y
    out = y[p:].copy()
    for i, c in enumerate(ar, start=1):
        out -= c * y[p - i : len(y) - i]
    return out


def block_size(tau: float, mean: float, indicator: bool, config: DriftConfig) -> int:
    """Frames per block: about one autocorrelation time; more for rare 0/1 events."""
    b = 1 if tau < 1.5 else math.ceil(tau * config.block_per_tau)
    b = min(b, config.max_block)
    if indicator:
        p = min(max(min(mean, 1.0 - mean), 1e-6), 0.5)
        b = max(b, min(config.max_indicator_block, math.ceil(config.indicator_min_count / p)))
    return max(1, b)


def indicator_block_law(
    rate: float, mean: float, std: float, lr_std: float, block: int
) -> tuple[np.ndarray, np.ndarray]:
    """Standardised block values of a 0/1 statistic and their in-control probabilities.

    A block's count is binomial, beta-binomial when detections persist over frames (its
    variance inflated by ``(lr_std / std) ** 2``, the autocorrelation time), mapped by the
    same arcsine transform :class:`MetricMonitor` applies. Rare classes make the lower tail
    (a block without the class) far heavier than a normal one, so thresholds come from this
    law rather than from Siegmund's Gaussian approximation.
    """
    p = rate
    counts = np.arange(block + 1)
    inflation = min((lr_std / std) ** 2, float(block))
    if inflation > 1.0 + 1e-9 and block > 1:
        rho = (inflation - 1.0) / (block - 1)
        total = max(1.0 / rho - 1.0, 1e-6)
        probs = betabinom.pmf(counts, block, p * total, (1 - p) * total)
    else:
        probs = binom.pmf(counts, block, p)
    m0 = math.asin(math.sqrt((mean * block + 0.375) / (block + 0.75)))
    z = np.arcsin(np.sqrt((counts + 0.375) / (block + 0.75))) - m0
    return z * 2.0 * math.sqrt(block) * std / lr_std, probs


def charts(
    std: float,
    lr_std: float,
    block: int,
    n: int,
    config: DriftConfig,
    law: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """CUSUM allowances and thresholds (block z units) meeting the false-alarm budget.

    Each chart targets one of ``config.design_shifts``; its allowance is half that shift in
    block z units, its share of the budget :meth:`DriftConfig.chart_arl_frames`. The
    reference mean's own error (``reference_margin`` standard errors) is taken off the
    allowance before the threshold is solved, so a short reference buys a higher threshold
    rather than false alarms. ``law`` (block values, probabilities) replaces the Gaussian
    approximation by the exact in-control law of a discrete statistic.
    """
    scale = std * math.sqrt(block) / lr_std
    margin = config.reference_margin * math.sqrt(block / max(n, 1))
    shifts: dict[float, tuple[float, ...]] = {}
    for shift in sorted(config.design_shifts):
        # a chart whose allowance is above max_allowance would fire on one block's tail;
        # shifts that share a chart share its budget
        k = round(min(0.5 * shift * scale, config.max_allowance), 9)
        shifts[k] = (*shifts.get(k, ()), shift)
    hs = []
    for k, s in shifts.items():
        arl, k_safe = config.chart_arl_frames(s) / block, max(k - margin, 0.25 * k)
        # a discrete law's chart is solved two-sided: half the one-sided run length
        hs.append(
            cusum_threshold(arl, k_safe)
            if law is None
            else discrete_cusum_threshold(*law, arl / 2, k_safe)
        )
    return tuple(shifts), tuple(hs)


def estimate_reference(
    values: Sequence[float] | np.ndarray, config: DriftConfig
) -> MetricReference:
    """Learn one statistic's reference from a clean period (NaNs dropped)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 10:
        raise ValueError(f"a reference needs at least 10 finite values, got {len(x)}")
    mean = float(np.mean(x))
    std = float(np.std(x))
    indicator = bool(np.all((x == 0.0) | (x == 1.0)))
    rate = mean
    if indicator:
        # a 0/1 statistic that never fired in the clean period still has a rate: assume
        # half an event, so the first appearances of a class are not a certainty of drift
        rate = min(max(mean, 0.5 / len(x)), 1 - 0.5 / len(x))
        std = math.sqrt(rate * (1 - rate))
    if std <= 0 or not math.isfinite(std):
        std = max(abs(mean) * 1e-3, 1e-6)
    ar = () if indicator else fit_autoregression(x, config.max_ar_order)
    r = residuals(x, mean, ar)
    tau = integrated_autocorrelation_time(r)  # 1 for a constant series
    lr_std = float(np.std(r)) * math.sqrt(tau) / (1.0 - sum(ar)) if ar else std * math.sqrt(tau)
    block = block_size(tau, mean, indicator, config)
    law = indicator_block_law(rate, mean, std, lr_std, block) if indicator else None
    ks, hs = charts(std, lr_std, block, len(x), config, law)
    return MetricReference(
        mean=mean,
        std=std,
        lr_std=lr_std,
        tau=tau,
        block=block,
        n=len(x),
        indicator=indicator,
        ar=ar,
        allowances=ks,
        thresholds=hs,
    )
