"""The gate agent: frames and predictions in, reports, requests and alerts out.

One agent reads both input topics (co-partitioned by ``camera_id``), so a camera's frames
and predictions meet in one place, in order, and the join needs no locks across agents.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import MutableMapping
from typing import Any

from framegate.detectors.gate import CameraGate, Completed
from framegate.schemas import Frame, InvalidMessage, Prediction
from framegate.schemas.fleet import DriftTransition, FleetSummary, HealthTransition
from framegate.streams.worker import pipeline
from framegate.streams.worker.intake import parse
from framegate.streams.worker.metrics import Metrics
from framegate.streams.worker.outputs import Outputs
from framegate.streams.worker.runtime import Runtime
from framegate.streams.worker.tables import Checkpoints
from framegate.streams.worker.topics import Topics

log = logging.getLogger(__name__)


class GateAgent:
    """Every camera this worker owns: their live gates, the batch path and the expiry timer.

    Parameters
    ----------
    runtime
        Settings, policy, model and pools (started before the first batch).
    topics, outputs, metrics
        Where results go, and how they are counted.
    camera_state
        The ``camera-state`` table (any mutable mapping in tests).
    """

    def __init__(
        self,
        runtime: Runtime,
        topics: Topics,
        outputs: Outputs,
        metrics: Metrics,
        camera_state: MutableMapping[str, Any],
    ) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.topics = topics
        self.outputs = outputs
        self.metrics = metrics
        self.camera_state = camera_state
        # Live gates in front of the table, cleared whenever partitions move so that the
        # table (recovered from its changelog) stays the source of truth. The lock keeps
        # the expiry timer and the agent from touching a camera at the same time.
        self.gates: dict[str, CameraGate] = {}
        self._checkpoints = Checkpoints(camera_state, self.settings.state_flush_s)
        self._lock = asyncio.Lock()

    def install(self, app: Any) -> None:
        """Register the agent, the expiry timer and the hand-over hooks on ``app``."""
        app.agent(self.topics.inputs, name="framegate-gate")(self.check)
        app.timer(interval=1.0)(self.complete_held_frames)
        app.on_partitions_revoked.connect(self.hand_over)
        app.on_before_shutdown.connect(self.save_on_shutdown)

    # -- the agent --------------------------------------------------------------------------
    async def check(self, stream: Any) -> None:
        """Checks every frame and joins predictions; what fails goes to the dead-letter topic."""
        settings = self.settings
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            self.metrics.observe_batch(len(events))
            try:
                await self.check_batch(list(events))
            except Exception as exc:  # the agent must outlive any single batch
                log.exception(
                    "batch of %d messages failed; sending them to the dead-letter topic",
                    len(events),
                )
                for event in events:
                    await self.outputs.send_dead_letter(event, "processing", exc)

    async def check_batch(self, events: list[Any]) -> None:
        """Validate, check off the event loop, then send every camera's results in order."""
        items: list[pipeline.Item] = []
        for index, event in enumerate(events):
            try:
                message = event.message
                items.append(
                    pipeline.Item(
                        index,
                        self._parse(event),
                        f"kafka://{message.topic}/{message.partition}/{message.offset}",
                    )
                )
            except InvalidMessage as exc:
                await self.outputs.send_dead_letter(event, "validate", exc)
        if not items:
            return
        runtime = self.runtime
        loop = asyncio.get_running_loop()
        async with self._lock:
            unmatched = {
                camera_id: self.gate(camera_id).unmatched  # tables are read on the loop
                for camera_id in {item.message.camera_id for item in items}
            }
            outcome = await loop.run_in_executor(
                runtime.batch_thread,
                lambda: pipeline.run_batch(
                    items,
                    self.gates.__getitem__,
                    settings=self.settings,
                    embedder=runtime.embedder,
                    pool=runtime.pool,
                    now=time.time(),
                ),
            )
            for index, stage, error in outcome.failed:
                await self.outputs.send_dead_letter(events[index], stage, error)
            by_camera: dict[str, list[Completed]] = {}
            for _, completed in outcome.completed:
                by_camera.setdefault(completed.report.camera_id, []).append(completed)
            for item in items:
                self._checkpoints.seen(item.message.camera_id, events[item.index])
            for camera_id, before in unmatched.items():
                await self.finish(camera_id, by_camera.get(camera_id, []), unmatched_before=before)

    def _parse(self, event: Any) -> Frame | Prediction:
        model = Prediction if event.message.topic == self.topics.predictions_name else Frame
        return parse(model, event.value)

    # -- the timer --------------------------------------------------------------------------
    async def complete_held_frames(self) -> None:
        """Frames held for a prediction that never came are completed without it, and
        predictions whose frame never came are counted."""
        now = time.time()
        async with self._lock:
            for camera_id, gate in list(self.gates.items()):
                if not gate.pending:
                    continue
                before = gate.unmatched
                await self.finish(camera_id, gate.expire(now=now), unmatched_before=before)

    # -- cameras ----------------------------------------------------------------------------
    def gate(self, camera_id: str) -> CameraGate:
        """The camera's live gate, restored from the table (or new) on first use."""
        gate = self.gates.get(camera_id)
        if gate is None:
            runtime = self.runtime
            state = self.camera_state.get(camera_id)
            policy = runtime.policy.for_camera(camera_id)
            reference = runtime.references.get(camera_id)
            gate = (
                CameraGate.from_state(camera_id, state, policy, runtime.gate_config, reference)
                if state is not None
                else CameraGate(camera_id, policy, runtime.gate_config, reference)
            )
            self.gates[camera_id] = gate
        return gate

    async def finish(self, camera_id: str, done: list[Completed], *, unmatched_before: int) -> None:
        """Everything a camera's completed frames send, in its order, then its checkpoint."""
        self.metrics.observe_unmatched(
            camera_id, self.gates[camera_id].unmatched - unmatched_before
        )
        for completed in done:
            await self.publish(camera_id, completed)
        await self.share_with_fleet(camera_id, done)
        self._checkpoints.save(self.gates, [camera_id])

    async def publish(self, camera_id: str, completed: Completed) -> None:
        key = camera_id.encode()
        topics, metrics = self.topics, self.metrics
        if completed.budget_refused:
            metrics.observe_over_budget(camera_id)
        await topics.quality.send(key=key, value=completed.report.model_dump_json().encode())
        metrics.observe_report(completed.report)
        if completed.request is not None:
            await topics.relabel.send(key=key, value=completed.request.model_dump_json().encode())
            metrics.observe_relabel(completed.request)
        for event in [*completed.drift, *completed.health]:
            await self.outputs.send_alert(key, camera_id, event)

    async def share_with_fleet(self, camera_id: str, completed: list[Completed]) -> None:
        """Hand the camera's standardised drift values and transitions to the fleet monitor."""
        zscores = self.gates[camera_id].drift.drain_z()
        events = [e for c in completed for e in c.drift]
        health = [e for c in completed for e in c.health]
        if not zscores and not events and not health:
            return
        at = max(c.report.captured_at.timestamp() for c in completed) if completed else time.time()
        summary = FleetSummary(
            camera_id=camera_id,
            at=at,
            zscores=zscores,
            events=[DriftTransition.model_validate(e.to_dict()) for e in events],
            health=[HealthTransition.model_validate(e.to_dict()) for e in health],
        )
        await self.topics.fleet.send(key=b"fleet", value=summary.model_dump_json().encode())

    # -- hand-over --------------------------------------------------------------------------
    async def hand_over(self, sender: Any, revoked: Any, **kwargs: Any) -> None:
        async with self._lock:
            self._checkpoints.save(self.gates, list(self.gates), force=True)
            self.gates.clear()
            self._checkpoints.clear()

    async def save_on_shutdown(self, sender: Any, **kwargs: Any) -> None:
        self._checkpoints.save(self.gates, list(self.gates), force=True)
