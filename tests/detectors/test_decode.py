"""Untrusted image bytes: pixels, or a typed InvalidMessage naming what is wrong."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from framegate.detectors import decode
from framegate.detectors.decode import decode_image, read_size, reduction_for
from framegate.schemas.deadletter import DeadLetterReason
from framegate.schemas.errors import FramegateError, InvalidMessage
from tests.factories import jpeg, photo

MAX = 50_000_000


def _encoded(bgr: np.ndarray, ext: str) -> bytes:
    ok, buffer = cv2.imencode(ext, bgr)
    assert ok
    return buffer.tobytes()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid PNG whose header claims ``width`` x ``height`` pixels."""
    data = bytearray(_encoded(np.zeros((4, 6, 3), np.uint8), ".png"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _reason(data: bytes, **kw) -> str:
    with pytest.raises(InvalidMessage) as caught:
        decode_image(data, **({"max_pixels": MAX} | kw))
    assert isinstance(caught.value, FramegateError)
    assert str(caught.value).startswith(f"{caught.value.reason}: ")
    return caught.value.reason


@pytest.fixture
def no_pixel_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if OpenCV is asked to decode pixels."""

    def refuse(*args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(decode.cv2, "imdecode", refuse)


# --- read_size -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "fmt"),
    [(".jpg", "JPEG"), (".png", "PNG"), (".webp", "WEBP"), (".bmp", "BMP"), (".tiff", "TIFF")],
    ids=["jpeg", "png", "webp", "bmp", "tiff"],
)
def test_read_size_reads_width_height_and_format_from_the_header(ext: str, fmt: str) -> None:
    data = _encoded(photo("coffee", (300, 200)), ext)
    assert read_size(data, max_pixels=MAX) == (300, 200, fmt)


def test_read_size_does_not_decode_pixels(no_pixel_decoding: None) -> None:
    assert read_size(jpeg(photo()), max_pixels=MAX) == (640, 480, "JPEG")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", DeadLetterReason.EMPTY_IMAGE),
        (b"hello, world", DeadLetterReason.NOT_AN_IMAGE),
        (b'{"frame_id": "cam-1:1"}', DeadLetterReason.NOT_AN_IMAGE),
        (np.random.default_rng(0).bytes(4096), DeadLetterReason.NOT_AN_IMAGE),
        (jpeg(photo())[:8], DeadLetterReason.NOT_AN_IMAGE),
    ],
    ids=["empty", "text", "json", "random-bytes", "jpeg-magic-only"],
)
def test_bytes_that_are_no_image_name_their_reason(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        read_size(data, max_pixels=MAX)
    assert caught.value.reason == reason


@pytest.mark.parametrize("ext", [".jpg", ".png"], ids=["jpeg", "png"])
@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99], ids=lambda k: f"{k:.0%}-kept")
def test_truncated_image_is_refused_as_truncated(ext: str, keep: float) -> None:
    data = _encoded(photo("astronaut"), ext)
    cut = data[: int(len(data) * keep)]
    with pytest.raises(InvalidMessage) as caught:
        read_size(cut, max_pixels=MAX)
    assert caught.value.reason == DeadLetterReason.TRUNCATED_IMAGE
    assert caught.value.message.startswith("JPEG" if ext == ".jpg" else "PNG")
    assert _reason(cut) == DeadLetterReason.TRUNCATED_IMAGE  # and decode_image agrees


def test_image_missing_only_its_last_byte_is_truncated() -> None:
    data = _encoded(photo("chelsea"), ".png")
    assert _reason(data[:-1]) == DeadLetterReason.TRUNCATED_IMAGE


@pytest.mark.parametrize("padding", [1, 16, 60], ids=lambda n: f"{n}-bytes")
def test_short_padding_after_the_end_marker_is_allowed(padding: int) -> None:
    data = jpeg(photo()) + b"\x00" * padding
    assert read_size(data, max_pixels=MAX) == (640, 480, "JPEG")
    assert decode_image(data, max_pixels=MAX).bgr.shape == (480, 640, 3)


@pytest.mark.parametrize(
    ("width", "height"),
    [(8000, 8000), (7000, 6000), (40001, 1000)],
    ids=["8000-square", "7000x6000", "long-strip"],
)
def test_decompression_bomb_is_refused_from_the_header(
    width: int, height: int, no_pixel_decoding: None
) -> None:
    bomb = _png_claiming(width, height)
    assert len(bomb) < 200
    with pytest.raises(InvalidMessage) as caught:
        decode_image(bomb, max_pixels=40_000_000)
    assert caught.value.reason == DeadLetterReason.TOO_MANY_PIXELS
    assert str(width * height) in caught.value.message


def test_pixel_limit_is_inclusive() -> None:
    exactly = _png_claiming(100, 50)
    assert read_size(exactly, max_pixels=5000) == (100, 50, "PNG")
    with pytest.raises(InvalidMessage) as caught:
        read_size(exactly, max_pixels=4999)
    assert caught.value.reason == DeadLetterReason.TOO_MANY_PIXELS


@pytest.mark.parametrize(
    ("width", "height"), [(20000, 20000), (65535, 65535)], ids=["400-megapixel", "largest"]
)
def test_huge_bomb_is_refused_without_decoding(
    width: int, height: int, no_pixel_decoding: None
) -> None:
    with pytest.raises(InvalidMessage):
        decode_image(_png_claiming(width, height), max_pixels=40_000_000)


@pytest.mark.parametrize(
    ("width", "height"), [(20000, 20000), (65535, 65535)], ids=["400-megapixel", "largest"]
)
def test_huge_bomb_is_reported_as_too_many_pixels(width: int, height: int) -> None:
    with pytest.raises(InvalidMessage) as caught:
        read_size(_png_claiming(width, height), max_pixels=40_000_000)
    assert caught.value.reason == DeadLetterReason.TOO_MANY_PIXELS


def test_pixel_limit_above_pillows_own_is_honoured() -> None:
    assert read_size(_png_claiming(15000, 15000), max_pixels=300_000_000) == (15000, 15000, "PNG")


# --- reduction_for ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (640, 480, 2),
        (480, 640, 2),
        (639, 480, 1),
        (200, 100, 1),
        (1280, 720, 4),
        (1920, 1080, 4),
        (2560, 1440, 8),
        (7680, 4320, 8),
    ],
    ids=["vga", "vga-portrait", "just-under-vga", "tiny", "720p", "1080p", "1440p", "8k-capped"],
)
def test_reduction_keeps_the_long_side_at_least_the_target(width, height, expected) -> None:
    reduce = reduction_for(width, height, 320)
    assert reduce == expected
    if reduce > 1:
        assert max(width, height) // reduce >= 320
    if reduce < 8:
        assert max(width, height) // (reduce * 2) < 320  # the next one would go under


# --- decode_image ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ext", [".png", ".bmp", ".tiff", ".webp"], ids=["png", "bmp", "tiff", "webp"]
)
def test_lossless_formats_decode_bit_exactly(ext: str) -> None:
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    if ext == ".webp":
        ok, buffer = cv2.imencode(ext, bgr, [cv2.IMWRITE_WEBP_QUALITY, 101])  # lossless
        assert ok
        data = buffer.tobytes()
    else:
        data = _encoded(bgr, ext)
    decoded = decode_image(data, max_pixels=MAX)
    assert (decoded.width, decoded.height) == (53, 37)
    assert decoded.bgr.dtype == np.uint8
    np.testing.assert_array_equal(decoded.bgr, bgr)


def test_jpeg_decodes_close_to_the_original_in_bgr_order() -> None:
    bgr = photo("coffee")
    decoded = decode_image(jpeg(bgr, 95), max_pixels=MAX)
    assert decoded.format == "JPEG"
    assert decoded.bgr.shape == (480, 640, 3)
    diff = np.abs(decoded.bgr.astype(np.int16) - bgr)
    assert diff.mean() < 3.0
    swapped = np.abs(decoded.bgr[..., ::-1].astype(np.int16) - bgr)
    assert swapped.mean() > 5 * diff.mean()  # channels were not swapped to RGB


@pytest.mark.parametrize("reduce", [1, 2, 4, 8], ids=lambda r: f"reduce-{r}")
def test_reduced_jpeg_decoding_keeps_the_size_the_camera_sent(reduce: int) -> None:
    bgr = photo("rocket")
    decoded = decode_image(jpeg(bgr), max_pixels=MAX, reduce=reduce)
    assert decoded.bgr.shape == (480 // reduce, 640 // reduce, 3)
    assert (decoded.width, decoded.height) == (640, 480)
    small = cv2.resize(bgr, (640 // reduce, 480 // reduce), interpolation=cv2.INTER_AREA)
    assert np.abs(decoded.bgr.astype(np.int16) - small).mean() < 6.0  # the same picture


@pytest.mark.parametrize(
    ("size", "shape"),
    [((640, 480), (240, 320)), ((1920, 1080), (270, 480)), ((300, 200), (200, 300))],
    ids=["vga", "1080p", "small"],
)
def test_long_side_picks_the_reduction_from_the_header(size, shape) -> None:
    decoded = decode_image(jpeg(photo("chelsea", size)), max_pixels=MAX, long_side=320)
    assert decoded.bgr.shape[:2] == shape
    assert (decoded.width, decoded.height) == size


@pytest.mark.parametrize(
    "pixels",
    [np.full((5, 7), 200, np.uint8), np.full((5, 7, 4), 200, np.uint8)],
    ids=["grey", "bgra"],
)
def test_other_channel_layouts_become_three_channel_bgr(pixels: np.ndarray) -> None:
    decoded = decode_image(_encoded(pixels, ".png"), max_pixels=MAX)
    assert decoded.bgr.shape == (5, 7, 3) and decoded.bgr.dtype == np.uint8
    assert (decoded.bgr == 200).all()


def test_sixteen_bit_png_becomes_eight_bit() -> None:
    pixels = np.full((4, 4, 3), 40000, np.uint16)
    decoded = decode_image(_encoded(pixels, ".png"), max_pixels=MAX)
    assert decoded.bgr.dtype == np.uint8
    assert (decoded.bgr == 40000 // 256).all()


def test_readable_header_with_corrupt_pixels_is_not_an_image() -> None:
    data = bytearray(_encoded(photo("astronaut"), ".png"))
    start = data.find(b"IDAT") + 20
    data[start : start + 2000] = bytes(2000)  # garbage compressed data, markers intact
    assert read_size(bytes(data), max_pixels=MAX)[2] == "PNG"
    assert _reason(bytes(data)) == DeadLetterReason.NOT_AN_IMAGE


@pytest.mark.parametrize("reduce", [0, 3, 16], ids=lambda r: f"reduce-{r}")
def test_unsupported_reduction_is_a_programming_error(reduce: int) -> None:
    with pytest.raises(ValueError, match="reduce"):
        decode_image(jpeg(photo()), max_pixels=MAX, reduce=reduce)
