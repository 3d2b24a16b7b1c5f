"""A statistic's reference: level, spread, autocorrelation, and the charts it implies."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from detectors.drift.config import DriftConfig
from detectors.drift.cusum import cusum_threshold


class MetricReference(BaseModel):
    """What a clean period says about one statistic of one camera.

    ``block`` frames are averaged per detector update; ``lr_std`` is the long-run standard
    deviation (std * sqrt(integrated autocorrelation time)), so a block mean standardised as
    ``(mean - mean_ref) * sqrt(block) / lr_std`` is close to N(0, 1) even on correlated
    footage. A 0/1 ``indicator`` (class frequency) is standardised on the arcsine scale,
    ``2 * sqrt(block) * (asin(sqrt(rate')) - asin(sqrt(rate_ref'))) * std / lr_std``
    with Anscombe's ``rate' = (count + 3/8) / (block + 3/4)``, whose
    tails stay close to Gaussian for rare classes. ``allowances``/``thresholds`` are the
    CUSUM ``k``/``h`` of each chart.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mean: float
    std: float = Field(gt=0)
    lr_std: float = Field(gt=0)
    tau: float = Field(ge=1, description="integrated autocorrelation time, frames")
    block: int = Field(ge=1)
    n: int = Field(ge=1, description="reference frames")
    indicator: bool = False
    allowances: tuple[float, ...]
    thresholds: tuple[float, ...]


class CameraReference(BaseModel):
    """A camera's references, as :func:`detectors.drift.calibrate` returns them."""

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
    y = np.asarray(x, dtype=float) - float(np.mean(x))
    var = float(y @ y) / n
    if n < 4 or var <= 0:
        return 1.0
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(y, size)
    acf = np.fft.irfft(f * np.conj(f), size)[:n] / (var * n)
    taus = 2.0 * np.cumsum(acf) - 1.0
    window = np.arange(n) >= c * taus
    m = int(np.argmax(window)) if window.any() else n - 1
    return max(1.0, float(taus[m]))


def block_size(tau: float, mean: float, indicator: bool, config: DriftConfig) -> int:
    """Frames per block: about one autocorrelation time; more for rare 0/1 events."""
    b = 1 if tau < 1.5 else math.ceil(tau * config.block_per_tau)
    b = min(b, config.max_block)
    if indicator:
        p = min(max(min(mean, 1.0 - mean), 1e-6), 0.5)
        b = max(b, min(config.max_indicator_block, math.ceil(config.indicator_min_count / p)))
    return max(1, b)


def charts(
    std: float, lr_std: float, block: int, n: int, config: DriftConfig
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """CUSUM allowances and thresholds (block z units) meeting the false-alarm budget.

    Each chart targets one of ``config.design_shifts``; its allowance is half that shift in
    block z units. The reference mean's own error (``reference_margin`` standard errors)
    is taken off the allowance before the threshold is solved, so a short reference buys a
    higher threshold rather than false alarms.
    """
    scale = std * math.sqrt(block) / lr_std
    arl_blocks = config.detector_arl_frames / block
    margin = config.reference_margin * math.sqrt(block / max(n, 1))
    ks: list[float] = []
    for shift in sorted(config.design_shifts):
        # a chart whose allowance is above max_allowance would fire on one block's tail
        k = round(min(0.5 * shift * scale, config.max_allowance), 9)
        if k not in ks:
            ks.append(k)
    hs = [cusum_threshold(arl_blocks, max(k - margin, 0.25 * k)) for k in ks]
    return tuple(ks), tuple(hs)


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
    if indicator:
        # a 0/1 statistic that never fired in the clean period still has a rate: assume
        # half an event, so the first appearances of a class are not a certainty of drift
        p = min(max(mean, 0.5 / len(x)), 1 - 0.5 / len(x))
        std = math.sqrt(p * (1 - p))
        mean = float(np.mean(x))
    if std <= 0 or not math.isfinite(std):
        std = max(abs(mean) * 1e-3, 1e-6)
    tau = integrated_autocorrelation_time(x) if np.std(x) > 0 else 1.0
    lr_std = std * math.sqrt(tau)
    block = block_size(tau, mean, indicator, config)
    ks, hs = charts(std, lr_std, block, len(x), config)
    return MetricReference(
        mean=mean,
        std=std,
        lr_std=lr_std,
        tau=tau,
        block=block,
        n=len(x),
        indicator=indicator,
        allowances=ks,
        thresholds=hs,
    )
