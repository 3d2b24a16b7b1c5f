"""Operators' actions, applied by the worker that owns the camera, with an audit trail.

Actions (:class:`~framegate.schemas.actions.Action`) arrive on ``framegate.control``, keyed
by ``camera_id``: the gate agent reads that topic with the frames and predictions (one
stream, co-partitioned), so the worker that owns the camera applies them, in order with its
frames. Each applied (or refused) action becomes one
:class:`~framegate.schemas.actions.AuditRecord` on ``framegate.audit``.

- ``acknowledge``: the alert stops showing as new on every dashboard (they read the audit
  topic), and this worker never sends it again (a replayed frame that re-decides it).
- ``mute`` / ``unmute``: firing alerts of that check (or ``camera_offline`` /
  ``camera_lagging``) on that camera are not sent until the mute ends (wall clock);
  resolutions still are.
- ``rebaseline``: the camera's present state is its new normal: scene references
  (``CameraGate.rebaseline_scene``) unless one ``metric`` is named, and drift references
  (``CameraGate.rebaseline_drift``, or the camera's drift monitor directly); drift alerts
  still open are resolved. The camera's state is saved at once.

What each camera acknowledged and muted is a JSON document in the ``camera-controls``
table (changelog), so a restart or a rebalance keeps it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from framegate.detectors.gate import CameraGate
from framegate.schemas import InvalidMessage
from framegate.schemas.actions import Action, AuditRecord
from framegate.streams.worker.intake import Limits, parse
from framegate.streams.worker.outputs import Outbox, Outputs
from framegate.streams.worker.tables import put
from framegate.streams.worker.topics import Topics

log = logging.getLogger(__name__)

KEEP_ACKNOWLEDGED = 500
KEEP_ACTIONS = 200


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class ControlDesk:
    """Applies actions to the cameras of one worker and screens the alerts it sends.

    Parameters
    ----------
    gate_for
        The camera's live gate (restored from its table on first use).
    save_gate
        Writes a camera's gate state at once (after a re-baseline), given the action's event.
    table
        The ``camera-controls`` table (any mutable mapping in tests).
    """

    def __init__(
        self,
        topics: Topics,
        outputs: Outputs,
        table: MutableMapping[str, Any],
        limits: Limits,
        *,
        gate_for: Callable[[str], CameraGate],
        save_gate: Callable[[str, Any], None],
        clock: Callable[[], float] = time.time,
        worker: str | None = None,
    ) -> None:
        self.topics = topics
        self.outputs = outputs
        self.table = table
        self.limits = limits
        self.gate_for = gate_for
        self.save_gate = save_gate
        self.clock = clock
        self.worker = worker or worker_name()
        self.control_name = topics_name(topics.control)

    def is_control(self, event: Any) -> bool:
        return event.message.topic == self.control_name

    # -- applying ---------------------------------------------------------------------------
    def apply(self, outbox: Outbox, event: Any) -> None:
        """One action from ``framegate.control``: applied, audited; bad input dead-lettered."""
        try:
            action = parse(Action, event.value, self.limits)
        except InvalidMessage as exc:
            self.outputs.dead_letter(outbox, event, "validate", exc)
            return
        controls = self._controls(action.camera_id)
        if action.action_id in controls["actions"]:
            log.info("action %s already applied; skipped", action.action_id)
            return
        now = self.clock()
        try:
            outcome, detail, until = self._apply(outbox, action, controls, event, now)
        except Exception as exc:  # a bug, or a camera this worker refuses: audited, not lost
            log.exception("action %s on camera %s failed", action.kind, action.camera_id)
            outcome, detail, until = "rejected", f"{type(exc).__name__}: {exc}", None
        controls["actions"] = [*controls["actions"], action.action_id][-KEEP_ACTIONS:]
        controls["partition"] = int(event.message.partition)
        put(self.table, action.camera_id, controls, event)
        record = AuditRecord(
            action_id=action.action_id,
            kind=action.kind,
            camera_id=action.camera_id,
            actor=action.actor,
            requested_at=action.requested_at,
            applied_at=datetime.fromtimestamp(now, tz=UTC),
            worker=self.worker,
            outcome=outcome,
            detail=detail,
            alert_id=action.alert_id,
            check=action.check,
            metric=action.metric,
            muted_until=datetime.fromtimestamp(until, tz=UTC) if until else None,
            note=action.note,
        )
        outbox.add(self.topics.audit, action.camera_id.encode(), record.model_dump_json().encode())

    def _apply(
        self, outbox: Outbox, action: Action, controls: dict[str, Any], event: Any, now: float
    ) -> tuple[str, str, float | None]:
        kind = action.kind
        if kind == "acknowledge":
            if not action.alert_id:
                return "rejected", "acknowledge needs alert_id", None
            acked = [a for a in controls["acknowledged"] if a != action.alert_id]
            controls["acknowledged"] = [*acked, action.alert_id][-KEEP_ACKNOWLEDGED:]
            return "applied", f"alert {action.alert_id} acknowledged", None
        if kind in ("mute", "unmute"):
            if not action.check:
                return "rejected", f"{kind} needs check", None
            if kind == "unmute":
                controls["mutes"].pop(action.check, None)
                return "applied", f"{action.check} unmuted", None
            if action.duration_s is None:
                return "rejected", "mute needs duration_s", None
            until = now + action.duration_s
            controls["mutes"][action.check] = until
            return "applied", f"{action.check} muted for {action.duration_s:g} s", until
        return "applied", self._rebaseline(outbox, action, event, now), None

    def _rebaseline(self, outbox: Outbox, action: Action, event: Any, now: float) -> str:
        camera_id = action.camera_id
        gate = self.gate_for(camera_id)
        restarted = sorted(gate.drift.metrics) if action.metric is None else [action.metric]
        at = action.requested_at.timestamp()
        done = []
        if action.metric is None:
            gate.rebaseline_scene()
            done.append("scene references restarted")
        if hasattr(gate, "rebaseline_drift"):  # the gate's own (names report metrics too)
            closed = gate.rebaseline_drift(action.metric, at=at)
        else:
            closed = gate.drift.rebaseline(action.metric, at=at)
        for drift_event in closed or []:
            self.outputs.alert(outbox, camera_id.encode(), camera_id, drift_event)
        done.append(f"drift restarted: {', '.join(restarted) or 'nothing learnt yet'}")
        if closed:
            done.append(f"{len(closed)} open drift alerts resolved")
        self.save_gate(camera_id, event)
        return "; ".join(done)

    # -- screening --------------------------------------------------------------------------
    def screen(self, outbox: Outbox) -> Outbox:
        """``outbox`` without the firing alerts that are muted or acknowledged."""
        alerts = self.topics.alerts
        kept = Outbox()
        now = self.clock()
        for message in outbox.messages:
            if message.topic is alerts and message.key is not None:
                try:
                    alert = json.loads(message.value)
                except ValueError:
                    alert = {}
                if alert.get("status") == "firing" and self._silenced(alert, now):
                    continue
            kept.messages.append(message)
        return kept

    def _silenced(self, alert: dict[str, Any], now: float) -> bool:
        camera_id = alert.get("camera_id")
        if not camera_id:
            return False
        document = self.table.get(camera_id)
        if not document:
            return False
        until = document.get("mutes", {}).get(alert.get("metric"))
        if until is not None and until > now:
            return True
        return alert.get("alert_id") in document.get("acknowledged", ())

    def _controls(self, camera_id: str) -> dict[str, Any]:
        document = self.table.get(camera_id) or {}
        return {
            "partition": document.get("partition"),
            "acknowledged": list(document.get("acknowledged", [])),
            "mutes": dict(document.get("mutes", {})),
            "actions": list(document.get("actions", [])),
        }


def topics_name(topic: Any) -> str:
    get = getattr(topic, "get_topic_name", None)
    return get() if callable(get) else str(getattr(topic, "name", topic))
