"""Thresholds of every quality check: one frozen model per check, its defaults the table in
:mod:`framegate.detectors.policy`.

Every check turns its measurement into a *ratio* ``r`` (how far the frame is past its limit,
``r = 1`` exactly at the limit) and then into a score in [0, 1] with :func:`ratio_score`;
:meth:`CheckPolicy.judge` flags it from ``flag_at``.

Several checks have two sets of limits: the camera-relative ones (against the camera's
recent normal at its view) for cameras whose view stays put (fixed, patrol), and
content-independent ones for cameras whose pictures are meant to vary (moving, snapshot);
the latter are the fields documented "on moving and snapshot cameras".
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

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
    critical_at: float | None = Field(
        0.8, ge=0.0, le=1.0, description="score from which it is critical (None: never)"
    )
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
            critical_at=math.inf if self.critical_at is None else self.critical_at,
            severity=self.severity,
            digits=4,
        )


class DarkPolicy(CheckPolicy):
    floor: float = Field(0.05, description="mean brightness (0-1) below which a frame is dark")
    drop: float = Field(0.55, description="dark below this fraction of the camera's median")
    highlights: float = Field(
        0.3,
        description="on moving and snapshot cameras: dark when even the brightest 1 % of the "
        "pixels stay below this (0-1): nothing in the picture is lit ...",
    )
    highlights_drop: float = Field(
        0.4, description="... or below this x the camera's median of that level"
    )


class BrightPolicy(CheckPolicy):
    ceiling: float = Field(0.92, description="mean brightness above which a frame is bright")
    headroom: float = Field(
        0.45, description="bright when 1 - brightness falls below this x the camera's ..."
    )
    rise_min: float = Field(0.55, description="... when also brighter than this")
    shadows: float = Field(
        0.6,
        description="on moving and snapshot cameras: bright when even the darkest 1 % of the "
        "pixels are above this (0-1): nothing in the picture is dark",
    )


class LowContrastPolicy(CheckPolicy):
    floor: float = Field(0.035, description="RMS contrast (grey std / 255) floor")
    drop: float = Field(0.55, description="low below this fraction of the camera's median")
    span: float = Field(
        0.3,
        description="on moving and snapshot cameras: low when the 1st to 99th percentile of "
        "grey spans less than this (0-1)",
    )


class BlurryPolicy(CheckPolicy):
    floor: float = Field(0.08, description="edge energy / contrast below which a frame is blurry")
    drop: float = Field(0.62, description="blurry below this fraction of the camera's median")
    detail_floor: float = Field(
        0.62,
        description="on moving and snapshot cameras: blurry when the finest octave keeps less "
        "than this of the next one's detail (``detail``, about 1 when sharp) ...",
    )
    detail_drop: float = Field(
        0.75, description="... or, on a camera that is always soft, this x its median"
    )


class NoisyPolicy(CheckPolicy):
    floor: float = Field(6.0, description="noise sigma (grey levels) that is always noisy")
    rise: float = Field(1.9, description="noisy above this multiple of the camera's median")
    fine_floor: float = Field(
        3.0,
        description="on moving and snapshot cameras: noisy when the noise texture does not "
        "explain (``fine_noise``, grey levels) is above this ...",
    )
    fine_rise: float = Field(
        1.5, description="... and above this x the camera's 90th percentile of it"
    )


class LowInformationPolicy(CheckPolicy):
    floor: float = Field(1.6, description="thumbnail entropy (bits of 5) below which: no content")
    drop: float = Field(1.9, description="bits below the camera's median entropy")


class GrayscalePolicy(CheckPolicy):
    # grey is a camera's style or a night view, never an emergency: a truly grey frame
    # (colourfulness 0) scores 1 and would otherwise be critical
    severity: Severity = "info"
    critical_at: float | None = None
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
    free_floor: float = Field(
        0.25,
        description="on moving cameras: grey pixels clipped over the camera's 90th percentile "
        "+ rise, and never over this (snapshot cameras: never under floor) ...",
    )
    free_channel_floor: float = Field(
        0.45, description="... and the same for pixels with a colour channel clipped"
    )


class DuplicatePolicy(CheckPolicy):
    history: int = Field(64, ge=1, le=1024, description="frames of digests per camera")


class NearDuplicatePolicy(CheckPolicy):
    history: int = Field(64, ge=1, le=1024, description="frames remembered per camera ...")
    history_s: float = Field(
        600.0, gt=0, description="... and for at most this many seconds (capture time)"
    )
    skip_recent: int = Field(
        3, ge=1, description="the last N frames are the camera's own continuity, not copies"
    )
    ratio: float = Field(
        0.8,
        description="continuous cameras: a copy's older match is closer than this x the "
        "distance to the last skip_recent frames ...",
    )
    fraction: float = Field(
        0.5, description="... and than this x the camera's 5th percentile of that ratio"
    )
    copy_distance: float = Field(
        0.005,
        description="descriptor distance of a copy that was only re-encoded or rescaled; "
        "such a copy counts when closer than copy_ratio x the recent distance ...",
    )
    copy_ratio: float = Field(0.25, description="... (also right after a cut)")
    max_distance: float = Field(0.2, description="never a copy beyond this descriptor distance")
    min_gap: float = Field(
        0.02,
        description="continuous cameras: the older match must be this much closer than the "
        "recent frames (in a still spell every frame is a copy of every other)",
    )
    snapshot_distance: float = Field(
        0.1, description="snapshot cameras: a copy within this distance of an earlier picture"
    )
    second_ratio: float = Field(
        0.4,
        description="snapshot cameras: or within max_distance and closer than this x the "
        "next-best picture",
    )
    min_frames: int = Field(
        20, ge=1, description="ordinary frames a continuous camera needs before copies count"
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
    min_age: int = Field(
        100,
        ge=0,
        description="clean frames a view must have been the reference for before leaving it "
        "is a move (a camera just moved, or a patrol camera's short stay, is not judged)",
    )


class ObstructedPolicy(CheckPolicy):
    fraction: float = Field(0.25, description="fraction of textured cells that lost texture")
    texture_drop: float = Field(0.3, description="a cell lost texture below this x reference")
    texture_kept: float = Field(0.6, description="a cell kept its texture above this x reference")
    min_kept: float = Field(
        0.1,
        description="fraction of textured cells that must keep their texture: a loss "
        "everywhere is a dark, blurred or fogged picture, not a cover",
    )
    min_age: int = Field(8, ge=0, description="frames averaged into a view before it is judged")


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
