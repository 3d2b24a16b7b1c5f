"""A statistic's reference: level, spread, autocorrelation, and the charts it implies."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.stats import betabinom, binom

from framegate.detectors.drift.config import FALLBACK_FRAME_RATE, DriftConfig
from framegate.detectors.drift.cusum import (
    cusum_threshold,
    discrete_cusum_threshold,
    estimated_chart,
)


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
    ``k``/``h`` of each chart, set for ``n`` reference frames (:func:`charts`) at
    ``frame_rate`` frames per second (None: unknown, set again by the first monitor).
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
    lr_se: float = Field(
        0.0, ge=0, description="relative standard error of lr_std (autoregression, tau)"
    )
    allowances: tuple[float, ...]
    thresholds: tuple[float, ...]
    frame_rate: float | None = Field(None, gt=0, description="frames/s the thresholds are for")
    final_n: int | None = Field(
        None, ge=1, description="frames a growing reference will have (None: n, complete)"
    )

    def at_frame_rate(self, frame_rate: float, config: DriftConfig) -> MetricReference:
        """The same reference with its charts set for ``frame_rate`` frames per second."""
        law = None
        if self.indicator:
            law = indicator_block_law(
                _indicator_rate(self.mean, self.n), self.mean, self.std, self.lr_std, self.block
            )
        ks, hs = charts(
            self.std,
            self.lr_std,
            self.block,
            self.n,
            config,
            frame_rate,
            law,
            self.lr_se,
            self.final_n,
            config.budget_margin,
        )
        return self.model_copy(
            update={"allowances": ks, "thresholds": hs, "frame_rate": frame_rate}
        )


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

    Only models whose coefficients sum to 0 or more are candidates: camera statistics are
    correlated positively, and a spurious negative fit (a short reference of independent
    values can suggest one) would understate the long-run spread, so overstate every
    standardised value to come.

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
        if bic < best_bic and phi.sum() >= 0.0:
            best, best_bic = phi.copy(), bic
    return tuple(float(c) for c in best)


def ar_sum_se(x: np.ndarray, ar: Sequence[float]) -> float:
    """Standard error of the sum of autoregression coefficients fitted to ``x``.

    The long-run spread of a prewhitened statistic is ``residual std / (1 - sum(ar))``,
    so this error is what an estimated autoregression leaves uncertain about it (for an
    AR(1) of 0.9 learnt from 300 frames: 0.025 on 0.1, a quarter of the spread). From the
    coefficients' asymptotic covariance ``sigma^2 Gamma^-1 / n``.

    >>> rng = np.random.default_rng(0)
    >>> x = np.zeros(3000)
    >>> for t in range(1, len(x)):
    ...     x[t] = 0.9 * x[t - 1] + rng.normal()
    >>> round(ar_sum_se(x, fit_autoregression(x, 5)), 3)  # sqrt((1 - 0.81) / 3000)
    0.008
    """
    p = len(ar)
    if not p:
        return 0.0
    acov = autocovariance(x)[: p + 1]
    gamma = acov[np.abs(np.subtract.outer(np.arange(p), np.arange(p)))]
    coef = np.asarray(ar)
    noise = max(float(acov[0] - coef @ acov[1 : p + 1]), 1e-300)
    ones = np.ones(p)
    return math.sqrt(max(float(ones @ np.linalg.solve(gamma, ones)), 0.0) * noise / len(x))


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
    frame_rate: float,
    law: tuple[np.ndarray, np.ndarray] | None = None,
    lr_se: float = 0.0,
    final_n: int | None = None,
    margin: float = 1.0,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """CUSUM allowances and thresholds (block z units) meeting the false-alarm budget with a
    reference learnt from ``n`` frames, growing to ``final_n`` (None: complete).

    Each chart targets one of ``config.design_shifts``, its share of the budget
    :meth:`DriftConfig.chart_arl_frames` at ``frame_rate``, divided by ``margin``; where
    the largest of them does not reach the ``config.max_allowance``, a step chart with that
    allowance shares its budget: a sudden change shows whole in one prewhitened value, however
    correlated the statistic, and is caught at once whatever the long-run uncertainty.

    A reference of ``n`` frames has its mean off by about ``sqrt(block / n)`` block z units
    and its long-run spread by about ``sqrt(block / (2 n) + lr_se**2)`` (relative; ``lr_se``
    is what the autoregression's or the autocorrelation time's estimate adds). A growing
    reference's present error lasts until it has grown: allowances are at least
    ``config.reference_margin`` times it (smaller shifts are not looked for yet), and each
    threshold is set for the false-alarm rate averaged over the errors (Jones, Champ and
    Rigdon's unconditional run length, :func:`estimated_chart`): the present ones as far as
    the chart looks back within ``n`` frames, the complete reference's beyond, and the
    spread's in proportion to the chart's reach against the statistic's correlation time.
    The allowance, half the shift with an exact reference, is raised where that shortens the
    delay. A self-starting reference of a few hundred frames thus gets wide charts that
    tighten as it grows; a calibrated one of many thousands is charted as if exact. ``law``
    (block values, probabilities) replaces the Gaussian approximation by the exact
    in-control law of a discrete statistic; the estimation error adds what it adds to a
    Gaussian chart.

    An AR(1) of 0.9 (long-run spread ``sqrt(19)`` times the frame-to-frame one), its
    reference after 300 of 3,000 frames, complete at 3,000, and known exactly: at first the
    small shifts' charts look for 2 sigma and more, then they tighten.

    >>> cfg, lr = DriftConfig(), math.sqrt(19)
    >>> for n, lr_se in ((300, 0.25), (3000, 0.08), (10**9, 0.0)):
    ...     ks, hs = charts(1.0, lr, 1, n, cfg, 2.0, lr_se=lr_se, final_n=3000)
    ...     print([round(k, 3) for k in ks], [round(h) for h in hs])
    [0.222, 0.222, 0.291, 1.0] [79, 89, 77, 10]
    [0.078, 0.125, 0.229, 1.0] [120, 66, 38, 8]
    [0.057, 0.115, 0.229, 1.0] [97, 56, 33, 8]
    """
    scale = std * math.sqrt(block) / lr_std
    tau_lr = max((lr_std / std) ** 2, 1.0)  # frames per independent value, long run
    # A reference still growing towards final_n frames is off by its present error only
    # until it has grown (about n more frames): charts do not look for shifts within
    # reference_margin of those errors yet, and their alarm rate is averaged over the
    # present error as far as they look back within that time, over the error the complete
    # reference will keep beyond it (z units of the estimated spread, maybe lr_se too small)
    wide = math.exp(lr_se)
    transient_se = wide * math.sqrt(block / max(n, 1))
    mean_se = wide * math.sqrt(block / max(final_n or n, n, 1))
    groups: dict[float, tuple[float, ...]] = {}
    for shift in sorted(config.design_shifts):
        # a chart whose allowance is above max_allowance would fire on one block's tail;
        # shifts that share a chart share its budget
        k = round(min(0.5 * shift * scale, config.max_allowance), 9)
        groups[k] = (*groups.get(k, ()), shift)
    budgets = {
        k: margin * config.chart_arl_frames(s, frame_rate) / block for k, s in groups.items()
    }
    largest, step = max(groups), config.max_allowance
    if largest < step:
        # a step chart: a sudden change shows whole in one prewhitened value, however
        # correlated the statistic; it shares the largest shift's budget
        budgets[largest] *= 2.0
        budgets[step] = budgets[largest]
    ks, hs = [], []
    for k, arl in budgets.items():
        # what the reference's long-run spread leaves uncertain matters to a chart in
        # proportion to how far back it looks (a step chart, a few frames)
        reach = block * (cusum_threshold(arl, k) + 1.166) / k
        weight = reach / (reach + tau_lr)
        scale_se = math.sqrt(block / (2.0 * max(n, 1)) + (weight * lr_se) ** 2)
        present = n / (n + reach)
        chart_se = math.sqrt(mean_se**2 + (transient_se**2 - mean_se**2) * present)
        floor = config.reference_margin * transient_se
        k_est, h = estimated_chart(arl, k, chart_se, scale_se, min_allowance=floor)
        if law is not None:
            # a discrete law's chart is solved two-sided: half the one-sided run length
            h += discrete_cusum_threshold(*law, arl / 2, k_est) - cusum_threshold(arl, k_est)
        ks.append(round(k_est, 9))
        hs.append(h)
    return tuple(ks), tuple(hs)


def _indicator_rate(mean: float, n: int) -> float:
    # a 0/1 statistic that never fired in the clean period still has a rate: assume half
    # an event, so the first appearances of a class are not a certainty of drift
    return min(max(mean, 0.5 / n), 1 - 0.5 / n)


def estimate_reference(
    values: Sequence[float] | np.ndarray,
    config: DriftConfig,
    frame_rate: float | None = None,
    final_n: int | None = None,
) -> MetricReference:
    """Learn one statistic's reference from a clean period (NaNs dropped), its charts set
    for ``frame_rate`` (default: ``config.frame_rate``, else :data:`FALLBACK_FRAME_RATE`)
    and, when it is to grow, for the ``final_n`` frames it will have (:func:`charts`)."""
    frame_rate = frame_rate or config.frame_rate or FALLBACK_FRAME_RATE
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 10:
        raise ValueError(f"a reference needs at least 10 finite values, got {len(x)}")
    mean = float(np.mean(x))
    std = float(np.std(x))
    indicator = bool(np.all((x == 0.0) | (x == 1.0)))
    rate = mean
    if indicator:
        rate = _indicator_rate(mean, len(x))
        std = math.sqrt(rate * (1 - rate))
    if std <= 0 or not math.isfinite(std):
        std = max(abs(mean) * 1e-3, 1e-6)
    ar = () if indicator else fit_autoregression(x, config.max_ar_order)
    r = residuals(x, mean, ar)
    tau = integrated_autocorrelation_time(r)  # 1 for a constant series
    lr_std = float(np.std(r)) * math.sqrt(tau) / (1.0 - sum(ar)) if ar else std * math.sqrt(tau)
    floor, widened = config.min_relative_spread * abs(mean), 1.0
    if not indicator and std < floor:  # a quiet start does not show the scene's wander
        widened = floor / std
        lr_std *= widened
        std = floor
    block = block_size(tau, mean, indicator, config)
    # what the estimated autoregression, or the autocorrelation time whatever model
    # describes it, leaves uncertain about the long-run spread
    lr_se = ar_sum_se(x, ar) / (1.0 - sum(ar)) if ar else 0.0
    if block > 1:  # Sokal: tau's relative variance is 2 (2M + 1) / n, a window M of 5 tau
        lr_se = math.hypot(lr_se, 0.5 * math.sqrt(2.0 * (10.0 * tau + 1.0) / len(x)))
    # a spread widened to the floor already allows for that much error (log scale)
    lr_se = max(0.0, lr_se - math.log(widened))
    law = indicator_block_law(rate, mean, std, lr_std, block) if indicator else None
    final_n = max(final_n or len(x), len(x))
    ks, hs = charts(
        std, lr_std, block, len(x), config, frame_rate, law, lr_se, final_n, config.budget_margin
    )
    return MetricReference(
        mean=mean,
        std=std,
        lr_std=lr_std,
        tau=tau,
        block=block,
        n=len(x),
        indicator=indicator,
        ar=ar,
        lr_se=lr_se,
        allowances=ks,
        thresholds=hs,
        frame_rate=frame_rate,
        final_n=final_n if final_n > len(x) else None,
    )
