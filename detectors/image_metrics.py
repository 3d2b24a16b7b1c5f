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
DESCRIPTOR_SIDE = 8  # the 8x8 lowest DCT coefficients, DC left out, make the descriptor
DESCRIPTOR_LEN = DESCRIPTOR_SIDE * DESCRIPTOR_SIDE - 1
_NOISE_BLOCK = 16  # pixels per side of the blocks whose quietest ones measure the noise

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
    descriptor: np.ndarray  # float32 63: unit-norm 8x8 low DCT, no DC: for copies (duplicates)
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


def _hist_stats(gray: np.ndarray) -> dict[str, float]:
    """Mean, contrast, clipping and the 1st and 99th percentiles of grey, from one histogram."""
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    n = float(hist.sum())
    mean = float(hist @ _LEVELS) / n
    var = float(hist @ (_LEVELS - mean) ** 2) / n
    cum = np.cumsum(hist)
    return {
        "brightness": mean / 255.0,
        "contrast": float(np.sqrt(var)) / 255.0,
        "clipped": float(hist[:4].sum() + hist[252:].sum()) / n,
        "shadows": float(np.searchsorted(cum, 0.01 * n)) / 255.0,
        "highlights": float(np.searchsorted(cum, 0.99 * n)) / 255.0,
    }


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


def fine_noise(gray: np.ndarray, full: float, half: np.ndarray | None = None) -> float:
    """Noise sigma that fine texture does not pass for: the part of ``full`` (the
    :func:`noise_sigma` of ``gray``) that is gone one octave down.

    White noise loses about three quarters of its amplitude when the picture is halved
    (the pyramid's 5x5 smoothing), while scene texture keeps most of it; so
    ``sqrt(full^2 - half^2)`` is mostly noise. Content-independent enough to judge a
    stream of unrelated pictures (and still fooled by pictures of gravel).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> flat = np.clip(128 + rng.normal(0, 6, (240, 320)), 0, 255).astype(np.uint8)
    >>> round(fine_noise(flat, noise_sigma(flat)))
    6
    """
    down = noise_sigma(cv2.pyrDown(gray) if half is None else half)
    return float(np.sqrt(max(full * full - down * down, 0.0)))


def detail(gray: np.ndarray, lap_std: float, half: np.ndarray | None = None) -> float:
    """Blur, without a reference: Laplacian energy at full analysis scale over that of the
    picture halved (``lap_std`` is the former).

    Natural scenes keep about the same detail from one octave to the next, so a sharp
    frame scores about 1 whatever it shows; blur removes the finest octave first and the
    ratio falls (about 0.5 for a Gaussian blur of 1 analysis pixel).

    Examples
    --------
    >>> from skimage import data
    >>> g = cv2.resize(data.camera(), (320, 320), interpolation=cv2.INTER_AREA)
    >>> lap = lambda x: float(cv2.Laplacian(x, cv2.CV_32F, ksize=1).std())
    >>> sharp, soft = g, cv2.GaussianBlur(g, (0, 0), 1.0)
    >>> detail(sharp, lap(sharp)) > 0.9 > 0.6 > detail(soft, lap(soft))
    True
    """
    half = cv2.pyrDown(gray) if half is None else half
    _, std = cv2.meanStdDev(cv2.Laplacian(half, cv2.CV_16S, ksize=1))
    return float(lap_std / (float(std[0, 0]) + 1.0))


def colourfulness(small_bgr: np.ndarray) -> float:
    """Hasler and Suesstrunk's colourfulness, scaled to about [0, 1]; 0 for grey pixels."""
    b, g, r = cv2.split(small_bgr.astype(np.float32))
    rg = r - g
    yb = 0.5 * (r + g) - b
    mean, std = cv2.meanStdDev(cv2.merge((rg, yb)))
    (mrg, myb), (srg, syb) = mean.ravel(), std.ravel()
    return float(np.hypot(srg, syb) + 0.3 * np.hypot(mrg, myb)) / 255.0


