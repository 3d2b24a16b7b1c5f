"""Image checks: compare one frame's metrics with absolute limits and its camera's normal.

Each check is ``check_x(metrics, baseline, policy) -> Issue | None``: the measurement is
done once by :func:`framegate.detectors.image_metrics.measure`, the camera's normal comes from a
:class:`~framegate.detectors.sequence_baseline.RobustBaseline`, and the thresholds from
:class:`~framegate.detectors.policy.CameraPolicy`. Relative limits apply once the baseline is warm;
absolute limits always apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from framegate.detectors.policy import CameraPolicy
from framegate.detectors.sequence_baseline import RobustBaseline
from framegate.detectors.thresholds import BlurryPolicy, DarkPolicy, LowContrastPolicy
from framegate.schemas.checks import Check
from framegate.schemas.reports import Issue

BASELINE_METRICS = (
    "brightness",
    "contrast",
    "edge_ratio",
    "noise",
    "clipped",
    "clipped_channels",
    "entropy",
    "colourfulness",
)

Metrics = Mapping[str, float]
ImageCheck = Callable[[Metrics, RobustBaseline, CameraPolicy], Issue | None]


def _low_limit(base: RobustBaseline, name: str, ratio: float, k: float) -> float | None:
    """Relative lower limit: the more lenient of ``ratio x median`` and ``median - k sigma``."""
    if not base.ready:
        return None
    med = base.median(name)
    return min(ratio * med, med - k * base.sigma(name))


def _high_limit(base: RobustBaseline, name: str, ratio: float, k: float) -> float | None:
    """Relative upper limit: the more lenient of ``ratio x median`` and ``median + k sigma``."""
    if not base.ready:
        return None
    med = base.median(name)
    return max(ratio * med, med + k * base.sigma(name))


def _below(value: float, floor: float, rel: float | None) -> tuple[float, float]:
    """(ratio, limit) for a "too low" metric: the stricter-to-pass of floor and relative."""
    limit = floor if rel is None else max(floor, rel)
    return (limit / value if value > 0 else float("inf")), limit


def _k(policy: CameraPolicy) -> float:
    return policy.baseline.mad_k


def _usual(base: RobustBaseline, name: str, fmt: str = ".3f") -> str:
    if not base.ready:
        return "camera baseline still warming up"
    return f"camera median {base.median(name):{fmt}} over {base.count} frames"


def _too_low(
    check: Check,
    p: DarkPolicy | LowContrastPolicy | BlurryPolicy,
    name: str,
    what: str,
    m: Metrics,
    base: RobustBaseline,
    k: float,
) -> Issue | None:
    """A metric under the floor or the camera's own lower limit (``p``: floor and drop)."""
    ratio, limit = _below(m[name], p.floor, _low_limit(base, name, p.drop, k))
    return p.judge(
        check,
        ratio,
        f"{what} {m[name]:.3f} is below {limit:.3f} (floor {p.floor}; {_usual(base, name)})",
    )


