"""Thresholds for every quality check: one frozen model per check, defaults a reviewer can read.

Every check turns its measurement into a *ratio* ``r`` (how far the frame is past its limit,
``r = 1`` exactly at the limit) and then into a score in [0, 1] with :func:`ratio_score`
(``r / 2`` below the limit, ``1 - 1 / (2 r)`` past it). A frame is flagged when the score
reaches ``flag_at`` (0.5, the limit itself, by default) and is ``critical`` from
``critical_at``. The limits are in the metric's own units and appear in each issue's detail.

Relative limits compare a frame with its own camera's recent normal (median and MAD over a
bounded window, see :mod:`framegate.detectors.sequence_baseline`); absolute limits (floors) still
apply, so a camera that is always bad is flagged too.

The default table (``Policy()``):

==========================  ================================================================
check                       flagged when (b = brightness, med = camera median, s = robust
                            sigma over the camera's last 64 normal frames, k = 6)
==========================  ================================================================
dark                        b < max(0.05, min(0.55 x med, med - k s))
bright                      b > 0.92, or b > 0.55 and b > max(1 - 0.45 x (1 - med), med + k s)
                            (never above 0.92)
low_contrast                contrast < max(0.035, min(0.55 x med, med - k s))
blurry                      edge/contrast ratio < max(0.08, min(0.62 x med, med - k s))
noisy                       noise sigma > min(6.0, max(1.9 x med, med + k s)) grey levels
low_information             entropy < max(1.6, med - 1.9) bits (of 5)
grayscale                   colourfulness < max(0.012, min(0.3 x med, med - k s)): grey
                            pixels, stored as RGB or not, or a colourful camera gone grey
odd_size                    a side < 96 px, or the size differs from the camera's usual one
odd_aspect_ratio            long side / short side > 2.5
exposure_clipped            grey pixels at 0-3/252-255 > min(0.3, max(med + 0.10, med + k s)),
                            or pixels with a channel there > min(0.75, max(med + 0.15,
                            med + k s))
exact_duplicate             identical pixels to one of the camera's last 64 frames
near_duplicate              fingerprint (6x6 low DCT) of a frame 4-64 back within 0.5 x the
                            camera's 5th-percentile best-match distance and within 0.12 x
                            the distance to the previous frame (0.4 x when within 0.2 %,
                            a re-encoded copy's distance); only on a camera whose
                            previous frame is usually within 1.5 x its best older match,
                            after 20 baseline frames
frozen                      3 consecutive frames with mean thumbnail change < max(0.02,
                            min(0.6, 0.12 x med)), or no thumbnail pixel changed by more
                            than 1 grey level on a camera whose largest change is usually
                            >= 4
camera_moved                view shifted > max(5 %, med + k s) of the width (phase
                            correlation, response >= 0.05), or edge match with the
                            reference < max(0.05, min(0.35, med - k s)); once, then the new
                            view is the reference
obstructed                  > 25 % of the textured cells lost texture (< 0.3 x reference)
dropped_frames              gap > max(2.5 x med interval, med + k s)
annotation_near_border      a box within 1 % of the image border
tiny_box                    a box side < 4 px or area < 0.01 % of the image
duplicate_box               two boxes with the same label and IoU > 0.9
==========================  ================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from framegate.detectors.issues import build_issue
from framegate.schemas.checks import Check, Severity
from framegate.schemas.reports import Issue


def ratio_score(ratio: float) -> float:
    """Map ``ratio`` (1 = exactly at the limit) to a score in [0, 1], 1 = certainly bad.

    Examples
    --------
    >>> [round(ratio_score(r), 3) for r in (0.0, 0.5, 1.0, 2.0, 10.0)]
    [0.0, 0.25, 0.5, 0.75, 0.95]
    """
    if ratio != ratio or ratio <= 0.0:  # NaN or nothing wrong
        return 0.0
    if ratio < 1.0:
        return 0.5 * ratio
    return min(1.0, 1.0 - 0.5 / ratio)


class CheckPolicy(BaseModel):
    """What every check shares: on/off, the score that flags and the score that is critical."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    flag_at: float = Field(0.5, ge=0.0, le=1.0, description="score at which a frame is flagged")
    critical_at: float = Field(0.8, ge=0.0, le=1.0, description="score from which it is critical")
    severity: Severity = Field("warning", description="severity below critical_at")

    def judge(self, check: Check, ratio: float, detail: str) -> Issue | None:
        """An issue when ``ratio`` scores at or above ``flag_at``, else None.

        The issue is built by :func:`~framegate.detectors.issues.build_issue`: ``critical``
        from ``critical_at``, ``severity`` below it; the score is reported to 4 decimals.
        """
        if not self.enabled:
            return None
        score = ratio_score(ratio)
        if score < self.flag_at:
            return None
        return build_issue(
            check,
            score,
            self.flag_at,
            detail,
            critical_at=self.critical_at,
            severity=self.severity,
            digits=4,
        )


