"""The synchronous part of a batch, run off the event loop.

Decoding, measuring, embedding and every camera's checks are CPU (or GPU) work; OpenCV and
torch release the GIL. The agent hands a whole batch to one thread so heartbeats and fetches
never wait on pixels, and a camera's frames and predictions are seen in arrival order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from framegate.detectors.annotations import check_boxes
from framegate.detectors.decode import DecodedImage
from framegate.detectors.embedding import Embedder
from framegate.detectors.gate import CameraGate, Completed
from framegate.detectors.inspector import decode_for_checks
from framegate.schemas import Frame, Prediction
from framegate.schemas.settings import Settings
from framegate.streams.worker.intake import image_bytes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Item:
    """One valid input of a batch: a frame or a prediction, and where it came from."""

    index: int
    message: Frame | Prediction
    source: str  # kafka://topic/partition/offset


@dataclass
class Outcome:
    completed: list[tuple[int, Completed]] = field(default_factory=list)
    failed: list[tuple[int, str, Exception]] = field(default_factory=list)


def load_and_decode(frame: Frame, settings: Settings) -> DecodedImage:
    """The frame's pixels at the checks' resolution, its annotation boxes checked against
    them.

    Raises
    ------
    InvalidMessage
        Any reason of the image source or the decoder, or ``box_outside_image``.
    """
    image = decode_for_checks(image_bytes(frame.image, settings), max_pixels=settings.max_pixels)
    check_boxes(frame.annotations, image.width, image.height)
    return image


def run_batch(
    items: list[Item],
    gates: Callable[[str], CameraGate],
    *,
    settings: Settings,
    embedder: Embedder | None,
    pool: Executor,
    now: float,
) -> Outcome:
    """Decode every frame (in parallel), embed them in one batch, then feed each camera."""
    outcome = Outcome()
    frames = [item for item in items if isinstance(item.message, Frame)]

    def decode(item: Item) -> DecodedImage | Exception:
        try:
            return load_and_decode(item.message, settings)  # type: ignore[arg-type]
        except Exception as exc:  # whatever a crafted image raises costs that frame only
            return exc

    decoded = dict(zip((i.index for i in frames), pool.map(decode, frames), strict=True))
    embeddings = _embed(decoded, embedder) if embedder is not None else {}
    for item in items:
        message = item.message
        try:
            gate = gates(message.camera_id)
            if isinstance(message, Prediction):
                done = gate.prediction(message, now=now)
            else:
                image = decoded[item.index]
                if isinstance(image, Exception):
                    outcome.failed.append((item.index, "image_decode", image))
                    continue
                done = gate.frame(
                    message,
                    image,
                    embedding=embeddings.get(item.index),
                    source=item.source,
                    now=now,
                )
        except Exception as exc:  # one bad input must not stop the batch
            outcome.failed.append((item.index, "check", exc))
            continue
        outcome.completed += [(item.index, c) for c in done]
    return outcome


def _embed(
    decoded: dict[int, DecodedImage | Exception], embedder: Embedder
) -> dict[int, np.ndarray]:
    """Embeddings of the decoded frames, in one batch; if the batch fails, frame by frame,
    and a frame the model cannot take is checked without its embedding (and logged)."""
    ok = [(index, image) for index, image in decoded.items() if isinstance(image, DecodedImage)]
    if not ok:
        return {}
    try:
        batch = embedder.embed([image.bgr for _, image in ok])
        return {index: batch.embeddings[row] for row, (index, _) in enumerate(ok)}
    except Exception:
        log.exception("embedding a batch of %d frames failed; embedding one by one", len(ok))
    found: dict[int, np.ndarray] = {}
    for index, image in ok:
        try:
            found[index] = embedder.embed([image.bgr]).embeddings[0]
        except Exception:
            log.exception("a frame could not be embedded; it is checked without embedding")
    return found
