"""`framegate replay`: image files, folders and videos published as one camera's frames."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from framegate.schemas.settings import Settings
from framegate.streams.kafka.clients import producer
from framegate.streams.media import encoded_frames, frame_message


async def replay(
    paths: list[Path],
    settings: Settings,
    *,
    camera_id: str,
    fps: float,
    start_index: int = 0,
) -> AsyncIterator[int]:
    """Publish the frames of ``paths`` as ``camera_id``; yields after each frame is sent."""
    topic = settings.topic("frames")
    start = datetime.now(tz=UTC)
    step = timedelta(seconds=1.0 / fps) if fps > 0 else timedelta(seconds=0.04)
    async with producer(settings) as client:
        for offset, (data, encoding) in enumerate(encoded_frames(paths)):
            index = start_index + offset
            value = frame_message(
                camera_id, index, data, encoding=encoding, captured_at=start + offset * step
            )
            await client.send(topic, value=value, key=camera_id.encode())
            yield index
        await client.flush()
