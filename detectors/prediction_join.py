"""Join a frame and its prediction by ``frame_id``, whichever arrives first, within a window.

A pure buffer: the caller passes the time (epoch seconds: the event time of the message or
the worker's clock, its choice) and calls :meth:`PredictionJoin.expire` when it likes (on a
timer, or every batch). Whatever waited longer than ``window_s`` comes back from
:meth:`~PredictionJoin.expire` so that the caller can count it (and check a frame without
its prediction) instead of losing it silently.

Memory is bounded: beyond ``max_pending`` entries, the oldest is evicted and reported the
next time :meth:`~PredictionJoin.expire` runs, with ``reason="overflow"``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

__all__ = ["Expired", "Joined", "PredictionJoin"]

F = TypeVar("F")
P = TypeVar("P")

Side = Literal["frame", "prediction"]


@dataclass(frozen=True, slots=True)
class Joined(Generic[F, P]):
    """A frame and its prediction, and how long the first of the two waited (seconds)."""

    frame_id: str
    frame: F
    prediction: P
    waited_s: float


@dataclass(frozen=True, slots=True)
class Expired(Generic[F, P]):
    """One side that found no partner in time: ``side`` says which one ``item`` is."""

    frame_id: str
    side: Side
    item: Any
    arrived_at: float
    reason: Literal["window", "overflow"] = "window"


class PredictionJoin(Generic[F, P]):
    """Buffer frames and predictions until their partner arrives or the window closes.

    Parameters
    ----------
    window_s
        How long (seconds) the first arrival waits for its partner.
    max_pending
        Most entries held at once; the oldest is evicted beyond it.

    Examples
    --------
    >>> join = PredictionJoin(window_s=10.0)
    >>> join.add_prediction("f1", {"classes": {"cat": 0.9}}, now=100.0) is None
    True
    >>> hit = join.add_frame("f1", {"jpeg": "..."}, now=101.5)
    >>> hit.prediction, hit.waited_s
    ({'classes': {'cat': 0.9}}, 1.5)
    >>> join.add_frame("f2", "frame two", now=102.0) is None
    True
    >>> [(e.frame_id, e.side) for e in join.expire(now=113.0)]
    [('f2', 'frame')]
    """

    def __init__(self, *, window_s: float = 30.0, max_pending: int = 100_000) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        self.window_s = float(window_s)
        self.max_pending = int(max_pending)
        self._reset()

    def _reset(self) -> None:
        # frame_id -> (side, item, arrived_at); the heap holds (arrived_at, seq, frame_id)
        # with lazy deletion: an entry is live when the pending seq matches.
        self._pending: dict[str, tuple[Side, Any, float, int]] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0
        self._evicted: list[Expired[F, P]] = []

    # -- updates ------------------------------------------------------------------------
    def add_frame(self, frame_id: str, frame: F, *, now: float) -> Joined[F, P] | None:
        """Offer a frame: its join when the prediction is waiting, else ``None`` (it waits)."""
        return self._add(frame_id, "frame", frame, now)

    def add_prediction(self, frame_id: str, prediction: P, *, now: float) -> Joined[F, P] | None:
        """Offer a prediction: its join when the frame is waiting, else ``None`` (it waits)."""
        return self._add(frame_id, "prediction", prediction, now)

    def _add(self, frame_id: str, side: Side, item: Any, now: float) -> Joined[F, P] | None:
        waiting = self._pending.get(frame_id)
        if waiting is not None and waiting[0] != side:
            del self._pending[frame_id]
            other, arrived = waiting[1], waiting[2]
            frame, pred = (item, other) if side == "frame" else (other, item)
            return Joined(frame_id, frame, pred, max(0.0, now - arrived))
        # first arrival, or a redelivery of the same side: the newest copy waits, keeping
        # the first arrival time so a redelivery cannot extend the window.
        arrived = waiting[2] if waiting is not None else float(now)
        self._seq += 1
        self._pending[frame_id] = (side, item, arrived, self._seq)
        heapq.heappush(self._heap, (arrived, self._seq, frame_id))
        while len(self._pending) > self.max_pending:
            self._evict_oldest()
        return None

    def _evict_oldest(self) -> None:
        while self._heap:
            _, seq, fid = heapq.heappop(self._heap)
            entry = self._pending.get(fid)
            if entry is not None and entry[3] == seq:
                del self._pending[fid]
                self._evicted.append(Expired(fid, entry[0], entry[1], entry[2], "overflow"))
                return

    def expire(self, *, now: float) -> list[Expired[F, P]]:
        """Remove and return every entry that waited ``window_s`` or longer, oldest first."""
        out, self._evicted = self._evicted, []
        deadline = now - self.window_s
        while self._heap and self._heap[0][0] <= deadline:
            _, seq, fid = heapq.heappop(self._heap)
            entry = self._pending.get(fid)
            if entry is not None and entry[3] == seq:
                del self._pending[fid]
                out.append(Expired(fid, entry[0], entry[1], entry[2]))
        if len(self._heap) > 4 * len(self._pending) + 64:  # drop dead heap entries
            self._heap = [(a, s, f) for f, (_, _, a, s) in self._pending.items()]
            heapq.heapify(self._heap)
        return out

    # -- reading ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, frame_id: object) -> bool:
        return frame_id in self._pending

    def waiting(self, side: Side) -> int:
        """How many entries of one side wait for their partner."""
        return sum(1 for entry in self._pending.values() if entry[0] == side)

    # -- persistence --------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot; pydantic items are dumped with ``model_dump``.

        Items that are neither pydantic models nor JSON values make the snapshot
        unserialisable: keep such a join in memory only.
        """
        entries = []
        for fid, (side, item, arrived, _) in sorted(self._pending.items(), key=lambda kv: kv[1][3]):
            dump = item.model_dump(mode="json") if hasattr(item, "model_dump") else item
            entries.append([fid, side, arrived, dump])
        return {"window_s": self.window_s, "max_pending": self.max_pending, "entries": entries}

    @classmethod
    def from_state(
        cls,
        state: dict[str, Any],
        *,
        frame_type: type | None = None,
        prediction_type: type | None = None,
    ) -> PredictionJoin[F, P]:
        """Rebuild from :meth:`state`; pass the pydantic classes to get models back."""
        join: PredictionJoin[F, P] = cls(
            window_s=state["window_s"], max_pending=state["max_pending"]
        )
        types = {"frame": frame_type, "prediction": prediction_type}
        for fid, side, arrived, dump in state["entries"]:
            kind = types[side]
            item = kind.model_validate(dump) if kind is not None else dump
            join._seq += 1
            join._pending[fid] = (side, item, float(arrived), join._seq)
            heapq.heappush(join._heap, (float(arrived), join._seq, fid))
        return join