def entropy_bits(thumb: np.ndarray, bins: int = 32) -> float:
    """Shannon entropy (bits, at most log2(bins)) of a thumbnail's grey histogram.

    On a thumbnail, sensor noise is averaged away, so a blank but noisy frame scores low.
    """
    hist = cv2.calcHist([thumb], [0], None, [bins], [0, 256]).ravel()
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def hash_and_descriptor(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """256-bit DCT hash (signs of the 16x16 lowest frequencies, DC excluded, vs their
    median; stable under re-encoding and resizing) and the descriptor: the 8x8 lowest
    frequencies without DC, scaled to unit length, so gain, offset and size do not move it
    (copies land within about 0.002 after re-encoding, 0.1 after a 5 % crop)."""
    small = cv2.resize(gray, (_HASH_SIDE, _HASH_SIDE), interpolation=cv2.INTER_AREA)
    dct = cv2.dct(small.astype(np.float32))
    descriptor = dct[:DESCRIPTOR_SIDE, :DESCRIPTOR_SIDE].ravel()[1:].copy()
    norm = float(np.linalg.norm(descriptor))
    descriptor /= norm if norm > 0 else 1.0
    low = dct[:16, :16].ravel()
    low[0] = np.median(low[1:])
    return low > np.median(low), descriptor


def clipped_channels(img: np.ndarray) -> float:
    """Fraction of pixels with any colour channel at 0-3 or 252-255 (blown or crushed)."""
    inside = cv2.countNonZero(cv2.inRange(img, (4, 4, 4), (251, 251, 251)))
    return 1.0 - inside / float(img.shape[0] * img.shape[1])


def measure(bgr: np.ndarray) -> FrameMeasures:
    """Every per-frame metric, from one analysis-size copy and one grayscale conversion.

    ``metrics`` holds: ``brightness`` and ``contrast`` (mean and std of grey, 0-1),
    ``shadows`` and ``highlights`` (1st and 99th percentiles of grey, 0-1), ``sharpness``
    (std of the Laplacian, grey levels), ``edge_ratio`` (sharpness / grey std,
    contrast-free), ``detail`` (:func:`detail`: no-reference blur, about 1 when sharp),
    ``noise`` (sigma, grey levels), ``fine_noise`` (:func:`fine_noise`: the part texture
    does not explain), ``clipped`` (fraction of grey pixels at 0-3 or 252-255),
    ``clipped_channels`` (fraction of pixels with any channel there), ``entropy`` (bits of
    5), ``colourfulness`` (0-1).

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
    hist = _hist_stats(gray)
    lap = cv2.Laplacian(gray, cv2.CV_16S, ksize=1)
    _, lap_std = cv2.meanStdDev(lap)
    sharpness = float(lap_std[0, 0])
    thumb = cv2.resize(gray, THUMB_SIZE, interpolation=cv2.INTER_AREA)
    small = cv2.resize(img, (80, 60), interpolation=cv2.INTER_AREA)
    cells = cv2.resize(cv2.convertScaleAbs(lap), GRID, interpolation=cv2.INTER_AREA)
    noise = noise_sigma(gray)
    half = cv2.pyrDown(gray)  # one octave down, shared by detail and fine_noise
    metrics = {
        **hist,
        "sharpness": sharpness,
        "edge_ratio": sharpness / (hist["contrast"] * 255.0 + 1.0),
        "detail": detail(gray, sharpness, half),
        "noise": noise,
        "fine_noise": fine_noise(gray, noise, half),
        "clipped_channels": clipped_channels(img),
        "entropy": entropy_bits(thumb),
        "colourfulness": colourfulness(small),
    }
    hash_bits, descriptor = hash_and_descriptor(gray)
    return FrameMeasures(
        metrics=metrics,
        thumb=thumb,
        cells=cells.astype(np.float32),
        hash_bits=hash_bits,
        descriptor=descriptor,
        digest=_digest(img),
    )


def _digest(img: np.ndarray) -> bytes:
    # SHA-1 (hardware-accelerated) is 3x quicker than BLAKE2b here; only identity matters.
    return hashlib.sha1(np.ascontiguousarray(img).data).digest()[:8]