class DarkPolicy(CheckPolicy):
    floor: float = Field(0.05, description="mean brightness (0-1) below which a frame is dark")
    drop: float = Field(0.55, description="dark below this fraction of the camera's median")


class BrightPolicy(CheckPolicy):
    ceiling: float = Field(0.92, description="mean brightness above which a frame is bright")
    headroom: float = Field(
        0.45, description="bright when 1 - brightness falls below this x the camera's ..."
    )
    rise_min: float = Field(0.55, description="... when also brighter than this")


class LowContrastPolicy(CheckPolicy):
    floor: float = Field(0.035, description="RMS contrast (grey std / 255) floor")
    drop: float = Field(0.55, description="low below this fraction of the camera's median")


class BlurryPolicy(CheckPolicy):
    floor: float = Field(0.08, description="edge energy / contrast below which a frame is blurry")
    drop: float = Field(0.62, description="blurry below this fraction of the camera's median")


class NoisyPolicy(CheckPolicy):
    floor: float = Field(6.0, description="noise sigma (grey levels) that is always noisy")
    rise: float = Field(1.9, description="noisy above this multiple of the camera's median")


class LowInformationPolicy(CheckPolicy):
    floor: float = Field(1.6, description="thumbnail entropy (bits of 5) below which: no content")
    drop: float = Field(1.9, description="bits below the camera's median entropy")


class GrayscalePolicy(CheckPolicy):
    severity: Severity = "info"
    critical_at: float = 1.0
    limit: float = Field(0.012, description="colourfulness (0-1) below which a frame is grey")
    drop: float = Field(
        0.3, description="... or below this fraction of the camera's median colourfulness"
    )


class OddSizePolicy(CheckPolicy):
    min_side: int = Field(96, description="shortest acceptable side in pixels")
    size_change: bool = Field(True, description="flag a frame whose size differs from usual")


class OddAspectRatioPolicy(CheckPolicy):
    max_ratio: float = Field(2.5, description="long side / short side above which it is odd")


class ExposureClippedPolicy(CheckPolicy):
    floor: float = Field(0.3, description="fraction of grey pixels at 0-3 or 252-255")
    rise: float = Field(0.10, description="... or this much more than the camera's median")
    channel_floor: float = Field(
        0.75, description="fraction of pixels with any colour channel at 0-3 or 252-255"
    )
    channel_rise: float = Field(0.15, description="... or this much more than the camera's")


class DuplicatePolicy(CheckPolicy):
    history: int = Field(64, ge=1, le=256, description="frames of hash history per camera")


class NearDuplicatePolicy(CheckPolicy):
    history: int = Field(64, ge=1, le=256, description="frames of fingerprints per camera")
    fraction: float = Field(
        0.5,
        description="a copy: fingerprint distance below this x the camera's 5th "
        "percentile of ordinary best-match distances",
    )
    continuity: float = Field(
        1.5,
        description="judge only when the previous frame is usually within this x the "
        "best older match (a camera whose frames all look alike cannot tell copies)",
    )
    step_fraction: float = Field(
        0.12, description="... and below this x the frame's distance to the previous frame"
    )
    copy_distance: float = Field(
        0.002,
        description="a fingerprint this close (relative distance) is what re-encoding or "
        "resizing leaves of a copy; then ...",
    )
    copy_step_fraction: float = Field(
        0.4, description="... below this x the distance to the previous frame is enough"
    )
    min_frames: int = Field(
        20,
        ge=1,
        description="baseline frames before copies are judged (the 5th percentile and the "
        "continuity test need about 16 best-match distances)",
    )
    skip_recent: int = Field(
        3, ge=0, description="ignore the last N frames (a fixed camera's own continuity)"
    )


class FrozenPolicy(CheckPolicy):
    run: int = Field(3, ge=2, description="consecutive unchanged frames that make a freeze")
    change: float = Field(0.6, description="mean absolute change (grey levels) below which...")
    change_fraction: float = Field(0.12, description="... and below this fraction of usual")
    peak: float = Field(1.0, description="or no thumbnail pixel changed by more than this ...")
    usual_peak: float = Field(
        4.0, description="... on a camera whose largest change is usually at least this"
    )


class CameraMovedPolicy(CheckPolicy):
    shift: float = Field(
        0.05,
        description="global shift (fraction of the width) that is a move, or the "
        "camera's median + k robust sigmas if larger",
    )
    min_response: float = Field(
        0.05, description="phase-correlation response below which the shift is not trusted"
    )
    min_match: float = Field(0.35, description="structure correlation with the reference")


class ObstructedPolicy(CheckPolicy):
    fraction: float = Field(0.25, description="fraction of textured cells that lost texture")
    texture_drop: float = Field(0.3, description="a cell lost texture below this x reference")


