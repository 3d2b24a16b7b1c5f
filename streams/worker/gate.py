"""The gate agent: frames and predictions in, reports, requests and alerts out.

One agent reads both input topics (co-partitioned by ``camera_id``), so a camera's frames
and predictions meet in one place, in order, and the join needs no locks across agents.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from detectors.camera_gate import CameraGate, Completed
from detectors.embedding import Embedder
from detectors.policy import Policy
from schemas import Frame, InvalidMessage, Prediction
from streams import calibration, config, metrics, pipeline, tables, topics
from streams.app import app, settings
from streams.intake import parse
from streams.outputs import send_alert, send_dead_letter

log = logging.getLogger(__name__)

policy = Policy.from_yaml(settings.policy_file) if settings.policy_file else Policy()
gate_config = config.gate_config(settings)
pool = ThreadPoolExecutor(settings.decode_threads, thread_name_prefix="framegate-decode")
batch_thread = ThreadPoolExecutor(1, thread_name_prefix="framegate-batch")
embedder: Embedder | None = config.build_embedder(settings)
references = calibration.load(settings.drift_references) if settings.drift_references else {}

# Live gates in front of the table, cleared whenever partitions move so that the table
# (recovered from its changelog) stays the source of truth. The lock keeps the expiry timer
# and the agent from touching a camera at the same time.
_gates: dict[str, CameraGate] = {}
_checkpoints = tables.Checkpoints(tables.camera_state, settings.state_flush_s)
_lock = asyncio.Lock()


@app.on_partitions_revoked.connect
async def _hand_over(sender: Any, revoked: Any, **kwargs: Any) -> None:
    async with _lock:
        _checkpoints.save(_gates, list(_gates), force=True)
        _gates.clear()
        _checkpoints.clear()


@app.on_before_shutdown.connect
async def _save_on_shutdown(sender: Any, **kwargs: Any) -> None:
    _checkpoints.save(_gates, list(_gates), force=True)


def _gate(camera_id: str) -> CameraGate:
    gate = _gates.get(camera_id)
    if gate is None:
        state = tables.camera_state.get(camera_id)
        camera_policy = policy.for_camera(camera_id)
        reference = references.get(camera_id)
        gate = (
            CameraGate.from_state(camera_id, state, camera_policy, gate_config, reference)
            if state is not None
            else CameraGate(camera_id, camera_policy, gate_config, reference)
        )
        _gates[camera_id] = gate
    return gate


async def publish(camera_id: str, completed: Completed) -> None:
    key = camera_id.encode()
    if completed.budget_refused:
        metrics.observe_over_budget(camera_id)
    await topics.quality.send(key=key, value=completed.report.model_dump_json().encode())
    metrics.observe_report(completed.report)
    if completed.request is not None:
        await topics.relabel.send(key=key, value=completed.request.model_dump_json().encode())
        metrics.observe_relabel(completed.request)
    for event in completed.drift:
        await send_alert(key, camera_id, event)


async def finish(camera_id: str, done: list[Completed], *, unmatched_before: int) -> None:
    """Everything a camera's completed frames send, in its order, then its checkpoint."""
    metrics.observe_unmatched(camera_id, _gates[camera_id].unmatched - unmatched_before)
    for completed in done:
        await publish(camera_id, completed)
    await share_with_fleet(camera_id, done)
    _checkpoints.save(_gates, [camera_id])


async def share_with_fleet(camera_id: str, completed: list[Completed]) -> None:
    """Hand the camera's standardised drift values and transitions to the fleet monitor."""
    gate = _gates[camera_id]
    zscores = gate.drift.drain_z()
    events = [e.to_dict() for c in completed for e in c.drift]
    if not zscores and not events:
        return
    at = max(c.report.captured_at.timestamp() for c in completed) if completed else time.time()
    await topics.fleet.send(
        key=b"fleet",
        value=tables.dumps(
            {"camera_id": camera_id, "at": at, "zscores": zscores, "events": events}
        ),
    )


def _parse(event: Any) -> Frame | Prediction:
    model = Prediction if event.message.topic == topics.predictions_name else Frame
    return parse(model, event.value)


async def check_batch(events: list[Any]) -> None:
    items: list[pipeline.Item] = []
    for index, event in enumerate(events):
        try:
            message = event.message
            items.append(
                pipeline.Item(
                    index,
                    _parse(event),
                    f"kafka://{message.topic}/{message.partition}/{message.offset}",
                )
            )
        except InvalidMessage as exc:
            await send_dead_letter(event, "validate", exc)
    if not items:
        return
    loop = asyncio.get_running_loop()
    async with _lock:
        unmatched = {
            camera_id: _gate(camera_id).unmatched  # tables are read on the loop
            for camera_id in {item.message.camera_id for item in items}
        }
        outcome = await loop.run_in_executor(
            batch_thread,
            lambda: pipeline.run_batch(
                items,
                _gates.__getitem__,
                settings=settings,
                embedder=embedder,
                pool=pool,
                now=time.time(),
            ),
        )
        for index, stage, error in outcome.failed:
            await send_dead_letter(events[index], stage, error)
        by_camera: dict[str, list[Completed]] = {}
        for _, completed in outcome.completed:
            by_camera.setdefault(completed.report.camera_id, []).append(completed)
        for item in items:
            _checkpoints.seen(item.message.camera_id, events[item.index])
        for camera_id, before in unmatched.items():
            await finish(camera_id, by_camera.get(camera_id, []), unmatched_before=before)


@app.agent(topics.inputs)
async def check(stream: Any) -> None:
    """Checks every frame and joins predictions; what fails goes to the dead-letter topic."""
    async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
        metrics.observe_batch(len(events))
        try:
            await check_batch(list(events))
        except Exception as exc:  # the agent must outlive any single batch
            log.exception(
                "batch of %d messages failed; sending them to the dead-letter topic", len(events)
            )
            for event in events:
                await send_dead_letter(event, "processing", exc)


@app.timer(interval=1.0)
async def complete_held_frames() -> None:
    """Frames held for a prediction that never came are completed without it, and
    predictions whose frame never came are counted."""
    now = time.time()
    async with _lock:
        for camera_id, gate in list(_gates.items()):
            if not gate.pending:
                continue
            before = gate.unmatched
            await finish(camera_id, gate.expire(now=now), unmatched_before=before)
