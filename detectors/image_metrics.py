"""Measure a frame once: one analysis-size copy, one grayscale, every metric the checks need.

Everything here is a pure function of pixels. The checks in :mod:`framegate.detectors.image_checks`
and :mod:`framegate.detectors.sequence` only compare these numbers with limits.

The analysis size is fixed (long side at most :data:`ANALYSIS_MAX_SIDE` pixels), so limits
mean the same thing on every camera whatever its resolution, and the cost per frame is
bounded. Decoding a 640x480 JPEG at half size (``reduce=2``) gives exactly that size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np

ANALYSIS_MAX_SIDE = 320
THUMB_SIZE = (48, 36)  # (width, height): the sequence checks' view of a frame
GRID = (8, 6)  # (columns, rows) of cells for the obstruction check
_HASH_SIDE = 64  # DCT of a 64x64 thumbnail; the 16x16 low frequencies make the hash
FINGERPRINT_SIDE = 6  # the 6x6 lowest DCT coefficients (DC included) are the fingerprint

_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
# |response| of the kernel to pure noise of sigma s has median 0.6745 * 6 * s.
_NOISE_SCALE = 1.0 / (0.6745 * 6.0)
_LEVELS = np.arange(256, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class FrameMeasures:
    """What one frame looks like to the checks.

    Scalar metrics (``metrics``) go into the quality report; the arrays feed the sequence
    checks and are not reported.
    """

    metrics: dict[str, float]
    thumb: np.ndarray  # uint8 THUMB_SIZE grey, for motion, freeze and camera-move checks
    cells: np.ndarray  # float32 GRID edge energy per cell, for the obstruction check
    hash_bits: np.ndarray  # 256 bools: perceptual hash (16x16 low DCT frequencies)
    fingerprint: np.ndarray  # float32 36: 6x6 lowest DCT coefficients, for repeats of a camera
    digest: bytes  # exact content digest of the analysis pixels


def analysis_image(bgr: np.ndarray) -> np.ndarray:
    """``bgr`` scaled down (area interpolation) so its long side is at most 320 pixels."""
    h, w = bgr.shape[:2]
    side = max(h, w)
    if side <= ANALYSIS_MAX_SIDE * 1.25:
        return bgr
    scale = ANALYSIS_MAX_SIDE / side
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)


def _hist_stats(gray: np.ndarray) -> tuple[float, float, float]:
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    n = hist.sum()
    mean = float(hist @ _LEVELS) / n
    var = float(hist @ (_LEVELS - mean) ** 2) / n
    clipped = float(hist[:4].sum() + hist[252:].sum()) / n
    return float(mean / 255.0), float(np.sqrt(var)) / 255.0, float(clipped)


def noise_sigma(gray: np.ndarray) -> float:
    """Noise standard deviation in grey levels (Immerkaer's operator, median of |response|).

    The median ignores the minority of pixels on edges and texture.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> flat = np.clip(128 + rng.normal(0, 5, (240, 320)), 0, 255).astype(np.uint8)
    >>> round(noise_sigma(flat))
    5
    """
    response = cv2.filter2D(gray, cv2.CV_16S, _IMMERKAER)
    magnitude = cv2.convertScaleAbs(response)  # saturates at 255; only the median matters
    hist = cv2.calcHist([magnitude], [0], None, [256], [0, 256]).ravel()
    cum = np.cumsum(hist)
    half = cum[-1] / 2.0
    i = int(np.searchsorted(cum, half))
    # Interpolate inside the median bin so the estimate is not stuck on integers.
    below = cum[i - 1] if i > 0 else 0.0
    inside = (half - below) / max(hist[i], 1.0)
    return float((i + inside) * _NOISE_SCALE)


def colourfulness(small_bgr: np.ndarray) -> float:
    """Hasler and Suesstrunk's colourfulness, scaled to about [0, 1]; 0 for grey pixels."""
    b, g, r = cv2.split(small_bgr.astype(np.float32))
    rg = r - g
    yb = 0.5 * (r + g) - b
    srg, syb = float(rg.std()), float(yb.std())
    mrg, myb = float(rg.mean()), float(yb.mean())
    return float(np.hypot(srg, syb) + 0.3 * np.hypot(mrg, myb)) / 255.0


def entropy_bits(thumb: np.ndarray, bins: int = 32) -> float:
    """Shannon entropy (bits, at most log2(bins)) of a thumbnail's grey histogram.

    On a thumbnail, sensor noise is averaged away, so a blank but noisy frame scores low.
    """
    hist = cv2.calcHist([thumb], [0], None, [bins], [0, 256]).ravel()
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def _hash_and_fingerprint(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """256-bit DCT hash (signs of the 16x16 lowest frequencies, DC excluded, vs their
    median; stable under re-encoding and resizing) and the real-valued fingerprint."""
    small = cv2.resize(gray, (_HASH_SIDE, _HASH_SIDE), interpolation=cv2.INTER_AREA)
    dct = cv2.dct(small.astype(np.float32))
    fingerprint = dct[:FINGERPRINT_SIDE, :FINGERPRINT_SIDE].ravel().copy()
    low = dct[:16, :16].ravel()
    low[0] = np.median(low[1:])
    return low > np.median(low), fingerprint


def clipped_channels(img: np.ndarray) -> float:
    """Fraction of pixels with any colour channel at 0-3 or 252-255 (blown or crushed)."""
    inside = cv2.countNonZero(cv2.inRange(img, (4, 4, 4), (251, 251, 251)))
    return 1.0 - inside / float(img.shape[0] * img.shape[1])


def measure(bgr: np.ndarray) -> FrameMeasures:
    """Every per-frame metric, from one analysis-size copy and one grayscale conversion.

    ``metrics`` holds: ``brightness`` and ``contrast`` (mean and std of grey, 0-1),
    ``sharpness`` (std of the Laplacian, grey levels), ``edge_ratio`` (sharpness / grey std,
    contrast-free), ``noise`` (sigma, grey levels), ``clipped`` (fraction of grey pixels at
    0-3 or 252-255), ``clipped_channels`` (fraction of pixels with any channel there),
    ``entropy`` (bits of 5), ``colourfulness`` (0-1).

    Examples
    --------
    >>> from skimage import data
    >>> m = measure(np.ascontiguousarray(data.astronaut()[:, :, ::-1]))
    >>> 0.3 < m.metrics["brightness"] < 0.5, m.metrics["colourfulness"] > 0.1
    (True, True)
    """
    if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.dtype != np.uint8:
        raise ValueError(f"expected uint8 HxWx3 BGR pixels, got {bgr.dtype} {bgr.shape}")
    img = analysis_image(bgr)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    brightness, contrast, clipped = _hist_stats(gray)
    lap = cv2.Laplacian(gray, cv2.CV_16S, ksize=1)
    _, lap_std = cv2.meanStdDev(lap)
    sharpness = float(lap_std[0, 0])
    thumb = cv2.resize(gray, THUMB_SIZE, interpolation=cv2.INTER_AREA)
    small = cv2.resize(img, (80, 60), interpolation=cv2.INTER_AREA)
    cells = cv2.resize(cv2.convertScaleAbs(lap), GRID, interpolation=cv2.INTER_AREA)
    metrics = {
        "brightness": brightness,
        "contrast": contrast,
        "sharpness": sharpness,
        "edge_ratio": sharpness / (contrast * 255.0 + 1.0),
        "noise": noise_sigma(gray),
        "clipped": clipped,
        "clipped_channels": clipped_channels(img),
        "entropy": entropy_bits(thumb),
        "colourfulness": colourfulness(small),
    }
    hash_bits, fingerprint = _hash_and_fingerprint(gray)
    return FrameMeasures(
        metrics=metrics,
        thumb=thumb,
        cells=cells.astype(np.float32),
        hash_bits=hash_bits,
        fingerprint=fingerprint,
        digest=_digest(img),
    )


def _digest(img: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(img).data, digest_size=8).digest()
