"""Memories of recent frames for the duplicate checks: one camera's, and the fleet's.

A frame is remembered by its :class:`FrameKey`: an exact digest of its pixels, a 64-bit
perceptual hash (:func:`coarse64`) and a unit-length 63-value descriptor (the 8x8 lowest DCT
frequencies of its grey thumbnail, DC left out; see
:func:`framegate.detectors.image_metrics.hash_and_descriptor`). Re-encoding leaves a copy
within about 0.002 of its source (L2 distance between descriptors), rescaling none at all
(the thumbnail has a fixed size), colour jitter little (the descriptor has no DC and unit
length), a 5 % crop about 0.1; unrelated pictures are 0.15-1.4 apart. Whether a distance
means a copy depends on the camera (see :mod:`framegate.detectors.duplicates`).

Both memories are bounded twice: by count (a ring) and by age (``since``: frames captured
before it are ignored), and both have a JSON ``state()`` and ``from_state()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

import numpy as np

from framegate.detectors.image_metrics import DESCRIPTOR_LEN, FrameMeasures
from framegate.detectors.packing import pack, unpack

_LOW64 = np.zeros((16, 16), dtype=bool)
_LOW64[:8, :8] = True
_LOW64 = _LOW64.ravel()
_NEVER = -np.inf


def coarse64(bits: np.ndarray) -> np.uint64:
    """The 64 lowest frequencies (8x8) of a 256-bit hash, as one uint64: robust to crops."""
    return np.packbits(bits[_LOW64]).view(">u8").astype(np.uint64)[0]


def _digest_word(digest: bytes) -> np.uint64:
    return np.frombuffer(digest[:8].ljust(8, b"\0"), dtype=">u8").astype(np.uint64)[0]


@dataclass(frozen=True, slots=True)
class FrameKey:
    """What the duplicate memories keep of one frame."""

    digest: np.uint64  # first 8 bytes of the pixel digest
    hash64: np.uint64  # coarse perceptual hash
    descriptor: np.ndarray  # float32 (63,), unit length

    @classmethod
    def of(cls, measures: FrameMeasures) -> FrameKey:
        return cls(_digest_word(measures.digest), coarse64(measures.hash_bits), measures.descriptor)


class HashHistory:
    """The last ``size`` frames of one camera: digests, descriptors, capture times and ids.

    Memory: ``size x (8 + 126 + 8)`` bytes plus the frame ids (about 12 KB of JSON at the
    default 64 with short ids). Lookups are brute force over the ring: 64 x 63 values is a
    few microseconds, far below any index's overhead.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> h = HashHistory(size=4)
    >>> d = rng.normal(0, 1, DESCRIPTOR_LEN).astype(np.float32)
    >>> d /= np.linalg.norm(d)
    >>> key = FrameKey(np.uint64(7), np.uint64(0), d)
    >>> h.add(key, frame_id="cam-1:7", at=10.0)
    >>> h.has_digest(np.uint64(7)), h.frame_id(1), round(float(h.distances(d)[0]), 2)
    (1, 'cam-1:7', 0.0)
    >>> h.has_digest(np.uint64(7), since=11.0) is None  # older than the time bound
    True
    """

    def __init__(self, size: int = 64) -> None:
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        self.size = size
        self._descriptors = np.zeros((size, DESCRIPTOR_LEN), dtype=np.float16)
        self._digests = np.zeros(size, dtype=np.uint64)
        self._times = np.full(size, _NEVER, dtype=np.float64)
        self._frames: list[str] = [""] * size
        self._count = 0

    def __len__(self) -> int:
        return min(self._count, self.size)

    def add(self, key: FrameKey, *, frame_id: str = "", at: float = 0.0) -> None:
        """Remember one frame, captured at ``at`` (epoch seconds); a frame delivered again
        (the same ``frame_id`` still remembered) is not remembered twice, so redeliveries do
        not push older frames out."""
        if frame_id and frame_id in self._frames:  # unused slots hold ""
            return
        i = self._count % self.size
        self._digests[i] = key.digest
        self._descriptors[i] = key.descriptor
        self._times[i] = at
        self._frames[i] = frame_id
        self._count += 1

    def _order(self) -> np.ndarray:
        """Ring positions, newest first."""
        n = len(self)
        return (self._count - 1 - np.arange(n)) % self.size

    def frame_id(self, back: int) -> str:
        """The id of the frame ``back`` frames ago (1 = the previous one); "" if unknown."""
        if not 1 <= back <= len(self):
            return ""
        return self._frames[(self._count - back) % self.size]

    def captured(self, back: int) -> float:
        """When the frame ``back`` frames ago was captured (-inf if unknown)."""
        if not 1 <= back <= len(self):
            return _NEVER
        return float(self._times[(self._count - back) % self.size])

    def _counted(self, order: np.ndarray, since: float, skip_id: str) -> np.ndarray:
        """Which remembered frames count: captured at ``since`` or later, and not the frame
        ``skip_id`` itself (a message delivered again is no copy of itself)."""
        counted = self._times[order] >= since
        if skip_id:
            counted &= np.asarray(self._frames)[order] != skip_id
        return counted

    def has_digest(
        self, digest: np.uint64, *, since: float = _NEVER, skip_id: str = ""
    ) -> int | None:
        """How many frames back identical pixels were seen (1 = the previous), or None;
        frames captured before ``since``, and the frame ``skip_id``, do not count."""
        order = self._order()
        hits = np.flatnonzero(
            (self._digests[order] == digest) & self._counted(order, since, skip_id)
        )
        return int(hits[0]) + 1 if len(hits) else None

    def distances(
        self, descriptor: np.ndarray, *, since: float = _NEVER, skip_id: str = ""
    ) -> np.ndarray:
        """Descriptor distance to every remembered frame, newest first (``inf`` for frames
        captured before ``since``, and for the frame ``skip_id``)."""
        order = self._order()
        if len(order) == 0:
            return np.empty(0, dtype=np.float32)
        table = self._descriptors[order].astype(np.float32)
        dist = np.linalg.norm(table - descriptor, axis=1)
        dist[~self._counted(order, since, skip_id)] = np.inf
        return dist

    def state(self) -> dict:
        return {
            "size": self.size,
            "count": self._count,
            "digests": pack(self._digests, "<u8"),
            "descriptors": pack(self._descriptors, "<f2"),
            "times": pack(self._times, "<f8"),
            "frames": list(self._frames),
        }

    @classmethod
    def from_state(cls, state: Mapping, *, size: int | None = None) -> Self:
        """Restore :meth:`state`; a different ``size`` keeps the most recent frames."""
        stored = int(state["size"])
        new = cls(size or stored)
        digests = unpack(state["digests"], "<u8")
        descriptors = unpack(state["descriptors"], "<f2", (stored, DESCRIPTOR_LEN))
        times = unpack(state["times"], "<f8")
        frames = list(state["frames"])
        count = int(state["count"])
        if new.size == stored:
            new._digests[:], new._descriptors[:], new._times[:] = digests, descriptors, times
            new._frames, new._count = frames, count
            return new
        for k in range(min(count, stored) - 1, -1, -1):  # oldest first
            i = (count - 1 - k) % stored
            j = new._count % new.size
            new._digests[j], new._descriptors[j] = digests[i], descriptors[i]
            new._times[j], new._frames[j] = times[i], frames[i]
            new._count += 1
        return new


@dataclass(frozen=True, slots=True)
class FleetMatch:
    """An earlier frame from another camera: identical pixels (``exact``), or a copy whose
    hash is within ``bits`` and whose descriptor is within ``distance``."""

    camera_id: str
    frame_id: str
    bits: int
    distance: float
    exact: bool


class FleetHashIndex:
    """Recent frames of the whole fleet, for duplicates *across* cameras.

    A ring of ``size`` frames: digest, 64-bit hash, descriptor (int8), camera, frame id and
    capture time. A lookup is one vectorised XOR/popcount over the ring for candidates within
    ``max_bits``, then the descriptor distance of those few (brute force: about 20 us at
    4096 frames, 0.2 ms at 65,536; see ``bench.neighbour_search`` for the comparison with
    nearest-neighbour libraries). Frames of the asking camera are ignored (its own
    :class:`HashHistory` handles those), and so are frames captured more than ``max_age_s``
    before the asking frame.

    Used once per frame through the camera inspector (or the gate), which queries, then
    adds::

        gate.frame(frame, image, embedding=..., source=..., now=..., fleet=index)

    Per worker, it covers the cameras of the partitions that worker owns. Its ``state()``
    is JSON, about ``size x 110`` bytes plus the ids.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> idx = FleetHashIndex(size=8)
    >>> d = rng.normal(0, 1, DESCRIPTOR_LEN).astype(np.float32)
    >>> key = FrameKey(np.uint64(5), np.uint64(123), d / np.linalg.norm(d))
    >>> idx.add(key, camera_id="cam-1", frame_id="cam-1:1", at=0.0)
    >>> idx.query(key, camera_id="cam-2", at=1.0).exact
    True
    >>> idx.query(key, camera_id="cam-1", at=1.0) is None
    True
    """

    def __init__(
        self,
        size: int = 4096,
        *,
        max_bits: int = 12,
        max_distance: float = 0.12,
        max_age_s: float = 600.0,
    ) -> None:
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        if max_age_s <= 0:
            raise ValueError(f"max_age_s must be positive, got {max_age_s}")
        self.size = size
        self.max_bits = max_bits
        self.max_distance = max_distance
        self.max_age_s = max_age_s
        self._hashes = np.zeros(size, dtype=np.uint64)
        self._digests = np.zeros(size, dtype=np.uint64)
        self._descriptors = np.zeros((size, DESCRIPTOR_LEN), dtype=np.int8)
        self._times = np.full(size, _NEVER, dtype=np.float64)
        self._cameras: list[str] = [""] * size
        self._frames: list[str] = [""] * size
        self._count = 0

    def __len__(self) -> int:
        return min(self._count, self.size)

    def query(self, key: FrameKey, *, camera_id: str, at: float) -> FleetMatch | None:
        """The closest recent frame of another camera that this one copies, or None."""
        n = len(self)
        if n == 0:
            return None
        fresh = self._times[:n] >= at - self.max_age_s
        exact = np.flatnonzero((self._digests[:n] == key.digest) & fresh)
        for j in exact:
            if self._cameras[j] != camera_id:
                return FleetMatch(self._cameras[j], self._frames[j], 0, 0.0, exact=True)
        bits = np.bitwise_count(np.bitwise_xor(self._hashes[:n], key.hash64))
        near = np.flatnonzero((bits <= self.max_bits) & fresh)
        if len(near) == 0:
            return None
        table = self._descriptors[near].astype(np.float32) / 127.0
        dist = np.linalg.norm(table - key.descriptor, axis=1)
        best: FleetMatch | None = None
        for k in np.argsort(dist, kind="stable"):
            j = int(near[k])
            if dist[k] > self.max_distance:
                break
            if self._cameras[j] != camera_id:
                best = FleetMatch(
                    self._cameras[j], self._frames[j], int(bits[j]), float(dist[k]), exact=False
                )
                break
        return best

    def add(self, key: FrameKey, *, camera_id: str, frame_id: str, at: float) -> None:
        """Remember one frame (the oldest is forgotten once ``size`` are held)."""
        i = self._count % self.size
        self._hashes[i] = key.hash64
        self._digests[i] = key.digest
        self._descriptors[i] = np.clip(np.rint(key.descriptor * 127.0), -127, 127)
        self._times[i] = at
        self._cameras[i] = camera_id
        self._frames[i] = frame_id
        self._count += 1

    def copy(self) -> FleetHashIndex:
        """An independent copy (what a what-if evaluation queries without polluting)."""
        new = FleetHashIndex(
            self.size,
            max_bits=self.max_bits,
            max_distance=self.max_distance,
            max_age_s=self.max_age_s,
        )
        new._hashes, new._digests = self._hashes.copy(), self._digests.copy()
        new._descriptors, new._times = self._descriptors.copy(), self._times.copy()
        new._cameras, new._frames = list(self._cameras), list(self._frames)
        new._count = self._count
        return new

    def state(self) -> dict:
        n = len(self)
        return {
            "size": self.size,
            "max_bits": self.max_bits,
            "max_distance": self.max_distance,
            "max_age_s": self.max_age_s,
            "count": self._count,
            "hashes": pack(self._hashes[:n], "<u8"),
            "digests": pack(self._digests[:n], "<u8"),
            "descriptors": pack(self._descriptors[:n], "i1"),
            "times": pack(self._times[:n], "<f8"),
            "cameras": self._cameras[:n],
            "frames": self._frames[:n],
        }

    @classmethod
    def from_state(cls, state: Mapping) -> Self:
        new = cls(
            int(state["size"]),
            max_bits=int(state["max_bits"]),
            max_distance=float(state["max_distance"]),
            max_age_s=float(state["max_age_s"]),
        )
        hashes = unpack(state["hashes"], "<u8")
        n = len(hashes)
        new._hashes[:n] = hashes
        new._digests[:n] = unpack(state["digests"], "<u8")
        new._descriptors[:n] = unpack(state["descriptors"], "i1", (n, DESCRIPTOR_LEN))
        new._times[:n] = unpack(state["times"], "<f8")
        new._cameras[:n] = list(state["cameras"])
        new._frames[:n] = list(state["frames"])
        new._count = int(state["count"])
        return new
