"""Perceptual-hash memories: a camera's recent frames, and a bounded index across the fleet.

Across cameras, frames are compared by the coarse 64-bit part of the perceptual hash
(``hash_bits`` of :func:`framegate.detectors.image_metrics.measure`): re-encoded, resized
or slightly cropped copies land within a few bits. Within one fixed camera, ordinary
consecutive frames land just as close on any coarse hash, so the camera's history keeps
finer, real-valued fingerprints instead and the check weighs them against the camera's own
usual distances (see :mod:`framegate.detectors.sequence`).

Both classes are rings of fixed size, so memory is bounded, and both have a JSON
``state()`` (base64 of the packed hashes) and ``from_state()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

import numpy as np

from framegate.detectors.image_metrics import FINGERPRINT_SIDE
from framegate.detectors.packing import pack, unpack

FINGERPRINT_LEN = FINGERPRINT_SIDE * FINGERPRINT_SIDE
_LOW64 = np.zeros((16, 16), dtype=bool)
_LOW64[:8, :8] = True
_LOW64 = _LOW64.ravel()


def coarse64(bits: np.ndarray) -> np.uint64:
    """The 64 lowest frequencies (8x8) of a 256-bit hash, as one uint64: robust to crops."""
    return np.packbits(bits[_LOW64]).view(">u8").astype(np.uint64)[0]


class HashHistory:
    """The last ``size`` frames of one camera: exact digests, fingerprints and frame ids.

    A fingerprint is the 6x6 lowest DCT coefficients of the frame's 64x64 grey thumbnail
    (:func:`framegate.detectors.image_metrics.measure`), kept as float16: a re-encoded or
    resized copy of a frame lands within about 0.1 % of it (relative L2 distance), while a
    moving scene's ordinary frames are several times further apart (see
    :mod:`framegate.detectors.sequence`).

    Memory: ``size x (8 + 72)`` bytes plus the frame ids (about 7 KB of JSON at the default
    64 with short ids).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> h = HashHistory(size=4)
    >>> fp = rng.normal(0, 1, FINGERPRINT_LEN).astype(np.float32)
    >>> h.add(b"digest01", fp, frame_id="cam-1:7")
    >>> distance, back = h.nearest(fp, skip_recent=0)  # float16 storage: within 0.1 %
    >>> h.has_digest(b"digest01"), h.frame_id(1), distance < 1e-3, back
    (1, 'cam-1:7', True, 1)
    """

    def __init__(self, size: int = 64) -> None:
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        self.size = size
        self._fingerprints = np.zeros((size, FINGERPRINT_LEN), dtype=np.float16)
        self._digests = np.zeros(size, dtype=np.uint64)
        self._frames: list[str] = [""] * size
        self._count = 0

    def __len__(self) -> int:
        return min(self._count, self.size)

    def add(self, digest: bytes, fingerprint: np.ndarray, *, frame_id: str = "") -> None:
        """Remember one frame."""
        i = self._count % self.size
        self._digests[i] = _digest_word(digest)
        self._fingerprints[i] = fingerprint
        self._frames[i] = frame_id
        self._count += 1

    def _recent_first(self, skip_recent: int) -> np.ndarray:
        n = len(self)
        newest = (self._count - 1) % self.size
        order = (newest - np.arange(n)) % self.size
        return order[skip_recent:]

    def frame_id(self, back: int) -> str:
        """The id of the frame ``back`` frames ago (1 = the previous one); "" if unknown."""
        if not 1 <= back <= len(self):
            return ""
        return self._frames[(self._count - back) % self.size]

    def has_digest(self, digest: bytes) -> int | None:
        """How many frames back an identical frame was seen (1 = the previous), or None."""
        order = self._recent_first(0)
        hits = np.flatnonzero(self._digests[order] == _digest_word(digest))
        return int(hits[0]) + 1 if len(hits) else None

    def distance(self, fingerprint: np.ndarray, back: int) -> float:
        """Relative distance to the frame ``back`` frames ago (nan if not remembered)."""
        if not 1 <= back <= len(self):
            return float("nan")
        other = self._fingerprints[(self._count - back) % self.size].astype(np.float32)
        return _relative(fingerprint, other[None, :])[0]

    def nearest(self, fingerprint: np.ndarray, *, skip_recent: int) -> tuple[float, int]:
        """(relative distance, frames back) of the closest fingerprint, skipping the newest.

        Returns ``(inf, 0)`` when nothing is remembered beyond the skipped frames.
        """
        order = self._recent_first(skip_recent)
        if len(order) == 0:
            return float("inf"), 0
        dist = _relative(fingerprint, self._fingerprints[order].astype(np.float32))
        j = int(np.argmin(dist))
        return float(dist[j]), j + 1 + skip_recent

    def state(self) -> dict:
        return {
            "size": self.size,
            "count": self._count,
            "digests": pack(self._digests, "<u8"),
            "fingerprints": pack(self._fingerprints, "<f2"),
            "frames": list(self._frames),
        }

    @classmethod
    def from_state(cls, state: Mapping, *, size: int | None = None) -> Self:
        """Restore :meth:`state`; a different ``size`` keeps the most recent frames."""
        stored = int(state["size"])
        new = cls(size or stored)
        digests = unpack(state["digests"], "<u8")
        fps = unpack(state["fingerprints"], "<f2", (stored, FINGERPRINT_LEN))
        frames = list(state["frames"])
        count = int(state["count"])
        if new.size == stored:
            new._digests[:], new._fingerprints[:], new._count = digests, fps, count
            new._frames = frames
            return new
        n = min(count, stored)
        for k in range(n - 1, -1, -1):  # oldest first
            i = (count - 1 - k) % stored
            j = new._count % new.size
            new._digests[j], new._fingerprints[j], new._frames[j] = digests[i], fps[i], frames[i]
            new._count += 1
        return new


def _digest_word(digest: bytes) -> np.uint64:
    return np.frombuffer(digest[:8].ljust(8, b"\0"), dtype=">u8").astype(np.uint64)[0]


def _relative(fingerprint: np.ndarray, table: np.ndarray) -> np.ndarray:
    """L2 distance from ``fingerprint`` to each row of ``table``, relative to its norm."""
    norm = float(np.linalg.norm(fingerprint)) or 1.0
    return np.linalg.norm(table - fingerprint, axis=1) / norm


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
        return {
            "size": self.size,
            "max_bits": self.max_bits,
            "count": self._count,
            "hashes": pack(self._hashes[:n], "<u8"),
            "cameras": self._cameras[:n],
            "frames": self._frames[:n],
        }

    @classmethod
    def from_state(cls, state: Mapping) -> Self:
        new = cls(int(state["size"]), max_bits=int(state["max_bits"]))
        hashes = unpack(state["hashes"], "<u8")
        n = len(hashes)
        new._hashes[:n] = hashes
        new._cameras[:n] = list(state["cameras"])
        new._frames[:n] = list(state["frames"])
        new._count = int(state["count"])
        return new
