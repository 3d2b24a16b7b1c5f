"""`framegate calibrate`: learn each camera's drift references from a clean period.

Reads the frames already on the frames topic (or image files and videos for one camera),
measures the drift statistics exactly as the worker does, and writes one reference per
camera, with thresholds set to the configured false-alarm budget. Workers load the file
(``FRAMEGATE_DRIFT_REFERENCES``) for cameras that have no drift state yet; without it each
camera learns its reference online during its first ``FRAMEGATE_DRIFT_WARMUP_FRAMES``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from tqdm import tqdm

from framegate.detectors.drift import CameraReference, DriftConfig, calibrate
from framegate.detectors.gate import drift_statistics
from framegate.detectors.image_metrics import measure
from framegate.detectors.inspector import decode_for_checks
from framegate.schemas import Frame, InvalidMessage
from framegate.schemas.settings import Settings
from framegate.streams.kafka.clients import reader
from framegate.streams.worker.intake import image_bytes, parse


def statistics(data: bytes, settings: Settings) -> dict[str, float]:
    image = decode_for_checks(data, max_pixels=settings.max_pixels)
    return drift_statistics(measure(image.bgr).metrics)


async def frames_on_topic(settings: Settings, limit: int) -> list[Frame]:
    """Up to ``limit`` valid frames per camera from the start of the frames topic."""
    consumer = reader(settings, settings.topic("frames"))
    per_camera: dict[str, int] = defaultdict(int)
    found: list[Frame] = []
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=2000)
            if not batches:
                return found
            for records in batches.values():
                for record in records:
                    try:
                        frame = parse(Frame, record.value)
                    except InvalidMessage:
                        continue
                    if per_camera[frame.camera_id] < limit:
                        per_camera[frame.camera_id] += 1
                        found.append(frame)
    finally:
        await consumer.stop()


def series_of(
    frames: Iterable[tuple[str, bytes]], settings: Settings, total: int
) -> dict[str, dict[str, list[float]]]:
    """camera -> statistic -> values, in frame order; unreadable frames are skipped."""
    series: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for camera_id, data in tqdm(frames, total=total, unit="frame", desc="measure"):
        try:
            stats = statistics(data, settings)
        except InvalidMessage:
            continue
        for name, value in stats.items():
            series[camera_id][name].append(value)
    return series


def inline(frames: list[Frame], settings: Settings) -> Iterator[tuple[str, bytes]]:
    for frame in frames:
        try:
            yield frame.camera_id, image_bytes(frame.image, settings)
        except InvalidMessage:
            continue


def references(
    series: dict[str, dict[str, list[float]]], config: DriftConfig
) -> dict[str, CameraReference]:
    out = {}
    for camera_id, stats in series.items():
        with tqdm(total=1, desc=f"calibrate {camera_id}", unit="step") as bar:

            def progress(done: int, total: int, bar: tqdm = bar) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            out[camera_id] = calibrate(stats, config, progress=progress)
    return out
