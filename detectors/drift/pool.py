"""A self-starting reference: the values it is learnt from, growing with the camera.

A statistic without a calibrated reference keeps its first ``warmup_frames`` values and is
charted from then on against a reference estimated from them. The reference then keeps
growing: each later value charted while no alert is open waits ``reference_lag_frames``
frames, or 10 blocks if longer (a change that has begun is usually caught before its values
could join; when a change fires, the values still waiting are dropped) and joins. The
reference is estimated again each time the pool has grown by ``reference_growth``, and for
the last time at ``reference_frames`` values, when the pool is let go.

Growing also mends an unlucky start: a reference whose first few hundred frames sat off the
statistic's usual level is pulled back by every frame that joins, so its charts do not
fire again and again on the same error.
"""

from __future__ import annotations

from array import array
from collections import deque
from typing import Any

import numpy as np

from framegate.detectors.drift.config import DriftConfig
from framegate.detectors.packing import pack, unpack

#: A value waits at least this many blocks: a change in a statistic averaged over long
#: blocks (a rare class: 100-200 frames) takes blocks to show.
LAG_BLOCKS = 10


def _encode(values: array | deque[float]) -> str:
    return pack(np.asarray(values, dtype=np.float32), "<f4")


def _decode(text: str) -> array:
    return array("f", unpack(text, "<f4").astype(np.float32).tobytes())


class ReferencePool:
    """The values a growing reference is estimated from (float32: the statistics carry far
    less precision, and a camera's changelog carries 4 bytes a value instead of ~20).

    Examples
    --------
    >>> pool = ReferencePool(DriftConfig(warmup_frames=100, reference_lag_frames=10))
    >>> for v in range(100):
    ...     pool.learn(float(v))
    >>> pool.size, pool.due
    (100, True)
    >>> pool.estimated()
    >>> for v in range(20):
    ...     pool.offer(float(v))
    >>> pool.size, pool.pending  # 10 values old enough to join
    (110, 10)
    """

    def __init__(self, config: DriftConfig) -> None:
        self.config = config
        self._values = array("f")
        self._pending: deque[float] = deque()
        self._next_estimate = config.warmup_frames

    @property
    def size(self) -> int:
        """Values in the reference."""
        return len(self._values)

    @property
    def pending(self) -> int:
        """Values waiting to join."""
        return len(self._pending)

    @property
    def values(self) -> array:
        return self._values

    @property
    def due(self) -> bool:
        """Whether the reference should be estimated (again) from :attr:`values`."""
        return len(self._values) >= self._next_estimate

    @property
    def full(self) -> bool:
        return len(self._values) >= self.config.reference_size

    def learn(self, value: float, frames: int = 1) -> None:
        """Add ``value`` (``frames`` times) straight to the reference (before it is watched)."""
        self._values.extend(array("f", [value]) * frames)

    def offer(self, value: float, block: int = 1) -> None:
        """A charted value; the one ``reference_lag_frames`` older (or :data:`LAG_BLOCKS`
        blocks of ``block`` frames, if longer) joins the reference."""
        self._pending.append(value)
        lag = max(self.config.reference_lag_frames, LAG_BLOCKS * block)
        while len(self._pending) > lag:
            old = self._pending.popleft()
            if len(self._values) < self.config.reference_size:
                self._values.append(old)

    def discard_pending(self) -> None:
        """Forget the values waiting to join: they may hold the start of a change."""
        self._pending.clear()

    def estimated(self) -> None:
        """The reference was estimated from the present values: schedule the next time."""
        c = self.config
        self._next_estimate = min(
            max(int(len(self._values) * c.reference_growth), len(self._values) + 1),
            c.reference_size,
        )

    def state(self) -> dict[str, Any]:
        """JSON-ready state; :meth:`from_state` restores it."""
        return {
            "values": _encode(self._values),
            "pending": _encode(self._pending),
            "next_estimate": self._next_estimate,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], config: DriftConfig) -> ReferencePool:
        self = cls(config)
        self._values = _decode(state["values"])
        self._pending.extend(_decode(state["pending"]))
        self._next_estimate = int(state["next_estimate"])
        return self
