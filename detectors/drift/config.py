"""Drift thresholds: one frozen model whose defaults are the table a reviewer reads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

SECONDS_PER_DAY = 86_400.0
#: Frames per second assumed until a camera's own rate is known (a handful of frames).
FALLBACK_FRAME_RATE = 2.0


class DriftConfig(BaseModel):
    """How per-camera drift detection trades false alarms for delay.

    The false-alarm budget is ``target_false_alarms_per_day`` per camera, all statistics
    together. A day is converted into frames at ``frame_rate`` when it is set, else at each
    camera's own rate, estimated from its ``captured_at`` times
    (:class:`~framegate.detectors.drift.rate.FrameRate`). The budget is split evenly over
    ``expected_metrics`` statistics, each watched by one two-sided chart per entry of
    ``design_shifts`` (see :meth:`chart_arl_frames` for how a statistic's share is split).

    A statistic without a calibrated reference is self-starting: it is watched from its
    ``warmup_frames``-th value on, against a reference that keeps growing to
    ``reference_frames`` values (:mod:`~framegate.detectors.drift.pool`), and whose
    thresholds allow for what so short a reference cannot know yet (see
    :func:`~framegate.detectors.drift.reference.charts`). A change that came and went at the
    same time of day (within ``daily_tolerance_s``) on one of the last ``daily_memory_days``
    days raises no alert (:mod:`~framegate.detectors.drift.daily`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    target_false_alarms_per_day: float = Field(0.5, gt=0, description="per camera, all statistics")
    frame_rate: float | None = Field(
        None, gt=0, description="frames per second; unset: each camera's own, from captured_at"
    )
    expected_metrics: int = Field(8, ge=1, description="statistics sharing the alarm budget")
    design_shifts: tuple[float, ...] = Field(
        (0.5, 1.0, 2.0), description="step sizes (reference std units) with one CUSUM chart each"
    )
    warmup_frames: int = Field(
        300, ge=100, description="values learnt before a statistic is watched (self-start)"
    )
    reference_frames: int = Field(
        3000,
        ge=100,
        description="values the reference grows to (at least warmup_frames); thresholds "
        "tighten until then",
    )
    reference_lag_frames: int = Field(
        300,
        ge=0,
        description="a value joins the reference this many frames (at least 10 blocks) after it "
        "was charted",
    )
    reference_growth: float = Field(
        1.25, gt=1, description="the reference is re-estimated each time it grows by this factor"
    )
    budget_margin: float = Field(
        1.5,
        ge=1,
        description="charts on learnt references are set for this many times fewer false "
        "alarms than the budget (what the references' error model leaves out)",
    )
    reference_margin: float = Field(
        3.0,
        ge=0,
        description="shifts within this many standard errors of a growing reference's mean "
        "are not looked for (allowances are at least that)",
    )
    min_relative_spread: float = Field(
        0.02,
        ge=0,
        description="a reference's std is taken as at least this fraction of its mean level "
        "(real scenes wander more than a quiet start shows); 0/1 statistics excepted",
    )
    daily_tolerance_s: float = Field(
        7200.0,
        ge=0,
        description="a change within this much of the time of day of one that came and went on "
        "an earlier day is the day's rhythm, not drift (0: off)",
    )
    daily_memory_days: int = Field(
        2, ge=1, description="days a change that came and went is remembered"
    )
    max_ar_order: int = Field(
        5, ge=0, description="largest prewhitening autoregression (order chosen by BIC)"
    )
    max_block: int = Field(50, ge=1, description="largest block of frames averaged per update")
    indicator_min_count: float = Field(
        10.0, gt=0, description="0/1 statistics: expected rarer outcomes per block (normality)"
    )
    max_indicator_block: int = Field(200, ge=1)
    max_allowance: float = Field(
        1.0,
        gt=0,
        description="largest CUSUM allowance k (block z units); larger shifts share it, and a "
        "step chart for sudden changes has it",
    )
    block_per_tau: float = Field(1.0, gt=0, description="block length / autocorrelation time")
    cooldown_frames: int = Field(
        600, ge=0, description="after a resolve, no new alert for this long"
    )
    min_resolve_shift: float = Field(
        0.25, gt=0, description="smallest return (reference std units) the resolve chart seeks"
    )
    history_blocks: int = Field(256, ge=8, description="recent blocks kept for evidence")
    max_examples: int = Field(5, ge=1)
    severity_warning_sigma: float = Field(0.5, ge=0)
    severity_critical_sigma: float = Field(2.0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> DriftConfig:
        if not self.design_shifts or min(self.design_shifts) <= 0:
            raise ValueError("design_shifts must be a non-empty tuple of positive step sizes")
        if self.severity_critical_sigma < self.severity_warning_sigma:
            raise ValueError("severity_critical_sigma must be >= severity_warning_sigma")
        return self

    @property
    def reference_size(self) -> int:
        """Values a self-starting reference grows to."""
        return max(self.reference_frames, self.warmup_frames)

    def frames_per_false_alarm(self, frame_rate: float) -> float:
        """Frames between two false alarms of one camera at ``frame_rate``, all statistics."""
        return SECONDS_PER_DAY * frame_rate / self.target_false_alarms_per_day

    def detector_arl_frames(self, frame_rate: float) -> float:
        """In-control run length (frames) of a one-sided chart with an even budget share."""
        return (
            self.frames_per_false_alarm(frame_rate)
            * self.expected_metrics
            * len(self.design_shifts)
            * 2
        )

    def chart_arl_frames(self, shifts: tuple[float, ...], frame_rate: float) -> float:
        """In-control run length (frames) of a one-sided chart watching for ``shifts``.

        A statistic's budget is split over its charts in proportion to ``1/sqrt(shift)``
        rather than evenly: a small shift's delay grows fastest with the threshold (about
        ``1/shift**2`` frames per doubling of the run length), so it gets the larger share.
        With the default shifts the shares are 45 %, 32 % and 23 %.

        >>> config = DriftConfig(target_false_alarms_per_day=1.728, expected_metrics=6)
        >>> round(config.frames_per_false_alarm(2.0)), round(config.chart_arl_frames((1.0,), 2.0))
        (100000, 3745584)
        """
        total = sum(s**-0.5 for s in self.design_shifts)
        share = sum(s**-0.5 for s in shifts) / total
        return self.frames_per_false_alarm(frame_rate) * self.expected_metrics * 2 / share


class FleetDriftConfig(BaseModel):
    """Fleet-wide drift: a pooled chart per statistic and a vote over cameras."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    period_s: float = Field(60.0, gt=0, description="pooling period of the fleet chart")
    target_false_alarms_per_day: float = Field(0.5, gt=0, description="fleet, all statistics")
    expected_metrics: int = Field(8, ge=1)
    design_shifts: tuple[float, ...] = (0.25, 0.5, 1.0)
    min_cameras: int = Field(3, ge=1, description="cameras drifting together for a fleet alert")
    min_fraction: float = Field(0.3, gt=0, le=1, description="of active cameras, same metric")
    window_s: float = Field(3600.0, gt=0, description="camera alerts this close count as together")
    active_s: float = Field(600.0, gt=0, description="a camera is active if seen this recently")
    cooldown_s: float = Field(3600.0, ge=0)

    @property
    def detector_arl_periods(self) -> float:
        periods_per_day = SECONDS_PER_DAY / self.period_s
        return (
            periods_per_day
            / self.target_false_alarms_per_day
            * self.expected_metrics
            * (len(self.design_shifts) * 2)
        )
