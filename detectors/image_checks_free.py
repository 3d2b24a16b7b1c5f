"""Content-independent image checks, for cameras whose pictures are meant to vary.

A moving camera's view and a snapshot camera's subject change from one frame to the next,
so "darker than this camera's usual view" means nothing there. These checks judge what a
picture shows about the *capture* instead, whatever it shows of the scene:

- ``dark``: even the brightest 1 % of the pixels are dim (nothing in the picture is lit),
  in absolute terms or against the level this camera's brightest pixels usually reach;
- ``bright``: even the darkest 1 % are light (nothing is dark);
- ``low_contrast``: the 1st-99th percentile span is narrow;
- ``blurry``: the finest octave lost its detail relative to the next one (``detail``);
- ``noisy``: noise that fine texture does not explain (``fine_noise``);
- ``low_information``, ``grayscale``, ``exposure_clipped``: absolute limits.

Only properties of the camera itself are compared with its own history (``camera``: the
baseline of every frame, whatever it showed): how soft its lens or its pictures always are
(``detail``), how much fine texture its pictures usually carry (``fine_noise``), whether it
always sends grey pictures (a night or IR camera is not ``grayscale`` on every frame), and
how much of its pictures is usually clipped (a product camera's white backdrop). Those limits
only ever loosen the absolute ones, so a varied stream is never flagged for varying.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from framegate.detectors.image_checks import check_low_information
from framegate.detectors.policy import CameraPolicy
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.schemas.checks import Check
from framegate.schemas.reports import Issue

Metrics = Mapping[str, float]
FreeCheck = Callable[[Metrics, RobustBaseline, CameraPolicy], Issue | None]


def _median(base: RobustBaseline, name: str) -> float | None:
    if not base.ready:
        return None
    value = base.median(name)
    return value if value == value else None


#: The ratio of a metric at zero: far past any limit, but finite, as the judges expect.
_NOTHING = 50.0


def _shortfall(limit: float, value: float) -> float:
    """How far ``value`` falls below ``limit``, as ``limit / value``."""
    return limit / value if value > 0 else _NOTHING


def check_dark(m: Metrics, camera: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    """Nothing in the picture is lit: its brightest 1 % under ``highlights``, or under
    ``highlights_drop`` x the level this camera's brightest pixels usually reach."""
    p = policy.dark
    b, hi = m["brightness"], m["highlights"]
    limit = p.highlights
    usual = _median(camera, "highlights")
    if usual is not None:
        limit = max(limit, p.highlights_drop * usual)
    ratio = max(_shortfall(p.floor, b), _shortfall(limit, hi))
    return p.judge(
        Check.DARK,
        ratio,
        f"mean brightness {b:.3f} and the brightest 1 % of pixels at {hi:.3f} (limits "
        f"{p.floor} and {limit:.3f}): nothing in the picture is lit",
    )