def check_dark(m: Metrics, base: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    return _too_low(Check.DARK, policy.dark, "brightness", "mean brightness", m, base, _k(policy))


def check_bright(m: Metrics, base: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    p = policy.bright
    v = m["brightness"]
    ratio = v / p.ceiling
    limit = p.ceiling
    rel = None
    if base.ready:
        med = base.median("brightness")
        rel = max(1.0 - p.headroom * (1.0 - med), med + _k(policy) * base.sigma("brightness"))
    if rel is not None and v > p.rise_min:
        limit = max(min(rel, p.ceiling), p.rise_min)
        ratio = max(ratio, v / limit)
    return p.judge(
        Check.BRIGHT,
        ratio,
        f"mean brightness {v:.3f} is above {limit:.3f} "
        f"(ceiling {p.ceiling}; {_usual(base, 'brightness')})",
    )


def check_low_contrast(m: Metrics, base: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    p = policy.low_contrast
    return _too_low(Check.LOW_CONTRAST, p, "contrast", "contrast (grey std)", m, base, _k(policy))


def check_blurry(m: Metrics, base: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    p = policy.blurry
    what = "edge energy per unit contrast"
    return _too_low(Check.BLURRY, p, "edge_ratio", what, m, base, _k(policy))


def check_noisy(m: Metrics, base: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    p = policy.noisy
    rel = _high_limit(base, "noise", p.rise, _k(policy))
    limit = p.floor if rel is None else min(p.floor, rel)
    ratio = m["noise"] / limit
    return p.judge(
        Check.NOISY,
        ratio,
        f"noise sigma {m['noise']:.2f} grey levels is above "
        f"{limit:.2f} ({_usual(base, 'noise', '.2f')})",
    )


def check_low_information(m: Metrics, base: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    p = policy.low_information
    limit = p.floor
    if base.ready:
        limit = max(limit, base.median("entropy") - p.drop)
    v = m["entropy"]
    ratio = float("inf") if v <= 0 else limit / v
    return p.judge(
        Check.LOW_INFORMATION,
        ratio,
        f"thumbnail entropy {v:.2f} bits is below "
        f"{limit:.2f} (floor {p.floor}; {_usual(base, 'entropy', '.2f')})",
    )


def check_grayscale(m: Metrics, base: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    """Grey pixels: colourfulness under an absolute limit, or a fraction of the camera's own.

    The relative limit matters for colourful scenes: a frame that kept 5 % of its colour is
    still above the absolute limit there, but far below what the camera usually sends. A
    camera whose usual view is itself grey (night, IR) is not flagged for it.
    """
    p = policy.grayscale
    if base.ready and base.median("colourfulness") < p.limit:
        return None
    v = m["colourfulness"]
    rel = _low_limit(base, "colourfulness", p.drop, _k(policy))
    ratio, limit = _below(v, p.limit, rel)
    return p.judge(
        Check.GRAYSCALE,
        ratio,
        f"colourfulness {v:.4f} is below {limit:.4f} "
        f"(absolute {p.limit}; {_usual(base, 'colourfulness', '.4f')}): the pixels "
        "are grey (even if stored as RGB)",
    )


def check_exposure_clipped(m: Metrics, base: RobustBaseline, policy: CameraPolicy) -> Issue | None:
    """Grey levels clipped, or colour channels clipped (blown highlights, crushed shadows).

    Each against an absolute floor and the camera's median plus a margin (and 6 robust
    sigmas, so a camera whose clipping varies is judged by its own spread).
    """
    p = policy.exposure_clipped
    limit, climit = p.floor, p.channel_floor
    if base.ready:
        k = _k(policy)
        limit = min(limit, base.median("clipped") + max(p.rise, k * base.sigma("clipped")))
        climit = min(
            climit,
            base.median("clipped_channels")
            + max(p.channel_rise, k * base.sigma("clipped_channels")),
        )
    v, c = m["clipped"], m["clipped_channels"]
    if c / climit > v / limit:
        return p.judge(
            Check.EXPOSURE_CLIPPED,
            c / climit,
            f"{100 * c:.1f}% of pixels have a "
            f"colour channel clipped to black or white, over {100 * climit:.1f}% "
            f"({_usual(base, 'clipped_channels')})",
        )
    return p.judge(
        Check.EXPOSURE_CLIPPED,
        v / limit,
        f"{100 * v:.1f}% of pixels are clipped "
        f"to black or white, over {100 * limit:.1f}% ({_usual(base, 'clipped')})",
    )


def check_odd_aspect_ratio(width: int, height: int, policy: CameraPolicy) -> Issue | None:
    p = policy.odd_aspect_ratio
    ratio = max(width, height) / max(1, min(width, height))
    if ratio <= p.max_ratio:  # the limit itself is acceptable, as documented
        return None
    return p.judge(
        Check.ODD_ASPECT_RATIO,
        ratio / p.max_ratio,
        f"{width}x{height} has aspect ratio {ratio:.2f}, over {p.max_ratio}",
    )


def check_odd_size(
    width: int, height: int, usual: tuple[int, int] | None, policy: CameraPolicy
) -> Issue | None:
    """Too small, or a different size from the one this camera usually sends."""
    p = policy.odd_size
    short = min(width, height)
    # a side of exactly min_side is acceptable, as documented
    ratio = 0.0 if short >= p.min_side else p.min_side / short if short > 0 else float("inf")
    detail = f"{width}x{height} has a side under {p.min_side} px"
    if p.size_change and usual is not None and (width, height) != tuple(usual):
        change = max(usual[0] / width, width / usual[0], usual[1] / height, height / usual[1])
        if change * 2.0 > ratio:
            ratio = max(ratio, 2.0 * change)  # any change is flagged; bigger scores higher
            detail = f"{width}x{height} differs from this camera's usual {usual[0]}x{usual[1]}"
    return p.judge(Check.ODD_SIZE, ratio, detail)


IMAGE_CHECKS: dict[Check, ImageCheck] = {}


def _register(check: Check, fn: ImageCheck) -> None:
    if check in IMAGE_CHECKS:
        raise ValueError(f"image check {check!s} registered twice")
    IMAGE_CHECKS[check] = fn


for _check, _fn in (
    (Check.DARK, check_dark),
    (Check.BRIGHT, check_bright),
    (Check.LOW_CONTRAST, check_low_contrast),
    (Check.BLURRY, check_blurry),
    (Check.NOISY, check_noisy),
    (Check.LOW_INFORMATION, check_low_information),
    (Check.GRAYSCALE, check_grayscale),
    (Check.EXPOSURE_CLIPPED, check_exposure_clipped),
):
    _register(_check, _fn)


def run_image_checks(m: Metrics, base: RobustBaseline, policy: CameraPolicy) -> list[Issue]:
    """Every registered metric check, in registry order; the issues that fired."""
    return [i for fn in IMAGE_CHECKS.values() if (i := fn(m, base, policy)) is not None]
