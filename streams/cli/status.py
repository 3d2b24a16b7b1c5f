"""``framegate status``: the fleet summary in the terminal.

It reads the recent backlog of the output topics (the same group-less reader and the same
model as the dashboard), so it needs only the broker, not a running worker, and shows what
the whole fleet did, whatever the number of workers.
"""

from __future__ import annotations

from typing import Any

from framegate.schemas.settings import Settings
from framegate.streams.web.feed import BACKFILL, FleetFeed
from framegate.streams.web.fleetview import FleetView


async def collect(settings: Settings, *, backfill: int, timeout_s: float = 30.0) -> FleetView:
    """A fleet view filled with the last ``backfill`` reports per partition (and alerts)."""
    view = FleetView(flagged=5, alerts=500)
    limits = {**BACKFILL, "quality": backfill, "relabel": min(backfill, BACKFILL["relabel"])}
    feed = FleetFeed(settings, view, backfill=limits, thumbnails=False)
    await feed.catch_up(timeout_s=timeout_s)
    return view


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _issues(shares: dict[str, float], limit: int = 3) -> str:
    ranked = sorted(shares.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return ", ".join(f"{check} {_pct(share)}" for check, share in ranked)


def render(overview: dict[str, Any]) -> str:
    """The overview of :meth:`FleetView.overview` as text a person reads in a terminal.

    Examples
    --------
    >>> print(render(FleetView(clock=lambda: 0.0).overview()))
    fleet: 0 cameras, 0.0 frames/s (last 10 s), 0 reports read
      no reports on the quality topic yet
    """
    fleet, now = overview["fleet"], overview["now"]
    minutes = round(overview["share_window_s"] / 60)
    lines = [
        (
            f"fleet: {fleet['cameras']} cameras, {fleet['frames_per_s']:.1f} frames/s "
            f"(last {overview['rate_window_s']:.0f} s), {fleet['frames_total']} reports read"
        )
    ]
    if not overview["cameras"]:
        lines.append("  no reports on the quality topic yet")
        return "\n".join(lines)
    recent = (
        f"{_pct(fleet['flagged_share'])} of frames with issues (last {minutes} min)"
        if fleet["window_frames"]
        else f"no frames in the last {minutes} min"
    )
    lines.append(
        f"  {recent}; {fleet['open_alerts']} open alerts; "
        f"{fleet['relabel_total']} relabel requests; "
        f"{fleet['deadletter_total']} dead letters"
    )
    if fleet["issue_share"]:
        lines.append(f"  issues by check: {_issues(fleet['issue_share'], limit=8)}")

    rows = [("camera", "frames/s", "frames", "issues", "top issues", "alerts", "last report")]
    for camera in overview["cameras"]:
        rows.append(
            (
                camera["camera_id"],
                f"{camera['frames_per_s']:.1f}",
                str(camera["frames_total"]),
                _pct(camera["flagged_share"]) if camera["window_frames"] else "-",
                _issues(camera["issue_share"]) or "-",
                str(camera["open_alerts"]),
                _ago(max(0.0, now - camera["last_seen"])),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines.append("")
    for row in rows:
        cells = [
            cell.rjust(width) if 0 < i < 4 or i == 5 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())

    if overview["open_alerts"]:
        lines += ["", "open alerts:"]
        for alert in overview["open_alerts"][:20]:
            lines.append(
                f"  [{alert['severity']}] {alert['kind']} "
                f"{alert['camera_id'] or 'fleet-wide'} {alert['metric']} "
                f"({alert['detector']}) since {alert['at']}"
                + (f": {alert['detail']}" if alert["detail"] else "")
            )
    if fleet["deadletter_by_reason"]:
        lines += [
            "",
            "dead letters by reason: "
            + ", ".join(f"{reason} {n}" for reason, n in fleet["deadletter_by_reason"].items()),
        ]
    return "\n".join(lines)
