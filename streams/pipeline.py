"""The synchronous part of checking a batch of frames, run off the event loop.

Decoding, measuring and per-camera sequence checks are CPU work (OpenCV releases the GIL);
the agent hands a whole batch to a thread so heartbeats and fetches never wait on pixels.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Executor
from dataclasses import dataclass, field

from detectors.camera import DECODE_REDUCE, CameraInspector, Inspection
from detectors.decode import DecodedImage, decode_image
from schemas import Frame, InvalidMessage, Issue, QualityReport, RelabelRequest
from schemas.base import utcnow
from schemas.checks import SEVERITY_RANK
from schemas.settings import Settings
from streams.intake import image_bytes


@dataclass
class Checked:
    """One frame's outcome: a report (and maybe a request), or the error that stopped it."""

    index: int
    frame: Frame
    image: DecodedImage | None = None
    inspection: Inspection | None = None
    error: Exception | None = None
    stage: str = "image_decode"
    extra_issues: list[Issue] = field(default_factory=list)


def load_and_decode(frame: Frame, settings: Settings) -> DecodedImage:
    return decode_image(
        image_bytes(frame.image, settings), max_pixels=settings.max_pixels, reduce=DECODE_REDUCE
    )


def decode_batch(
    frames: list[tuple[int, Frame]], settings: Settings, pool: Executor
) -> list[Checked]:
    def one(item: tuple[int, Frame]) -> Checked:
        index, frame = item
        try:
            return Checked(index, frame, image=load_and_decode(frame, settings))
        except InvalidMessage as exc:
            return Checked(index, frame, error=exc)

    return list(pool.map(one, frames))


def inspect_batch(checked: list[Checked], inspectors: dict[str, CameraInspector]) -> None:
    """Runs each camera's checks in arrival order (the sequence checks depend on it)."""
    for item in checked:
        if item.image is None:
            continue
        frame = item.frame
        try:
            item.inspection = inspectors[frame.camera_id].inspect(
                item.image,
                frame_id=frame.frame_id,
                captured_at=frame.captured_at.timestamp(),
                annotations=frame.annotations,
            )
        except Exception as exc:  # one bad frame must not stop the batch
            item.error, item.stage = exc, "inspect"


def report_for(item: Checked) -> QualityReport:
    assert item.image is not None and item.inspection is not None
    return QualityReport(
        frame_id=item.frame.frame_id,
        camera_id=item.frame.camera_id,
        captured_at=item.frame.captured_at,
        processed_at=utcnow(),
        width=item.image.width,
        height=item.image.height,
        metrics=item.inspection.metrics,
        issues=[*item.inspection.issues, *item.extra_issues],
    )


def request_id(camera_id: str, frame_id: str) -> str:
    """Derived from the frame alone, so a redelivered frame maps to the same request."""
    return hashlib.sha256(f"{camera_id}\x1f{frame_id}".encode()).hexdigest()[:32]


def relabel_request(frame: Frame, issues: list[Issue]) -> RelabelRequest:
    worst = max(issues, key=lambda i: (SEVERITY_RANK[i.severity], i.score))
    priority = min(1.0, 0.5 * worst.score + 0.25 * SEVERITY_RANK[worst.severity]
                   + 0.05 * (len(issues) - 1))
    return RelabelRequest(
        request_id=request_id(frame.camera_id, frame.frame_id),
        frame_id=frame.frame_id,
        camera_id=frame.camera_id,
        captured_at=frame.captured_at,
        image=frame.image,
        reasons=issues,
        priority=round(priority, 4),
    )
