"""The fleet agent: every camera's drift summaries meet in one place, on one partition.

A fleet-wide change (lighting across a site, a model update) is a different story from one
broken camera. Each gate batch sends its cameras' standardised block values and drift
transitions to the internal fleet topic under one key, so one worker holds the fleet
monitor (in a table, recovered like the cameras' state) whatever the number of workers.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from detectors.drift import DriftEvent, FleetDriftMonitor
from schemas import InvalidMessage
from streams import tables, topics
from streams.app import app, settings
from streams.outputs import send_alert, send_dead_letter

log = logging.getLogger(__name__)

FLEET_KEY = "fleet"
# The live monitor in front of the table; saved and dropped when partitions move (see
# streams.gate). A message per camera and batch updates it: its writes are throttled too.
_live: dict[str, FleetDriftMonitor] = {}
_checkpoints = tables.Checkpoints(tables.fleet_state, settings.state_flush_s)


@app.on_partitions_revoked.connect
async def _hand_over_fleet(sender: Any, revoked: Any, **kwargs: Any) -> None:
    _checkpoints.save(_live, [FLEET_KEY], force=True)
    _live.clear()
    _checkpoints.clear()


@app.on_before_shutdown.connect
async def _save_fleet_on_shutdown(sender: Any, **kwargs: Any) -> None:
    _checkpoints.save(_live, [FLEET_KEY], force=True)


def _monitor() -> FleetDriftMonitor:
    if not _live:
        state = tables.fleet_state.get(FLEET_KEY)
        try:
            monitor = FleetDriftMonitor.from_state(state) if state else FleetDriftMonitor()
        except ValueError as exc:  # a layout an older version wrote: learn afresh
            log.warning("fleet drift state not restored (%s); starting afresh", exc)
            monitor = FleetDriftMonitor()
        _live[FLEET_KEY] = monitor
    return _live[FLEET_KEY]


@app.agent(topics.fleet)
async def watch_fleet(stream: Any) -> None:
    """Feeds the fleet drift monitor and publishes fleet alerts (``camera_id`` null)."""
    async for event in stream.events():
        monitor = _monitor()
        try:
            summary = json.loads(event.value)
            found = monitor.update(
                summary["camera_id"],
                at=float(summary["at"]),
                zscores={k: (float(s), int(n)) for k, (s, n) in summary["zscores"].items()},
                events=[DriftEvent.from_dict(e) for e in summary["events"]],
            )
        except (ValueError, KeyError, TypeError) as exc:
            await send_dead_letter(event, "fleet", InvalidMessage("invalid_fields", str(exc)))
            continue
        for drift in found:
            await send_alert(b"fleet", None, drift)
        _checkpoints.seen(FLEET_KEY, event)
        _checkpoints.save(_live, [FLEET_KEY])
