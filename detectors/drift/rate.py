"""A camera's own frame rate, estimated from the ``captured_at`` times of its frames."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

MIN_INTERVALS = 10  # intervals seen before the estimate is trusted
EVERY = 16  # intervals between two medians (the estimate is read on every frame)


class FrameRate:
    """Frames per second of one camera: one over the median of its recent frame intervals.

    The median of the last ``window`` positive intervals between consecutive ``at`` times
    ignores a gap (the camera was off, a frame was lost) and a burst, and follows a camera
    whose rate was changed within ``window / 2`` frames. Frames out of order or with the
    same time carry no interval. The median is taken again every 16 intervals. Times come
    in as arguments: there is no clock.

    Parameters
    ----------
    window
        Recent intervals kept.

    Examples
    --------
    >>> rate = FrameRate()
    >>> for i in range(30):
    ...     rate.update(1_700_000_000.0 + i * 0.1 + (5.0 if i > 20 else 0.0))
    >>> round(rate.value, 3), rate.known
    (10.0, True)
    """

    def __init__(self, window: int = 64) -> None:
        if window < 1:
            raise ValueError("window must be >= 1")
        self.window = window
        self._reset()

    def _reset(self) -> None:
        self._intervals: deque[float] = deque(maxlen=self.window)
        self._last: float | None = None
        self._value: float | None = None
        self._since = 0  # intervals since the median was taken

    def update(self, at: float) -> None:
        """Add the ``captured_at`` time (epoch seconds) of the camera's next frame."""
        if not math.isfinite(at):
            return
        last = self._last
        if last is not None and at > last:
            self._intervals.append(at - last)
            self._since += 1
            if len(self._intervals) >= MIN_INTERVALS and (
                self._value is None or self._since >= EVERY
            ):
                self._value, self._since = 1.0 / _median(self._intervals), 0
        if last is None or at > last:
            self._last = at

    @property
    def known(self) -> bool:
        """Whether enough intervals were seen for :attr:`value` to be the camera's own."""
        return len(self._intervals) >= MIN_INTERVALS

    @property
    def value(self) -> float | None:
        """Frames per second (None until :attr:`known`)."""
        return self._value

    def state(self) -> dict[str, Any]:
        """JSON-ready state; :meth:`from_state` restores it."""
        return {
            "window": self.window,
            "intervals": list(self._intervals),
            "last": self._last,
            "value": self._value,
            "since": self._since,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FrameRate:
        self = cls(int(state["window"]))
        self._intervals.extend(float(v) for v in state["intervals"])
        self._last = None if state["last"] is None else float(state["last"])
        self._value = None if state["value"] is None else float(state["value"])
        self._since = int(state["since"])
        return self


def _median(values: deque[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])
