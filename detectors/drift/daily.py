"""The day's rhythm: a change that came and went at this time of day before is not drift.

A camera whose light follows the day sees its statistics move at every dusk and back at
every dawn (an infrared switch, street lights, a shadow crossing the view at the same hour
do the same). Such a change cannot be told from drift the first time: a darkening is a
darkening. But it comes back. Each statistic remembers, for ``daily_memory_days`` days, the
episodes it saw end (when a change fired, when it was over, and its direction). A change in
the same direction, firing within ``daily_tolerance_s`` of the time of day an earlier one
fired, on an earlier day, is that rhythm: a *mode* of the camera (night, say) that comes
with the time of day, not a new state. It raises no alert and is expected to end as the
last one did; one still running ``daily_tolerance_s`` after that (a night that does not
end) is reported then.

Times of day are ``at`` modulo 86,400 seconds: a camera's local time zone only shifts
them all by the same amount.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from framegate.detectors.drift.config import SECONDS_PER_DAY


@dataclass(frozen=True, slots=True)
class Episode:
    """A change that fired at ``fired_at``, was over at ``ended_at``, going ``direction``."""

    fired_at: float
    ended_at: float
    direction: int  # +1 up, -1 down


def time_of_day_distance(a: float, b: float) -> float:
    """Seconds between the times of day of ``a`` and ``b`` (0 to 43,200).

    >>> time_of_day_distance(86_400 * 3 + 100.0, 86_400 - 100.0)
    200.0
    """
    d = (a - b) % SECONDS_PER_DAY
    return min(d, SECONDS_PER_DAY - d)


class DailyEpisodes:
    """Recent episodes of one statistic, and whether a new change repeats one of them.

    Parameters
    ----------
    tolerance_s
        Largest difference in time of day between two firings of the same rhythm; 0 turns
        the recognition off.
    memory_days
        Days an episode is remembered.

    Examples
    --------
    >>> day = 86_400.0
    >>> daily = DailyEpisodes(tolerance_s=3600.0, memory_days=2)
    >>> daily.expected_end(18 * 3600.0, -1) is None  # the first dusk is news
    True
    >>> daily.record(18 * 3600.0, day + 6 * 3600.0, -1)  # it ended at the next dawn
    >>> nxt = day + 18.5 * 3600.0  # the next dusk: expected, over by the next dawn (+1 h)
    >>> (daily.expected_end(nxt, -1) - nxt) / 3600.0
    13.0
    >>> daily.expected_end(day + 13 * 3600.0, -1) is None  # fog at 13:00 is not
    True
    """

    def __init__(self, tolerance_s: float, memory_days: int) -> None:
        self.tolerance_s = tolerance_s
        self.memory_days = memory_days
        self._episodes: list[Episode] = []

    @property
    def episodes(self) -> tuple[Episode, ...]:
        return tuple(self._episodes)

    def expected_end(self, at: float, direction: int) -> float | None:
        """When a change firing at ``at`` going ``direction`` should be over, if it repeats
        a remembered episode (the latest such); None if it is news."""
        if self.tolerance_s <= 0:
            return None
        for episode in reversed(self._episodes):
            age = at - episode.fired_at
            if (
                episode.direction == direction
                and SECONDS_PER_DAY / 2 <= age <= self.memory_days * SECONDS_PER_DAY + 43_200
                and time_of_day_distance(at, episode.fired_at) <= self.tolerance_s
            ):
                return at + (episode.ended_at - episode.fired_at) + self.tolerance_s
        return None

    def record(self, fired_at: float, ended_at: float, direction: int) -> None:
        """Remember an episode that is over; forget those older than the memory."""
        if self.tolerance_s <= 0:
            return
        horizon = ended_at - (self.memory_days + 1) * SECONDS_PER_DAY
        kept = [e for e in self._episodes if e.ended_at >= horizon]
        self._episodes = [*kept[-31:], Episode(fired_at, ended_at, direction)]

    def clear(self) -> None:
        self._episodes = []

    def state(self) -> list[dict[str, Any]]:
        """JSON-ready state; :meth:`load_state` restores it."""
        return [asdict(e) for e in self._episodes]

    def load_state(self, state: list[dict[str, Any]]) -> None:
        self._episodes = [
            Episode(float(e["fired_at"]), float(e["ended_at"]), int(e["direction"])) for e in state
        ]
