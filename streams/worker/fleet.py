"""The fleet agent: every camera's drift summaries meet in one place, on one partition.

A fleet-wide change (lighting across a site, a model update) is a different story from one
broken camera. Each gate batch sends its cameras' standardised block values and drift
transitions to the internal fleet topic under one key, so one worker holds the fleet
monitor (in a table, recovered like the cameras' state) whatever the number of workers.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from framegate.detectors.drift import DriftEvent, FleetDriftMonitor
from framegate.detectors.health import HealthEvent
from framegate.schemas.fleet import FleetSummary
from framegate.schemas.settings import Settings
from framegate.streams.worker.intake import parse
from framegate.streams.worker.outputs import Outbox, Outputs
from framegate.streams.worker.tables import Checkpoints
from framegate.streams.worker.topics import Topics

log = logging.getLogger(__name__)

FLEET_KEY = "fleet"


class FleetAgent:
    """The fleet drift monitor in front of its table, fed by :class:`FleetSummary` messages.

    Parameters
    ----------
    settings
        The worker's settings (checkpoint interval).
    topics, outputs
        Where summaries come from, and where fleet alerts go.
    fleet_state
        The ``fleet-state`` table (any mutable mapping in tests).
    """

    def __init__(
        self,
        settings: Settings,
        topics: Topics,
        outputs: Outputs,
        fleet_state: MutableMapping[str, Any],
    ) -> None:
        self.topics = topics
        self.outputs = outputs
        self.fleet_state = fleet_state
        # The live monitor in front of the table; saved and dropped when partitions move. A
        # message per camera and batch updates it: its writes are throttled too.
        self.live: dict[str, FleetDriftMonitor] = {}
        self._checkpoints = Checkpoints(fleet_state, settings.state_flush_s)

    def install(self, app: Any) -> None:
        app.agent(self.topics.fleet, name="framegate-fleet")(self.watch)
        app.on_partitions_revoked.connect(self.hand_over)
        app.on_before_shutdown.connect(self.save_on_shutdown)

    def monitor(self) -> FleetDriftMonitor:
        if not self.live:
            state = self.fleet_state.get(FLEET_KEY)
            try:
                monitor = FleetDriftMonitor.from_state(state) if state else FleetDriftMonitor()
            except ValueError as exc:  # a layout an older version wrote: learn afresh
                log.warning("fleet drift state not restored (%s); starting afresh", exc)
                monitor = FleetDriftMonitor()
            self.live[FLEET_KEY] = monitor
        return self.live[FLEET_KEY]

    async def watch(self, stream: Any) -> None:
        """Feeds the fleet drift monitor and publishes fleet alerts (``camera_id`` null)."""
        async for event in stream.events():
            await self.handle(event)

    async def handle(self, event: Any) -> None:
        """One summary: validated, fed to the monitor, fleet transitions sent as alerts."""
        outbox = Outbox()
        try:
            summary = parse(FleetSummary, event.value)
            found = self.monitor().update(
                summary.camera_id,
                at=summary.at,
                zscores=summary.zscores,
                events=[DriftEvent.from_dict(e.model_dump()) for e in summary.events],
                health=[HealthEvent.from_dict(h.model_dump()) for h in summary.health],
            )
            for drift in found:
                self.outputs.alert(outbox, b"fleet", None, drift)
        except Exception as exc:  # the agent must outlive any single message
            outbox = Outbox()
            self.outputs.dead_letter(outbox, event, "fleet", exc)
        await self.outputs.deliver(outbox)
        self._checkpoints.seen(FLEET_KEY, event)
        self._checkpoints.save(self.live, [FLEET_KEY])

    async def hand_over(self, sender: Any, revoked: Any, **kwargs: Any) -> None:
        self._checkpoints.save(self.live, [FLEET_KEY], force=True)
        self.live.clear()
        self._checkpoints.clear()

    async def save_on_shutdown(self, sender: Any, **kwargs: Any) -> None:
        self._checkpoints.save(self.live, [FLEET_KEY], force=True)