class DroppedFramesPolicy(CheckPolicy):
    min_gap: float = Field(0.0, description="seconds; shorter gaps are never drops")
    factor: float = Field(2.5, description="gap above this multiple of the camera's interval")


class AnnotationBorderPolicy(CheckPolicy):
    severity: Severity = "info"
    margin: float = Field(0.01, description="fraction of the image side counted as border")


class TinyBoxPolicy(CheckPolicy):
    min_side: float = Field(4.0, description="pixels")
    min_area: float = Field(1e-4, description="fraction of the image area")


class DuplicateBoxPolicy(CheckPolicy):
    iou: float = Field(0.9, description="IoU above which two same-label boxes are duplicates")


class BaselinePolicy(BaseModel):
    """The per-camera robust statistics behind every relative limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(64, ge=8, le=512, description="recent normal frames kept per metric")
    warmup: int = Field(8, ge=2, description="frames before relative limits apply")
    mad_k: float = Field(6.0, description="relative limits are at least k robust sigmas away")
    admit_flagged_every: int = Field(
        8, ge=1, description="a flagged frame enters the baseline only every N-th time"
    )


class CameraPolicy(BaseModel):
    """All thresholds for one camera (the defaults with that camera's overrides merged)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    baseline: BaselinePolicy = BaselinePolicy()
    dark: DarkPolicy = DarkPolicy()
    bright: BrightPolicy = BrightPolicy()
    low_contrast: LowContrastPolicy = LowContrastPolicy()
    blurry: BlurryPolicy = BlurryPolicy()
    noisy: NoisyPolicy = NoisyPolicy()
    low_information: LowInformationPolicy = LowInformationPolicy()
    grayscale: GrayscalePolicy = GrayscalePolicy()
    odd_size: OddSizePolicy = OddSizePolicy()
    odd_aspect_ratio: OddAspectRatioPolicy = OddAspectRatioPolicy()
    exposure_clipped: ExposureClippedPolicy = ExposureClippedPolicy()
    exact_duplicate: DuplicatePolicy = DuplicatePolicy()
    near_duplicate: NearDuplicatePolicy = NearDuplicatePolicy()
    frozen: FrozenPolicy = FrozenPolicy(severity="critical")
    camera_moved: CameraMovedPolicy = CameraMovedPolicy(severity="critical", critical_at=0.0)
    obstructed: ObstructedPolicy = ObstructedPolicy()
    dropped_frames: DroppedFramesPolicy = DroppedFramesPolicy()
    annotation_near_border: AnnotationBorderPolicy = AnnotationBorderPolicy()
    tiny_box: TinyBoxPolicy = TinyBoxPolicy()
    duplicate_box: DuplicateBoxPolicy = DuplicateBoxPolicy()


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class Policy(BaseModel):
    """Fleet defaults plus per-camera overrides.

    Examples
    --------
    >>> p = Policy.model_validate({"cameras": {"cam-7": {"dark": {"floor": 0.02}}}})
    >>> p.for_camera("cam-7").dark.floor, p.for_camera("cam-1").dark.floor
    (0.02, 0.05)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    defaults: CameraPolicy = CameraPolicy()
    cameras: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="camera_id -> partial CameraPolicy overriding defaults"
    )

    _cache: dict[str, CameraPolicy] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: Any) -> None:
        # Validate every override now, so a typo fails at start-up and not on a frame.
        self._cache = {cam: self._build(cam) for cam in self.cameras}

    def _build(self, camera_id: str) -> CameraPolicy:
        override = self.cameras.get(camera_id)
        if not override:
            return self.defaults
        return CameraPolicy.model_validate(_merge(self.defaults.model_dump(), override))

    def for_camera(self, camera_id: str) -> CameraPolicy:
        """The thresholds for ``camera_id``: its overrides merged over the defaults."""
        return self._cache.get(camera_id, self.defaults)

    @classmethod
    def from_mapping(cls, document: Mapping[str, Any] | None) -> Self:
        """A policy from a parsed document: ``defaults: {...}`` and
        ``cameras: {cam-7: {dark: {...}}}``; both keys are optional, ``None`` (an empty
        file) gives the default table.

        Raises
        ------
        ValueError
            When the document is not a mapping (a ``pydantic.ValidationError``, itself a
            ``ValueError``, when a key or a value is wrong).
        """
        if document is None:
            document = {}
        if not isinstance(document, Mapping):
            raise ValueError(f"a policy is a mapping, got {type(document).__name__}")
        return cls.model_validate(dict(document))

    @classmethod
    def from_yaml(cls, text: str) -> Self:
        """A policy from the text of a YAML policy file (the caller reads the file); an
        empty document gives the default table.

        Examples
        --------
        >>> p = Policy.from_yaml("cameras: {cam-7: {dark: {floor: 0.02}}}")
        >>> p.for_camera("cam-7").dark.floor
        0.02
        >>> Policy.from_yaml("") == Policy()
        True
        """
        return cls.from_mapping(yaml.safe_load(text) or {})
