"""Turn untrusted image bytes into pixels, or a typed reason why not.

The header is read first (Pillow reads only the header on ``open``), so a decompression bomb
is refused before a single pixel is allocated; the pixels are then decoded by OpenCV.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from framegate.schemas.deadletter import DeadLetterReason
from framegate.schemas.errors import InvalidMessage

# Pillow only reads headers here (OpenCV decodes the pixels), and read_size holds every header
# to the caller's max_pixels. Pillow's own guard would call a header over about 179 Mpx "not an
# image", whatever the caller's limit, so it is left to read_size.
Image.MAX_IMAGE_PIXELS = None

_JPEG_EOI = b"\xff\xd9"
_PNG_IEND = b"IEND\xaeB`\x82"


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """A decoded frame: ``bgr`` pixels (uint8, HxWx3) and the size the camera sent."""

    bgr: np.ndarray
    width: int
    height: int
    format: str


def read_size(data: bytes, *, max_pixels: int) -> tuple[int, int, str]:
    """Width, height and format from the header alone.

    Raises
    ------
    InvalidMessage
        ``empty_image``, ``not_an_image``, ``too_many_pixels`` or ``truncated_image``.

    Examples
    --------
    >>> import cv2, numpy as np
    >>> ok, buf = cv2.imencode(".png", np.zeros((4, 6, 3), np.uint8))
    >>> read_size(buf.tobytes(), max_pixels=100)
    (6, 4, 'PNG')
    """
    if not data:
        raise InvalidMessage(DeadLetterReason.EMPTY_IMAGE, "the image has no bytes")
    try:
        with Image.open(io.BytesIO(data)) as header:
            width, height = header.size
            fmt = header.format or "unknown"
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidMessage(
            DeadLetterReason.NOT_AN_IMAGE, f"bytes are not a readable image ({exc})"
        ) from exc
    if width * height > max_pixels:
        raise InvalidMessage(
            DeadLetterReason.TOO_MANY_PIXELS,
            f"image is {width}x{height} = {width * height} pixels, over the limit of {max_pixels}",
        )
    if _looks_truncated(data, fmt):
        raise InvalidMessage(
            DeadLetterReason.TRUNCATED_IMAGE, f"{fmt} image ends before its end marker"
        )
    return width, height, fmt


def _looks_truncated(data: bytes, fmt: str) -> bool:
    # libjpeg and libpng fill a truncated image with grey and only warn; the end markers
    # are the reliable signal. Trailing padding after the marker is allowed.
    tail = data[-64:]
    if fmt == "JPEG":
        return _JPEG_EOI not in tail
    if fmt == "PNG":
        return _PNG_IEND not in tail
    return False


def reduction_for(width: int, height: int, long_side: int) -> int:
    """The largest reduction (1, 2, 4, 8) that keeps the long side >= ``long_side`` pixels.

    >>> reduction_for(640, 480, 320), reduction_for(1920, 1080, 320), reduction_for(200, 100, 320)
    (2, 4, 1)
    """
    reduce = 1
    while reduce < 8 and max(width, height) // (reduce * 2) >= long_side:
        reduce *= 2
    return reduce


def decode_image(
    data: bytes, *, max_pixels: int, reduce: int = 1, long_side: int | None = None
) -> DecodedImage:
    """Decode untrusted bytes into BGR pixels, optionally at 1/2, 1/4 or 1/8 size.

    ``reduce`` lets the JPEG decoder skip work (DCT scaling) when the checks only need a
    smaller picture; ``long_side`` instead picks the largest reduction that keeps the long
    side at least that many pixels, from the header read once for the bomb check.

    Raises
    ------
    InvalidMessage
        With a :class:`~framegate.schemas.DeadLetterReason` naming what is wrong.
    """
    if reduce not in (1, 2, 4, 8):
        raise ValueError(f"reduce must be 1, 2, 4 or 8, got {reduce}")
    width, height, fmt = read_size(data, max_pixels=max_pixels)
    if long_side is not None:
        reduce = reduction_for(width, height, long_side)
    flags = {
        1: cv2.IMREAD_COLOR,
        2: cv2.IMREAD_REDUCED_COLOR_2,
        4: cv2.IMREAD_REDUCED_COLOR_4,
        8: cv2.IMREAD_REDUCED_COLOR_8,
    }[reduce]
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if bgr is None:
        raise InvalidMessage(
            DeadLetterReason.NOT_AN_IMAGE, f"{fmt} header is readable but the pixels are not"
        )
    if bgr.ndim == 2:
        bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
    return DecodedImage(bgr=bgr, width=width, height=height, format=fmt)
