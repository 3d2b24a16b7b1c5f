"""The gate agent: frames and predictions in, reports, requests and alerts out.

One agent reads both input topics (co-partitioned by ``camera_id``), so a camera's frames
and predictions meet in one place, in order, and the join needs no locks across agents.

Every message is accounted for: each stage (parsing, admitting the camera, fetching and
decoding the image, checking, building the outputs) catches what one message raises and
dead-letters that message only; the outputs of a batch are delivered, and confirmed by the
broker, before its inputs are acknowledged (:mod:`.outputs`). If a batch still fails as a
whole (a bug), its messages are run again one at a time, so only the culprit is
dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import MutableMapping
from typing import Any

from framegate.detectors.gate import CameraGate, Completed
from framegate.schemas import DeadLetterReason, Frame, InvalidMessage, Prediction
from framegate.schemas.fleet import DriftTransition, FleetSummary, HealthTransition
from framegate.streams.worker import pipeline
from framegate.streams.worker.control import ControlDesk
from framegate.streams.worker.intake import Limits, parse
from framegate.streams.worker.liveness import LivenessWatch
from framegate.streams.worker.metrics import Metrics
from framegate.streams.worker.outputs import DeliveryAborted, Outbox, Outputs
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
    camera_liveness, camera_controls
        The ``camera-liveness`` and ``camera-controls`` tables (:mod:`.liveness`,
        :mod:`.control`); plain dicts when not given.
    """

    def __init__(
        self,
        runtime: Runtime,
        topics: Topics,
        outputs: Outputs,
        metrics: Metrics,
        camera_state: MutableMapping[str, Any],
        camera_liveness: MutableMapping[str, Any] | None = None,
        camera_controls: MutableMapping[str, Any] | None = None,
    ) -> None:
        self.runtime = runtime
        self.settings = settings = runtime.settings
        self.topics = topics
        self.outputs = outputs
        self.metrics = metrics
        self.camera_state = camera_state
        self.limits = Limits.from_settings(settings)
        # Live gates in front of the table, least recently used first: at most
        # max_live_cameras, the others wait in the table. Cleared whenever partitions move so
        # that the table (recovered from its changelog) stays the source of truth. The lock
        # keeps the expiry timer and the agent from touching a camera at the same time.
        self.gates: OrderedDict[str, CameraGate] = OrderedDict()
        self._checkpoints = Checkpoints(camera_state, settings.state_flush_s)
        self._lock = asyncio.Lock()
        self._stopping = False
        self.liveness = LivenessWatch(
            settings, topics, metrics, {} if camera_liveness is None else camera_liveness
        )
        self.control = ControlDesk(
            topics,
            outputs,
            {} if camera_controls is None else camera_controls,
            self.limits,
            gate_for=self.gate,
            save_gate=self._save_now,
        )

    def install(self, app: Any) -> None:
        """Register the agent, the expiry timer and the hand-over hooks on ``app``."""
        app.agent(self.topics.inputs, name="framegate-gate")(self.check)
        app.timer(interval=1.0)(self.complete_held_frames)
        app.timer(interval=1.0)(self.watch_liveness)
        self.liveness.owned_partitions = lambda: {
            tp.partition
            for tp in app.assignor.assigned_actives()
            if tp.topic == self.liveness.frames_topic
        }
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
            except DeliveryAborted as exc:  # shutting down: these inputs are read again
                log.warning("%s; stopping", exc)
                return

    async def check_batch(self, events: list[Any]) -> None:
        """One batch, start to finish: its outputs are confirmed by the broker on return."""
        async with self._lock:
            try:
                outbox = await self._prepare_in_order(events)
            except Exception:  # a bug: find the culprit rather than lose the batch
                log.exception(
                    "a batch of %d messages failed; retrying them one by one", len(events)
                )
                outbox = Outbox()
                for event in events:
                    try:
                        outbox.extend(await self._prepare_in_order([event]))
                    except Exception as exc:
                        self.outputs.dead_letter(outbox, event, "processing", exc)
            outbox = self.control.screen(outbox)
            await self.outputs.deliver(outbox, stopping=lambda: self._stopping)
            self._checkpoint(list(self.gates))
            self.liveness.save_all(force=False)
            self._evict()

    async def _prepare_in_order(self, events: list[Any]) -> Outbox:
        """Runs of frames and predictions between operators' actions, each in its place."""
        outbox, run = Outbox(), []
        for event in events:
            if not self.control.is_control(event):
                run.append(event)
                continue
            if run:
                outbox.extend(await self._prepare(run))
                run = []
            self.control.apply(outbox, event)
        if run:
            outbox.extend(await self._prepare(run))
        return outbox

    async def _prepare(self, events: list[Any]) -> Outbox:
        """Everything ``events`` produce, built but not sent; the gates are updated."""
        outbox = Outbox()
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
                self.outputs.dead_letter(outbox, event, "validate", exc)
                continue
            except Exception as exc:  # parse raises only InvalidMessage; belt and braces
                self.outputs.dead_letter(outbox, event, "validate", exc)
        items = self._admit(items, events, outbox)
        for item in items:
            if isinstance(item.message, Frame):
                self.liveness.observe(outbox, item.message, events[item.index])
        if not items:
            return outbox
        runtime = self.runtime
        unmatched = {camera_id: self.gates[camera_id].unmatched for camera_id in _cameras(items)}
        outcome = await asyncio.get_running_loop().run_in_executor(
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
            self.outputs.dead_letter(outbox, events[index], stage, error)
        by_camera: dict[str, list[tuple[int, Completed]]] = {}
        for index, completed in outcome.completed:
            by_camera.setdefault(completed.report.camera_id, []).append((index, completed))
        for item in items:
            self._checkpoints.seen(item.message.camera_id, events[item.index])
        for camera_id, before in unmatched.items():
            done = by_camera.get(camera_id, [])
            self._finish(outbox, camera_id, done, before, events)
        return outbox

    def _parse(self, event: Any) -> Frame | Prediction:
        model = Prediction if event.message.topic == self.topics.predictions_name else Frame
        return parse(model, event.value, self.limits)

    def _admit(
        self, items: list[pipeline.Item], events: list[Any], outbox: Outbox
    ) -> list[pipeline.Item]:
        """The items whose camera has a gate; the others are dead-lettered (camera limit, or
        a gate that cannot be built)."""
        admitted: list[pipeline.Item] = []
        refused: dict[str, InvalidMessage | Exception] = {}
        for item in items:
            camera_id = item.message.camera_id
            if camera_id not in refused:
                try:
                    self.gate(camera_id)
                except Exception as exc:
                    refused[camera_id] = exc
            if camera_id in refused:
                self.outputs.dead_letter(outbox, events[item.index], "admit", refused[camera_id])
                continue
            admitted.append(item)
        return admitted

    # -- the timer --------------------------------------------------------------------------
    async def complete_held_frames(self) -> None:
        """Frames held for a prediction that never came are completed without it, and
        predictions whose frame never came are counted."""
        now = time.time()
        async with self._lock:
            outbox = Outbox()
            for camera_id, gate in list(self.gates.items()):
                if not gate.pending:
                    continue
                before = gate.unmatched
                done = [(-1, c) for c in gate.expire(now=now)]
                self._finish(outbox, camera_id, done, before, [])
                self._checkpoints.changed(camera_id)
            await self.outputs.deliver(outbox, stopping=lambda: self._stopping)
            self._checkpoint(list(self.gates))

    async def watch_liveness(self) -> None:
        """Cameras that went silent raise ``camera_offline`` (:mod:`.liveness`)."""
        async with self._lock:
            outbox = self.control.screen(self.liveness.tick())
            if outbox:
                await self.outputs.deliver(outbox, stopping=lambda: self._stopping)

    def _save_now(self, camera_id: str, event: Any) -> None:
        self._checkpoints.seen(camera_id, event)
        self._checkpoints.save(self.gates, [camera_id], force=True)

    # -- cameras ----------------------------------------------------------------------------
    def gate(self, camera_id: str) -> CameraGate:
        """The camera's live gate, restored from the table (or new) on first use.

        Raises
        ------
        InvalidMessage
            ``camera_limit``: a camera this worker does not track yet, when it already
            tracks ``FRAMEGATE_MAX_CAMERAS``.
        """
        gate = self.gates.get(camera_id)
        if gate is not None:
            self.gates.move_to_end(camera_id)
            return gate
        state = self.camera_state.get(camera_id)
        if state is None and self._tracked() >= self.settings.max_cameras:
            self.metrics.observe_camera_refused()
            raise InvalidMessage(
                DeadLetterReason.CAMERA_LIMIT,
                f"this worker already tracks {self.settings.max_cameras} cameras "
                f"(FRAMEGATE_MAX_CAMERAS); camera {camera_id!r} is refused. Operator: add "
                f"workers and partitions, or raise the limit if memory allows",
            )
        runtime = self.runtime
        policy = runtime.policy.for_camera(camera_id)
        reference = runtime.references.get(camera_id)
        gate = None
        if state is not None:
            try:
                gate = CameraGate.from_state(
                    camera_id, state, policy, runtime.gate_config, reference
                )
            except Exception:  # a damaged document must not block the camera forever
                log.exception("camera %s: saved state not restored; starting afresh", camera_id)
        if gate is None:
            gate = CameraGate(camera_id, policy, runtime.gate_config, reference)
        self.gates[camera_id] = gate
        return gate

    def _tracked(self) -> int:
        unsaved = sum(1 for camera_id in self.gates if camera_id not in self.camera_state)
        return len(self.camera_state) + unsaved

    def _evict(self) -> None:
        """Keep at most ``max_live_cameras`` gates in memory; the idlest go to the table."""
        while len(self.gates) > self.settings.max_live_cameras:
            camera_id = next(iter(self.gates))
            self._checkpoints.save(self.gates, [camera_id], force=True)
            del self.gates[camera_id]

    def _finish(
        self,
        outbox: Outbox,
        camera_id: str,
        done: list[tuple[int, Completed]],
        unmatched_before: int,
        events: list[Any],
    ) -> None:
        """Everything a camera's completed frames send, in its order."""
        gate = self.gates[camera_id]
        self.metrics.observe_unmatched(camera_id, gate.unmatched - unmatched_before)
        finished: list[Completed] = []
        for index, completed in done:
            try:
                part = self._outputs_of(camera_id, completed)
            except Exception as exc:  # e.g. a value that cannot be encoded: this frame only
                if index < 0:
                    log.exception("camera %s: a held frame could not be reported", camera_id)
                else:
                    self.outputs.dead_letter(outbox, events[index], "output", exc)
                continue
            outbox.extend(part)
            finished.append(completed)
        try:
            self._share_with_fleet(outbox, camera_id, gate, finished)
        except Exception:  # internal: a lost summary costs the fleet chart one point
            log.exception("camera %s: fleet summary not sent", camera_id)

    def _outputs_of(self, camera_id: str, completed: Completed) -> Outbox:
        """A completed frame's report, request and alerts, built (encoding can fail)."""
        key = camera_id.encode()
        topics, metrics = self.topics, self.metrics
        outbox = Outbox()
        if completed.budget_refused:
            metrics.observe_over_budget(camera_id)
        report = completed.report
        outbox.add(
            topics.quality,
            key,
            report.model_dump_json().encode(),
            lambda: metrics.observe_report(report),
        )
        request = completed.request
        if request is not None:
            outbox.add(
                topics.relabel,
                key,
                request.model_dump_json().encode(),
                lambda: metrics.observe_relabel(request),
            )
        for event in [*completed.drift, *completed.health]:
            self.outputs.alert(outbox, key, camera_id, event)
        return outbox

    def _share_with_fleet(
        self, outbox: Outbox, camera_id: str, gate: CameraGate, completed: list[Completed]
    ) -> None:
        """Hand the camera's standardised drift values and transitions to the fleet monitor."""
        zscores = gate.drift.drain_z()
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
        outbox.add(self.topics.fleet, b"fleet", summary.model_dump_json().encode())

    def _checkpoint(self, camera_ids: list[str]) -> None:
        try:
            self._checkpoints.save(self.gates, camera_ids)
        except Exception:  # the next checkpoint tries again; the inputs are replayable
            log.exception("camera state not saved")

    # -- hand-over --------------------------------------------------------------------------
    async def hand_over(self, sender: Any, revoked: Any, **kwargs: Any) -> None:
        async with self._lock:
            self._checkpoints.save(self.gates, list(self.gates), force=True)
            self.gates.clear()
            self._checkpoints.clear()
            self.liveness.hand_over()

    async def save_on_shutdown(self, sender: Any, **kwargs: Any) -> None:
        self._stopping = True
        self._checkpoints.save(self.gates, list(self.gates), force=True)
        self.liveness.save_all()


def _cameras(items: list[pipeline.Item]) -> list[str]:
    return list(dict.fromkeys(item.message.camera_id for item in items))
