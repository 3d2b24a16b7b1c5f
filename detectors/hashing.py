"""Perceptual-hash memories: a camera's recent frames, and a bounded index across the fleet.

Hashes come from :func:`detectors.image_metrics.perceptual_hash` (256 bits). Re-encoded or
resized copies of a frame land within a few bits of it; ordinary consecutive frames of a
fixed camera can land just as close on the coarse 64-bit hash, which is why the per-camera
check also weighs the camera's own usual distances (see :mod:`detectors.sequence`).

Both classes are rings of fixed size, so memory is bounded, and both have a JSON
``state()`` (base64 of the packed hashes) and ``from_state()``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

import numpy as np

HASH_WORDS = 4  # 256 bits as 4 x uint64
_LOW64 = np.zeros((16, 16), dtype=bool)
_LOW64[:8, :8] = True
_LOW64 = _LOW64.ravel()


def pack(bits: np.ndarray) -> np.ndarray:
    """256 bools -> 4 uint64 words."""
    return np.packbits(bits).view(">u8").astype(np.uint64)


def coarse64(bits: np.ndarray) -> np.uint64:
    """The 64 lowest frequencies (8x8) of a 256-bit hash, as one uint64: robust to crops."""
    return np.packbits(bits[_LOW64]).view(">u8").astype(np.uint64)[0]


def hamming(words: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Bit distance between ``words`` (k uint64) and each row of ``table`` (n x k uint64)."""
    if len(table) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.bitwise_count(np.bitwise_xor(table, words)).reshape(len(table), -1).sum(axis=1)


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).astype("<u8").tobytes()).decode("ascii")


