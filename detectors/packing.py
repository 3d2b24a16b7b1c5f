"""Arrays in saved state: base64 of their little-endian bytes, never pickled.

>>> import numpy as np
>>> text = pack(np.arange(3, dtype=np.float32), "<f4")
>>> text, unpack(text, "<f4").tolist()
('AAAAAAAAgD8AAABA', [0.0, 1.0, 2.0])
"""

from __future__ import annotations

import base64

import numpy as np


def pack(array: np.ndarray, dtype: str) -> str:
    """Base64 of ``array`` stored as ``dtype`` (explicitly little-endian, e.g. ``"<f4"``)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def unpack(text: str, dtype: str, shape: tuple[int, ...] = (-1,)) -> np.ndarray:
    """The writable array :func:`pack` wrote, in ``shape``."""
    return np.frombuffer(base64.b64decode(text), dtype=dtype).reshape(shape).copy()
