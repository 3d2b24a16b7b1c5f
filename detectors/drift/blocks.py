"""How one statistic's frames become standardised block values (see :class:`MetricReference`).

Each frame is prewhitened by the reference's autoregression, residuals are summed in blocks
of ``reference.block`` frames, and each block mean is standardised (an indicator's on the
arcsine scale). A closed :class:`Block` keeps what an alert's evidence is summed from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from framegate.detectors.drift.reference import MetricReference


class Block(NamedTuple):
    """A closed block of frames: what the evidence of an alert is summed from (a named
    tuple: one is made per block, on the hot path)."""

    first_frame_id: str
    frames: int
    total: float  # sum of the raw statistic over the block's frames
    total_sq: float  # sum of its squares
    z: float  # the block's standardised value, as the charts saw it


@dataclass(slots=True)
class OpenBlock:
    """The block being filled; :meth:`close` empties it for the next one."""

    first_frame_id: str = ""
    frames: int = 0
    total: float = 0.0  # sum of the raw statistic
    total_sq: float = 0.0  # sum of its squares
    residual_total: float = 0.0  # sum of the prewhitened residuals

    def close(self, z: float) -> Block:
        """The closed block with its standardised value ``z``; this one starts afresh (its
        ``first_frame_id`` is set again by the next block's first frame)."""
        closed = Block(self.first_frame_id, self.frames, self.total, self.total_sq, z)
        self.frames = 0
        self.total = 0.0
        self.total_sq = 0.0
        self.residual_total = 0.0
        return closed


@dataclass(frozen=True, slots=True)
class Standardisation:
    """How frames become block z values, from a :class:`MetricReference`."""

    centre: float  # the reference mean (on the arcsine scale for an indicator)
    block_size: int
    ar: tuple[float, ...]  # prewhitening autoregression, lag 1 first
    z_per_sd: float  # block z units per reference std of a step (the charts' design scale)
    z_factor: float  # a block's mean residual (or arcsine difference) times this is its z
    indicator: bool

    @classmethod
    def of(cls, reference: MetricReference) -> Standardisation:
        """How ``reference`` standardises: see :class:`MetricReference`."""
        block = reference.block
        centre = reference.mean
        z_factor = math.sqrt(block) / (reference.lr_std * (1.0 - sum(reference.ar)))
        if reference.indicator:
            z_factor *= 2.0 * reference.std
            centre = math.asin(math.sqrt((reference.mean * block + 0.375) / (block + 0.75)))
        return cls(
            centre=centre,
            block_size=block,
            ar=reference.ar,
            z_per_sd=reference.std * math.sqrt(block) / reference.lr_std,
            z_factor=z_factor,
            indicator=reference.indicator,
        )


def change_start(history: Sequence[Block], allowance: float, sign: int) -> int:
    """Index in ``history`` where the CUSUM of ``sign * (z - allowance)``, run backwards
    from the newest block, peaks: where the change began (at least the last block, so
    evidence is never empty)."""
    best, total, start = 0.0, 0.0, len(history) - 1
    for i in range(len(history) - 1, -1, -1):
        total += sign * history[i].z - allowance
        if total > best:
            best, start = total, i
    return max(start, 0)


def evidence(blocks: Sequence[Block], max_examples: int) -> Evidence:
    """The first frame, raw statistics (``mean``, ``std``, ``n``) and example frames of
    ``blocks``, the frames since a change point."""
    if not blocks:
        return Evidence(None, {}, [])
    n = sum(b.frames for b in blocks)
    s = sum(b.total for b in blocks)
    sq = sum(b.total_sq for b in blocks)
    mean = s / n
    std = math.sqrt(max(sq / n - mean * mean, 0.0))
    step = max(1, len(blocks) // max_examples)
    examples = [b.first_frame_id for b in blocks[::step]][:max_examples]
    return Evidence(blocks[0].first_frame_id, {"mean": mean, "std": std, "n": float(n)}, examples)


class Evidence(NamedTuple):
    """What an alert shows: where the change began, the statistic since, example frames."""

    change_point: str | None
    after: dict[str, float]
    examples: list[str]


def history_state(blocks: Iterable[Block]) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {
        "first_frame_id": [],
        "frames": [],
        "total": [],
        "total_sq": [],
        "z": [],
    }
    for b in blocks:
        columns["first_frame_id"].append(b.first_frame_id)
        columns["frames"].append(b.frames)
        columns["total"].append(b.total)
        columns["total_sq"].append(b.total_sq)
        columns["z"].append(b.z)
    return columns


def history_from_state(columns: Mapping[str, list[Any]]) -> list[Block]:
    return [
        Block(str(first), int(frames), float(total), float(total_sq), float(z))
        for first, frames, total, total_sq, z in zip(
            columns["first_frame_id"],
            columns["frames"],
            columns["total"],
            columns["total_sq"],
            columns["z"],
            strict=True,
        )
    ]