def _unb64(s: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<u8").astype(np.uint64)


class HashHistory:
    """The last ``size`` frames of one camera: 256-bit hashes and exact digests.

    Memory: ``size x 40`` bytes (about 3.4 KB of JSON at the default 64).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> h = HashHistory(size=4)
    >>> a = rng.random(256) > 0.5
    >>> h.add(a, b"digest01")
    >>> h.has_digest(b"digest01"), int(h.nearest(a, skip_recent=0)[0])
    (True, 0)
    """

    def __init__(self, size: int = 64) -> None:
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        self.size = size
        self._hashes = np.zeros((size, HASH_WORDS), dtype=np.uint64)
        self._digests = np.zeros(size, dtype=np.uint64)
        self._count = 0

    def __len__(self) -> int:
        return min(self._count, self.size)

    def add(self, bits: np.ndarray, digest: bytes) -> None:
        """Remember one frame."""
        i = self._count % self.size
        self._hashes[i] = pack(bits)
        self._digests[i] = np.frombuffer(digest[:8].ljust(8, b"\0"), dtype=">u8")[0]
        self._count += 1

    def _recent_first(self, skip_recent: int) -> np.ndarray:
        n = len(self)
        newest = (self._count - 1) % self.size
        order = (newest - np.arange(n)) % self.size
        return order[skip_recent:]

    def has_digest(self, digest: bytes) -> int | None:
        """How many frames back an identical frame was seen (1 = the previous), or None."""
        d = np.frombuffer(digest[:8].ljust(8, b"\0"), dtype=">u8")[0]
        order = self._recent_first(0)
        hits = np.flatnonzero(self._digests[order] == d)
        return int(hits[0]) + 1 if len(hits) else None

    def nearest(self, bits: np.ndarray, *, skip_recent: int) -> tuple[int, int]:
        """(bits apart, frames back) of the closest remembered hash, skipping the newest few.

        Returns ``(257, 0)`` when nothing is remembered beyond the skipped frames.
        """
        order = self._recent_first(skip_recent)
        if len(order) == 0:
            return 257, 0
        dist = hamming(pack(bits), self._hashes[order])
        j = int(np.argmin(dist))
        return int(dist[j]), j + 1 + skip_recent

    def state(self) -> dict:
        return {"size": self.size, "count": self._count,
                "hashes": _b64(self._hashes), "digests": _b64(self._digests)}

    @classmethod
    def from_state(cls, state: Mapping, *, size: int | None = None) -> Self:
        """Restore :meth:`state`; a different ``size`` keeps the most recent frames."""
        stored = int(state["size"])
        new = cls(size or stored)
        hashes = _unb64(state["hashes"]).reshape(stored, HASH_WORDS)
        digests = _unb64(state["digests"])
        count = int(state["count"])
        if new.size == stored:
            new._hashes[:], new._digests[:], new._count = hashes, digests, count
            return new
        n = min(count, stored)
        for k in range(n - 1, -1, -1):  # oldest first
            i = (count - 1 - k) % stored
            new._hashes[new._count % new.size] = hashes[i]
            new._digests[new._count % new.size] = digests[i]
            new._count += 1
        return new


@dataclass(frozen=True, slots=True)
class FleetMatch:
    """An earlier frame from another camera within ``bits`` of this one."""

    camera_id: str
    frame_id: str
    bits: int


class FleetHashIndex:
    """Recent frames of the whole fleet, for near duplicates *across* cameras.

    A ring of ``size`` coarse 64-bit hashes with their camera and frame ids; a lookup is one
    vectorised XOR/popcount over the ring (about 10 us at 4096). Frames from the same
    camera are ignored (the camera's own :class:`HashHistory` handles those).

    Meant to be used once per frame, through the camera inspector::

        inspection = inspector.inspect(image, frame_id=..., captured_at=..., fleet=index)

    which queries and then adds the frame. Per worker, it covers the cameras of the
    partitions that worker owns; for a fleet-wide view keep one in a global table (its
    ``state()`` is JSON, about ``size x 40`` bytes plus the ids).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> idx = FleetHashIndex(size=8, max_bits=4)
    >>> bits = rng.random(256) > 0.5
    >>> idx.add(bits, camera_id="cam-1", frame_id="cam-1:1")
    >>> idx.query(bits, camera_id="cam-2")
    FleetMatch(camera_id='cam-1', frame_id='cam-1:1', bits=0)
    >>> idx.query(bits, camera_id="cam-1") is None
    True
    """

    def __init__(self, size: int = 4096, *, max_bits: int = 5) -> None:
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        self.size = size
        self.max_bits = max_bits
        self._hashes = np.zeros(size, dtype=np.uint64)
        self._cameras: list[str] = [""] * size
        self._frames: list[str] = [""] * size
        self._count = 0

    def __len__(self) -> int:
        return min(self._count, self.size)

    def query(self, bits: np.ndarray, *, camera_id: str) -> FleetMatch | None:
        """The closest frame of another camera within ``max_bits``, or None."""
        n = len(self)
        if n == 0:
            return None
        dist = np.bitwise_count(np.bitwise_xor(self._hashes[:n], coarse64(bits)))
        for j in np.argsort(dist, kind="stable"):
            if dist[j] > self.max_bits:
                return None
            if self._cameras[j] != camera_id:
                return FleetMatch(self._cameras[j], self._frames[j], int(dist[j]))
        return None

    def add(self, bits: np.ndarray, *, camera_id: str, frame_id: str) -> None:
        """Remember one frame (the oldest is forgotten once ``size`` are held)."""
        i = self._count % self.size
        self._hashes[i] = coarse64(bits)
        self._cameras[i] = camera_id
        self._frames[i] = frame_id
        self._count += 1

    def state(self) -> dict:
        n = len(self)
        return {"size": self.size, "max_bits": self.max_bits, "count": self._count,
                "hashes": _b64(self._hashes[:n]), "cameras": self._cameras[:n],
                "frames": self._frames[:n]}

    @classmethod
    def from_state(cls, state: Mapping) -> Self:
        new = cls(int(state["size"]), max_bits=int(state["max_bits"]))
        hashes = _unb64(state["hashes"])
        n = len(hashes)
        new._hashes[:n] = hashes
        new._cameras[:n] = list(state["cameras"])
        new._frames[:n] = list(state["frames"])
        new._count = int(state["count"])
        return new
