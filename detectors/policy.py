"""Thresholds for every quality check: one frozen model per check, defaults a reviewer can read.

Every check turns its measurement into a *ratio* ``r`` (how far the frame is past its limit,
``r = 1`` exactly at the limit) and then into a score in [0, 1] with :func:`ratio_score`
(``r / 2`` below the limit, ``1 - 1 / (2 r)`` past it). A frame is flagged when the score
reaches ``flag_at`` (0.5, the limit itself, by default) and is ``critical`` from
``critical_at``. The limits are in the metric's own units and appear in each issue's detail;
the models of each check are in :mod:`framegate.detectors.thresholds`.

A camera's *kind* (``kind``: ``auto`` recognises it from the stream, see
:mod:`framegate.detectors.camera_kind`) decides which limits apply. On **fixed** and
**patrol** cameras, relative limits compare a frame with the camera's recent normal at its
view (median and MAD over a bounded window, one per patrol preset, see
:mod:`framegate.detectors.sequence_baseline`), and the scene-reference checks (obstructed,
camera_moved) run; absolute limits (floors) still apply, so a camera that is always bad is
flagged too. On **moving** and **snapshot** cameras, whose pictures are meant to vary, the
image checks use content-independent limits (the "moving, snapshot" column below), and the
scene-reference checks do not run.

The default table (``Policy()``); "moving, snapshot" limits are those of cameras whose view
is meant to change:

==========================  ================================================================
check                       flagged when (b = brightness, med = camera median, s = robust
                            sigma over the camera's last 64 normal frames, k = 6)
==========================  ================================================================
dark                        b < max(0.05, min(0.55 x med, med - k s)); moving, snapshot:
                            b < 0.05 or the 99th percentile of grey < max(0.3, 0.4 x its
                            camera median)
bright                      b > 0.92, or b > 0.55 and b > max(1 - 0.45 x (1 - med), med + k s)
                            (never above 0.92); moving, snapshot: b > 0.92 or the 1st
                            percentile of grey > 0.6
low_contrast                contrast < max(0.035, min(0.55 x med, med - k s)); moving,
                            snapshot: contrast < 0.035 or percentiles 1-99 span < 0.3
blurry                      edge/contrast ratio < max(0.08, min(0.62 x med, med - k s));
                            moving, snapshot: detail (finest octave / next) < min(0.62,
                            0.75 x camera median)
noisy                       noise sigma > min(6.0, max(1.9 x med, med + k s)) grey levels;
                            moving, snapshot: fine noise > max(3.0, 1.5 x camera's 90th
                            percentile)
low_information             entropy < max(1.6, med - 1.9) bits (of 5)
grayscale                   colourfulness < max(0.012, min(0.3 x med, med - k s)): grey
                            pixels, stored as RGB or not, or a colourful camera gone grey;
                            moving, snapshot: < max(0.012, 0.3 x camera median); never on a
                            camera that is grey (median < 0.012: night, IR)
odd_size                    a side < 96 px, or the size differs from the camera's usual one
                            (not on snapshot cameras)
odd_aspect_ratio            long side / short side > 2.5
exposure_clipped            grey pixels at 0-3/252-255 > min(0.3, max(med + 0.10, med + k s)),
                            or pixels with a channel there > min(0.75, max(med + 0.15,
                            med + k s)); moving: > min(0.25, camera's 90th pct + 0.10) or
                            channels > min(0.45, 90th pct + 0.15); snapshot: > max(0.3, ...)
                            or channels > max(0.75, ...)
exact_duplicate             identical pixels to one of the camera's last 64 frames (and
                            600 s), or to a recent frame of another camera (fleet index)
near_duplicate              descriptor (unit 8x8 low DCT of the grey thumbnail) of a frame
                            within the last 64 (and 600 s): snapshot cameras within 0.1,
                            or within 0.2 and < 0.4 x the next best; other kinds: a frame
                            4 or more back < min(0.8, 0.5 x camera's 5th pct) x the
                            distance to the last 3 frames (re-encoded copies within
                            0.005 and < 0.25 x); another camera's frame within 12 of 64 hash bits
                            and 0.12
frozen                      3 consecutive frames with mean thumbnail change < max(0.02,
                            min(0.6, 0.12 x med)), or no thumbnail pixel changed by more
                            than 1 grey level on a camera whose largest change is usually
                            >= 4 (not on snapshot cameras)
camera_moved                fixed, patrol: view shifted > max(5 %, med + k s) of the width
                            (phase correlation, response >= 0.05), or edge match with the
                            reference < max(0.05, min(0.35, med - k s)), right after a frame
                            at the reference and only once the view was the reference for
                            100 clean frames; a patrol camera's preset seen shifted; once,
                            then the new view is the reference
obstructed                  fixed, patrol: > 25 % of the textured cells lost texture
                            (< 0.3 x a reference of >= 8 frames)
dropped_frames              gap > max(2.5 x med interval, med + k s)
annotation_near_border      a box within 1 % of the image border
tiny_box                    a box side < 4 px or area < 0.01 % of the image
duplicate_box               two boxes with the same label and IoU > 0.9
==========================  ================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from framegate.detectors.thresholds import (
    AnnotationBorderPolicy,
    BlurryPolicy,
    BrightPolicy,
    CameraMovedPolicy,
    CheckPolicy,
    DarkPolicy,
    DroppedFramesPolicy,
    DuplicateBoxPolicy,
    DuplicatePolicy,
    ExposureClippedPolicy,
    FrozenPolicy,
    GrayscalePolicy,
    LowContrastPolicy,
    LowInformationPolicy,
    NearDuplicatePolicy,
    NoisyPolicy,
    ObstructedPolicy,
    OddAspectRatioPolicy,
    OddSizePolicy,
    TinyBoxPolicy,
    ratio_score,
)

__all__ = [
    "BaselinePolicy",
    "BlurryPolicy",
    "CameraPolicy",
    "CheckPolicy",
    "DarkPolicy",
    "DroppedFramesPolicy",
    "KindPolicy",
    "LowContrastPolicy",
    "Policy",
    "ratio_score",
]


class BaselinePolicy(BaseModel):
    """The per-camera robust statistics behind every relative limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(64, ge=8, le=512, description="recent normal frames kept per metric")
    warmup: int = Field(8, ge=2, description="frames before relative limits apply")
    mad_k: float = Field(6.0, description="relative limits are at least k robust sigmas away")
    admit_flagged_every: int = Field(
        8, ge=1, description="a flagged frame enters the baseline only every N-th time"
    )


class KindPolicy(BaseModel):
    """How a camera's kind is recognised (:class:`~framegate.detectors.camera_kind.KindTracker`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(64, ge=8, le=512, description="frames of evidence remembered")
    min_evidence: int = Field(24, ge=4, description="evidence frames before a kind is known")
    switch_after: int = Field(8, ge=1, description="frames another kind must win to replace it")
    snapshot_cuts: float = Field(0.5, description="fraction of unrelated frames: snapshots")
    moving_drifts: float = Field(0.06, description="fraction of frames the view slid: moving")
    patrol_returns: int = Field(2, ge=1, description="returns to a known view: a patrol camera")
    max_views: int = Field(6, ge=1, le=16, description="views (patrol presets) remembered")
    drift_shift: float = Field(
        0.035, description="a view slid when shifted by this fraction of the width"
    )


class CameraPolicy(BaseModel):
    """All thresholds for one camera (the defaults with that camera's overrides merged)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["auto", "fixed", "patrol", "moving", "snapshot"] = Field(
        "auto", description="the camera's kind; auto recognises it from the stream"
    )
    kinds: KindPolicy = KindPolicy()
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