def check_bright(m: Metrics, camera: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    p = policy.bright
    b, lo = m["brightness"], m["shadows"]
    ratio = max(b / p.ceiling, lo / p.shadows)
    return p.judge(
        Check.BRIGHT,
        ratio,
        f"mean brightness {b:.3f} and the darkest 1 % of pixels at {lo:.3f} (limits "
        f"{p.ceiling} and {p.shadows}): nothing in the picture is dark",
    )


def check_low_contrast(m: Metrics, camera: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    p = policy.low_contrast
    c, span = m["contrast"], m["highlights"] - m["shadows"]
    ratio = max(_shortfall(p.floor, c), _shortfall(p.span, span))
    return p.judge(
        Check.LOW_CONTRAST,
        ratio,
        f"contrast (grey std) {c:.3f} and grey spanning {span:.3f} from the 1st to the 99th "
        f"percentile (limits {p.floor} and {p.span})",
    )


def check_blurry(m: Metrics, camera: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    p = policy.blurry
    v = m["detail"]
    limit = p.detail_floor
    usual = _median(camera, "detail")
    if usual is not None:
        limit = min(limit, p.detail_drop * usual)
    return p.judge(
        Check.BLURRY,
        _shortfall(limit, v),
        f"finest detail {v:.3f} of the next octave's, below {limit:.3f} (floor "
        f"{p.detail_floor}; camera median {usual if usual is not None else float('nan'):.3f})",
    )


def check_noisy(m: Metrics, camera: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    p = policy.noisy
    v = m["fine_noise"]
    limit = p.fine_floor
    if camera.ready:
        usual = camera.quantile("fine_noise", 0.9)
        if usual == usual:
            limit = max(limit, p.fine_rise * usual)
    return p.judge(
        Check.NOISY,
        v / limit,
        f"noise {v:.2f} grey levels that fine texture does not explain, above {limit:.2f} "
        f"(floor {p.fine_floor})",
    )


def is_grey_camera(camera: RobustBaseline, policy: CameraPolicy) -> bool | None:
    """Whether the camera usually sends grey pictures (night, IR, a grey product line);
    None while its baseline is warming up."""
    usual = _median(camera, "colourfulness")
    return None if usual is None else usual < policy.grayscale.limit


def check_grayscale(m: Metrics, camera: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    """Grey pixels, unless the camera always sends grey pictures: then grey is its normal.
    Not judged while the camera's baseline warms up (its first frames tell which it is)."""
    p = policy.grayscale
    if is_grey_camera(camera, policy) is not False:
        return None
    v = m["colourfulness"]
    limit = max(p.limit, p.drop * (_median(camera, "colourfulness") or 0.0))
    return p.judge(
        Check.GRAYSCALE,
        _shortfall(limit, v),
        f"colourfulness {v:.4f} is below {limit:.4f} (absolute {p.limit}; {p.drop} x the "
        "camera's median): the pixels are grey (even if stored as RGB)",
    )


def check_exposure_clipped(
    m: Metrics, camera: RobustBaseline, policy: CameraPolicy, *, varied: bool = True
) -> Issue | None:
    """Clipped pixels over what this camera often clips (its 90th percentile: a white or
    black backdrop) plus a margin. On a camera of ``varied`` pictures (snapshots) never
    under the absolute floors; on a moving camera, whose pictures follow one another, the
    camera's own level is the limit once known."""
    p = policy.exposure_clipped
    floor, cfloor = (p.floor, p.channel_floor) if varied else (p.free_floor, p.free_channel_floor)
    limit, climit = floor, cfloor
    if camera.ready:
        limit = camera.quantile("clipped", 0.9) + p.rise
        climit = camera.quantile("clipped_channels", 0.9) + p.channel_rise
        if varied:
            limit, climit = max(limit, floor), max(climit, cfloor)
        else:
            limit, climit = min(limit, floor), min(climit, cfloor)
    v, c = m["clipped"], m["clipped_channels"]
    return p.judge(
        Check.EXPOSURE_CLIPPED,
        max(v / limit, c / climit),
        f"{100 * v:.1f}% of pixels clipped to black or white (limit {100 * limit:.1f}%), "
        f"{100 * c:.1f}% with a colour channel clipped (limit {100 * climit:.1f}%)",
    )


_COLD = RobustBaseline(("entropy",), window=1, warmup=1)  # never updated: never ready


def _low_information(m: Metrics, camera: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    """The absolute floor only (the camera's median entropy says nothing here)."""
    return check_low_information(m, _COLD, policy)


#: Content-independent checks, in the same order as the scene registry.
FREE_CHECKS: dict[Check, FreeCheck] = {
    Check.DARK: check_dark,
    Check.BRIGHT: check_bright,
    Check.LOW_CONTRAST: check_low_contrast,
    Check.BLURRY: check_blurry,
    Check.NOISY: check_noisy,
    Check.LOW_INFORMATION: _low_information,
    Check.GRAYSCALE: check_grayscale,
    Check.EXPOSURE_CLIPPED: check_exposure_clipped,
}

#: The camera's own columns these checks read (the inspector records every frame's).
CAMERA_METRICS = (
    "detail",
    "fine_noise",
    "colourfulness",
    "clipped",
    "clipped_channels",
    "highlights",
)


def run_free_checks(
    m: Metrics, camera: RobustBaseline, policy: CameraPolicy, *, varied: bool = True
) -> list[Issue]:
    """Every content-independent check, in registry order; the issues that fired.

    ``varied``: a snapshot camera's unrelated pictures (False for a moving camera, whose
    pictures follow one another: only ``exposure_clipped`` tells them apart).
    """
    out = []
    for check, fn in FREE_CHECKS.items():
        if check == Check.EXPOSURE_CLIPPED:
            issue = check_exposure_clipped(m, camera, policy, varied=varied)
        else:
            issue = fn(m, camera, policy)
        if issue is not None:
            out.append(issue)
    return out
