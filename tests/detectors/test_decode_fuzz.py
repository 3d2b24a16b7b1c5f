"""Crafted images: mutated JPEG and PNG bytes through the decode path (header check, then
the decoder) give pixels or the typed ``InvalidMessage``, never another exception.

A native crash would end this test process; ``bench/fuzz_decode.py`` runs the same
mutations by the hundred thousand in a child process and counts them.
"""

from __future__ import annotations

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from framegate.detectors.decode import DecodedImage, decode_image
from framegate.schemas import InvalidMessage
from tests.factories import jpeg, photo

SEEDS = {
    "jpeg": jpeg(photo("coffee", (96, 64))),
    "png": cv2.imencode(".png", photo("astronaut", (48, 32)))[1].tobytes(),
}

mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "set", "insert", "delete", "truncate"]),
        st.integers(min_value=0),
        st.integers(min_value=0, max_value=255),
    ),
    min_size=1,
    max_size=8,
)


def mutate(data: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, position, value in edits:
        if not out:
            break
        at = position % len(out)
        if kind == "flip":
            out[at] ^= 1 << (value % 8)
        elif kind == "set":
            out[at] = value
        elif kind == "insert":
            out[at:at] = bytes([value]) * (1 + value % 16)
        elif kind == "delete":
            del out[at : at + 1 + value % 16]
        else:
            del out[at:]
    return bytes(out)


@settings(max_examples=200, deadline=None)
@given(fmt=st.sampled_from(sorted(SEEDS)), edits=mutations)
def test_mutated_images_decode_or_are_refused(fmt: str, edits) -> None:
    try:
        image = decode_image(mutate(SEEDS[fmt], edits), max_pixels=10**6, long_side=320)
    except InvalidMessage:
        return
    assert isinstance(image, DecodedImage)
    assert image.bgr.dtype == np.uint8 and image.bgr.ndim == 3 and image.bgr.shape[2] == 3
