"""The frames agent: validate, decode, check, report — in batches, never dying of one frame."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from detectors.camera import CameraInspector
from detectors.policy import Policy
from schemas import DeadLetter, Frame, InvalidMessage
from streams import metrics, pipeline, tables, topics
from streams.app import app, settings
from streams.deadletter import dead_letter
from streams.intake import parse_frame

log = logging.getLogger(__name__)

policy = Policy.from_yaml(settings.policy_file) if settings.policy_file else Policy()
pool = ThreadPoolExecutor(settings.decode_threads, thread_name_prefix="framegate-decode")
# A cache of live inspectors in front of the table; cleared whenever partitions move, so
# the table (recovered from its changelog) stays the source of truth.
_inspectors: dict[str, CameraInspector] = {}


@app.on_partitions_revoked.connect
async def _forget_cameras(sender: Any, revoked: Any, **kwargs: Any) -> None:
    _inspectors.clear()


def _inspector(camera_id: str) -> CameraInspector:
    inspector = _inspectors.get(camera_id)
    if inspector is None:
        state = tables.camera_state.get(camera_id)
        camera_policy = policy.for_camera(camera_id)
        inspector = (
            CameraInspector.from_state(state, camera_policy)
            if state is not None
            else CameraInspector(camera_policy)
        )
        _inspectors[camera_id] = inspector
    return inspector


async def send_dead_letter(event: Any, stage: str, error: Exception) -> None:
    message = event.message
    record: DeadLetter = dead_letter(
        topic=message.topic, partition=message.partition, offset=message.offset,
        key=message.key, payload=message.value, stage=stage, error=error, settings=settings,
    )
    await topics.deadletter.send(key=message.key, value=record.model_dump_json().encode())
    metrics.observe_dead_letter(record)


async def check_batch(events: list[Any]) -> None:
    valid: list[tuple[int, Frame]] = []
    for index, event in enumerate(events):
        try:
            valid.append((index, parse_frame(event.value)))
        except InvalidMessage as exc:
            await send_dead_letter(event, "validate", exc)
    if not valid:
        return
    loop = asyncio.get_running_loop()
    checked = await loop.run_in_executor(None, pipeline.decode_batch, valid, settings, pool)
    cameras = {item.frame.camera_id for item in checked if item.image is not None}
    inspectors = {camera_id: _inspector(camera_id) for camera_id in cameras}
    await loop.run_in_executor(pool, pipeline.inspect_batch, checked, inspectors)

    last_event: dict[str, Any] = {}
    for item in checked:
        event = events[item.index]
        if item.inspection is None:
            await send_dead_letter(event, item.stage, item.error or RuntimeError("no result"))
            continue
        last_event[item.frame.camera_id] = event
        report = pipeline.report_for(item)
        key = item.frame.camera_id.encode()
        await topics.quality.send(key=key, value=report.model_dump_json().encode())
        metrics.observe_report(report)
        if report.issues:
            request = pipeline.relabel_request(item.frame, report.issues)
            await topics.relabel.send(key=key, value=request.model_dump_json().encode())
            metrics.observe_relabel(request)
    for camera_id, event in last_event.items():
        tables.put(tables.camera_state, camera_id, inspectors[camera_id].state(), event)


@app.agent(topics.frames)
async def check_frames(stream: Any) -> None:
    """Checks every frame; a frame that fails goes to the dead-letter topic, never the floor."""
    async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
        metrics.observe_batch(len(events))
        try:
            await check_batch(list(events))
        except Exception as exc:  # the agent must outlive any single batch
            log.exception("batch of %d frames failed; sending them to the dead-letter topic",
                          len(events))
            for event in events:
                await send_dead_letter(event, "processing", exc)
