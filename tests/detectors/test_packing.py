"""Arrays in saved state: base64 of little-endian bytes that round-trip bit-exactly."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from framegate.detectors.packing import pack, unpack


def _awkward_floats(dtype: str) -> np.ndarray:
    info = np.finfo(np.dtype(dtype))
    values = [0.0, -0.0, 1.0, -1.5, np.inf, -np.inf, np.nan, info.max, info.min, info.tiny]
    values.append(info.smallest_subnormal)
    return np.array(values, dtype=dtype)


@pytest.mark.parametrize(
    "array",
    [
        _awkward_floats("<f4"),
        _awkward_floats("<f2"),
        _awkward_floats("<f8"),
        np.array([0, 1, 2**63, 2**64 - 1], dtype="<u8"),
        np.array([-(2**31), -1, 0, 2**31 - 1], dtype="<i4"),
    ],
    ids=["float32-specials", "float16-specials", "float64-specials", "uint64-extremes", "int32"],
)
def test_round_trip_is_bit_exact(array: np.ndarray) -> None:
    text = pack(array, array.dtype.str)
    back = unpack(text, array.dtype.str)
    assert back.dtype == array.dtype
    assert back.tobytes() == array.tobytes()  # NaN payloads and -0.0 included


def test_random_rows_round_trip_in_their_shape_through_json() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(64, 15)).astype(np.float32)
    text = json.loads(json.dumps({"rows": pack(rows, "<f4")}))["rows"]
    back = unpack(text, "<f4", (-1, 15))
    assert back.shape == (64, 15)
    np.testing.assert_array_equal(back, rows)


def test_output_is_plain_ascii_base64_of_the_little_endian_bytes() -> None:
    text = pack(np.array([1, 256], dtype=np.uint32), "<u4")
    assert isinstance(text, str) and text.isascii()
    assert base64.b64decode(text) == b"\x01\x00\x00\x00\x00\x01\x00\x00"


def test_big_endian_input_is_stored_little_endian() -> None:
    big = np.array([1.0, -2.5, 3e38], dtype=">f4")
    text = pack(big, "<f4")
    assert text == pack(big.astype("<f4"), "<f4")
    np.testing.assert_array_equal(unpack(text, "<f4"), big)


def test_values_are_converted_to_the_stored_dtype() -> None:
    wide = np.array([0.1, 1 / 3, 1e-3], dtype=np.float64)
    back = unpack(pack(wide, "<f4"), "<f4")
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, wide.astype(np.float32))


def test_non_contiguous_views_are_packed_as_their_values() -> None:
    rng = np.random.default_rng(1)
    grid = rng.normal(size=(6, 8)).astype(np.float32)
    view = grid[::2, ::-3]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(unpack(pack(view, "<f4"), "<f4", view.shape), view)


def test_unpacked_array_is_a_writable_copy() -> None:
    text = pack(np.arange(4, dtype=np.float32), "<f4")
    first = unpack(text, "<f4")
    first[:] = 99.0  # must not fail (np.frombuffer alone is read-only) ...
    np.testing.assert_array_equal(unpack(text, "<f4"), [0.0, 1.0, 2.0, 3.0])  # ... nor leak


def test_empty_array_round_trips() -> None:
    assert pack(np.empty(0, np.float32), "<f4") == ""
    assert unpack("", "<f4").shape == (0,)


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        (base64.b64encode(b"\x00" * 6).decode(), (-1,)),
        (pack(np.zeros(6, np.float32), "<f4"), (4, -1)),
    ],
    ids=["bytes-not-a-multiple-of-the-itemsize", "shape-does-not-divide"],
)
def test_inconsistent_text_is_refused(text: str, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        unpack(text, "<f4", shape)
