"""What the dashboard and ``framegate status`` show: a bounded, in-memory model of the fleet.

It is fed the messages framegate publishes (reports, relabel requests, alerts, dead
letters) and answers with plain JSON-ready dicts. Memory is bounded whatever the fleet
does: a ring of time buckets per camera, the last few flagged frames as small JPEG
thumbnails, the last few alerts, at most ``max_cameras`` cameras (the least recently seen
is forgotten first). Nothing here knows Kafka or asyncio.

Rates and shares are computed over the reports' ``processed_at`` (when a worker checked the
frame), so a model filled from a topic's backlog shows the same numbers as one that watched
live. Charts are over ``captured_at`` (when the camera saw it), bucketed.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from framegate.detectors.decode import decode_image, read_size, reduction_for
from framegate.schemas import Alert, DeadLetter, QualityReport, RelabelRequest
from framegate.schemas.reports import unexplained
from framegate.streams.media import encode_jpeg
from framegate.streams.web.explorer import Explorer
from framegate.streams.web.operations import Operations

THUMBNAIL_WIDTH = 160


def make_thumbnail(
    data: bytes, *, max_pixels: int, width: int = THUMBNAIL_WIDTH, quality: int = 70
) -> bytes:
    """A small JPEG of an encoded image, ``width`` pixels wide.

    Untrusted bytes are decoded the way frames are (header first, pixel limit), at the
    smallest JPEG scale that is still wider than ``width``.

    Examples
    --------
    >>> import numpy as np
    >>> ok, png = cv2.imencode(".png", np.full((480, 640, 3), 90, np.uint8))
    >>> thumb = make_thumbnail(png.tobytes(), max_pixels=10**7)
    >>> cv2.imdecode(np.frombuffer(thumb, np.uint8), cv2.IMREAD_COLOR).shape
    (120, 160, 3)
    """
    source_width, _, _ = read_size(data, max_pixels=max_pixels)
    reduce = reduction_for(source_width, 0, width)  # by width: a thumbnail is width-bound
    bgr = decode_image(data, max_pixels=max_pixels, reduce=reduce).bgr
    return thumbnail_of(bgr, width=width, quality=quality)


def thumbnail_of(bgr: np.ndarray, *, width: int = THUMBNAIL_WIDTH, quality: int = 70) -> bytes:
    """A JPEG of decoded pixels, ``width`` pixels wide."""
    height = max(1, round(bgr.shape[0] * width / bgr.shape[1]))
    small = cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA)
    return encode_jpeg(small, quality)


def _issue(issue: Any) -> dict[str, Any]:
    return {
        "check": str(issue.check),
        "score": round(issue.score, 4),
        "severity": issue.severity,
        "detail": issue.detail,
    }


def alert_json(alert: Alert) -> dict[str, Any]:
    return alert.model_dump(mode="json")


@dataclass
class _Counts:
    """Frames, flagged frames and issues per check within one second."""

    frames: int = 0
    flagged: int = 0
    checks: Counter[str] = field(default_factory=Counter)


class _Window:
    """Per-second counts over the last ``span_s`` seconds of ``processed_at``."""

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        self._seconds: dict[int, _Counts] = {}

    def add(self, second: int, issues: list[str]) -> None:
        counts = self._seconds.get(second)
        if counts is None:
            counts = self._seconds[second] = _Counts()
            if len(self._seconds) > self.span_s + 16:
                self.prune(max(self._seconds))
        counts.frames += 1
        counts.flagged += bool(issues)
        counts.checks.update(set(issues))

    def prune(self, now: float) -> None:
        oldest = now - self.span_s
        for second in [s for s in self._seconds if s < oldest]:
            del self._seconds[second]

    def totals(self, now: float, span_s: float) -> _Counts:
        total = _Counts()
        for second, counts in self._seconds.items():
            if second > now - span_s:
                total.frames += counts.frames
                total.flagged += counts.flagged
                total.checks.update(counts.checks)
        return total


class _Camera:
    def __init__(self, camera_id: str, *, history: int, span_s: float) -> None:
        self.camera_id = camera_id
        self.frames_total = 0
        self.flagged_total = 0
        self.last_seen: float = 0.0
        self.last_captured_at: str | None = None
        self.lag_s: float | None = None  # processed_at - captured_at of the latest report
        self.last_metrics: dict[str, float] = {}
        self.window = _Window(span_s)
        # [bucket start (epoch s), frames, {metric: sum}], oldest first.
        self.series: deque[list[Any]] = deque(maxlen=history)
        self.metric_names: list[str] = []
        self.alerts: deque[dict[str, Any]] = deque(maxlen=50)


class FleetView:
    """The fleet as the operators see it.

    Parameters
    ----------
    history
        Chart buckets kept per camera.
    bucket_s
        Seconds of ``captured_at`` per chart bucket; the mean of each metric is plotted.
    flagged
        Latest flagged frames (with thumbnails) kept.
    alerts
        Latest alerts kept in the feed, and most open alerts tracked.
    rate_window_s, share_window_s
        Seconds of ``processed_at`` behind frames/s and behind the share of frames with issues.
    max_cameras
        Cameras tracked; the least recently seen is forgotten first.
    max_metrics
        Metrics charted per camera (the first ones a camera reports).
    clock
        Seconds since the epoch; injectable for tests.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from schemas import QualityReport
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> view = FleetView(clock=lambda: at.timestamp())
    >>> view.add_report(QualityReport(frame_id="c:1", camera_id="c", captured_at=at,
    ...     processed_at=at, width=4, height=4, metrics={"brightness": 0.5}))
    >>> view.overview()["fleet"]["frames_total"], view.camera("c")["series"]
    (1, {'brightness': [0.5]})
    """

    def __init__(
        self,
        *,
        history: int = 600,
        bucket_s: float = 1.0,
        flagged: int = 24,
        alerts: int = 200,
        rate_window_s: float = 10.0,
        share_window_s: float = 300.0,
        max_cameras: int = 1000,
        max_metrics: int = 16,
        clock: Callable[[], float] = time.time,
    ) -> None:
        for name, value in (
            ("history", history),
            ("flagged", flagged),
            ("alerts", alerts),
            ("max_cameras", max_cameras),
            ("max_metrics", max_metrics),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if not 0 < rate_window_s <= share_window_s:
            raise ValueError("need 0 < rate_window_s <= share_window_s")
        if bucket_s <= 0:
            raise ValueError(f"bucket_s must be positive, got {bucket_s}")
        self.history = history
        self.bucket_s = bucket_s
        self.flagged_size = flagged
        self.alerts_size = alerts
        self.rate_window_s = rate_window_s
        self.share_window_s = share_window_s
        self.max_cameras = max_cameras
        self.max_metrics = max_metrics
        self.clock = clock
        self._cameras: OrderedDict[str, _Camera] = OrderedDict()
        self._fleet = _Window(share_window_s)
        self._flagged: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._thumbnails: dict[str, bytes] = {}
        self._alerts: deque[dict[str, Any]] = deque(maxlen=alerts)
        self._open: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._deadletters: Counter[str] = Counter()
        self._recent_deadletters: deque[dict[str, Any]] = deque(maxlen=20)
        self.reports_total = 0
        self.relabel_total = 0
        self.alerts_total = 0
        self.operations = Operations(clock=clock)
        self.explorer = Explorer(max_cameras=max_cameras)

    # -- input ----------------------------------------------------------------------------

    def _camera(self, camera_id: str) -> _Camera:
        camera = self._cameras.get(camera_id)
        if camera is None:
            camera = self._cameras[camera_id] = _Camera(
                camera_id, history=self.history, span_s=self.share_window_s
            )
            while len(self._cameras) > self.max_cameras:
                self._cameras.popitem(last=False)
        self._cameras.move_to_end(camera_id)
        return camera

    def add_report(self, report: QualityReport) -> None:
        camera = self._camera(report.camera_id)
        checks = [str(issue.check) for issue in unexplained(report.issues)]
        second = int(report.processed_at.timestamp())
        camera.window.add(second, checks)
        self._fleet.add(second, checks)
        camera.frames_total += 1
        camera.flagged_total += bool(checks)
        camera.last_seen = max(camera.last_seen, report.processed_at.timestamp())
        camera.last_captured_at = report.captured_at.isoformat()
        camera.lag_s = (report.processed_at - report.captured_at).total_seconds()
        camera.last_metrics = dict(report.metrics)
        self.reports_total += 1
        self.explorer.add_report(report)

        for name in report.metrics:
            if name not in camera.metric_names and len(camera.metric_names) < self.max_metrics:
                camera.metric_names.append(name)
        start = report.captured_at.timestamp() // self.bucket_s * self.bucket_s
        bucket = camera.series[-1] if camera.series else None
        if bucket is None or bucket[0] != start:
            if bucket is not None and start < bucket[0]:
                return  # late for a bucket already closed: counted above, not charted
            bucket = [start, 0, {}]
            camera.series.append(bucket)
        bucket[1] += 1
        sums: dict[str, float] = bucket[2]
        for name in camera.metric_names:
            if name in report.metrics:
                sums[name] = sums.get(name, 0.0) + report.metrics[name]

    def add_relabel(self, request: RelabelRequest, thumbnail: bytes | None) -> dict[str, Any]:
        """Records a flagged frame; returns what the live feed sends about it."""
        self.relabel_total += 1
        item = {
            "request_id": request.request_id,
            "frame_id": request.frame_id,
            "camera_id": request.camera_id,
            "captured_at": request.captured_at.isoformat(),
            "priority": request.priority,
            "reasons": [_issue(issue) for issue in request.reasons],
            "thumbnail": f"api/thumbnails/{request.request_id}.jpg" if thumbnail else None,
            "image_uri": request.image.uri,
        }
        self._flagged.pop(request.request_id, None)
        self._flagged[request.request_id] = item
        if thumbnail:
            self._thumbnails[request.request_id] = thumbnail
        while len(self._flagged) > self.flagged_size:
            old, _ = self._flagged.popitem(last=False)
            self._thumbnails.pop(old, None)
        return item

    def add_alert(self, alert: Alert) -> dict[str, Any]:
        """Records an alert (firing or resolved); returns what the live feed sends about it."""
        self.alerts_total += 1
        item = alert_json(alert)
        self._alerts.append(item)
        if alert.status == "firing":
            self._open.pop(alert.alert_id, None)
            self._open[alert.alert_id] = item
            while len(self._open) > self.alerts_size:
                self._open.popitem(last=False)
        else:
            self._open.pop(alert.alert_id, None)
        if alert.camera_id is not None:
            self._camera(alert.camera_id).alerts.append(item)
        return item

    def add_dead_letter(self, record: DeadLetter) -> None:
        self._deadletters[str(record.reason)] += 1
        self._recent_deadletters.append(
            {
                "at": record.at.isoformat(),
                "reason": str(record.reason),
                "key": record.key,
                "source_topic": record.source_topic,
                "error": record.error[:200],
            }
        )

    # -- output ---------------------------------------------------------------------------

    def _rates(self, window: _Window, now: float) -> dict[str, Any]:
        recent = window.totals(now, self.rate_window_s)
        share = window.totals(now, self.share_window_s)
        frames = share.frames
        return {
            "frames_per_s": round(recent.frames / self.rate_window_s, 3),
            "window_frames": frames,
            "flagged_share": round(share.flagged / frames, 4) if frames else 0.0,
            "issue_share": {check: round(n / frames, 4) for check, n in share.checks.most_common()}
            if frames
            else {},
        }

    def overview(self) -> dict[str, Any]:
        """The fleet at a glance: per camera and overall."""
        now = self.clock()
        self._fleet.prune(now)
        open_by_camera = Counter(a["camera_id"] for a in self._open.values())
        cameras = []
        for camera in sorted(self._cameras.values(), key=lambda c: c.camera_id):
            camera.window.prune(now)
            cameras.append(
                {
                    "camera_id": camera.camera_id,
                    "frames_total": camera.frames_total,
                    "flagged_total": camera.flagged_total,
                    "last_seen": camera.last_seen,
                    "last_captured_at": camera.last_captured_at,
                    "last_frame_age_s": round(now - camera.last_seen, 3)
                    if camera.last_seen
                    else None,
                    "lag_s": None if camera.lag_s is None else round(camera.lag_s, 3),
                    "last_metrics": {k: round(v, 4) for k, v in camera.last_metrics.items()},
                    "open_alerts": open_by_camera.get(camera.camera_id, 0),
                    **self._rates(camera.window, now),
                }
            )
        return {
            "now": now,
            "rate_window_s": self.rate_window_s,
            "share_window_s": self.share_window_s,
            "fleet": {
                "cameras": len(self._cameras),
                "frames_total": self.reports_total,
                "relabel_total": self.relabel_total,
                "alerts_total": self.alerts_total,
                "open_alerts": len(self._open),
                "deadletter_total": sum(self._deadletters.values()),
                "deadletter_by_reason": dict(self._deadletters.most_common()),
                **self._rates(self._fleet, now),
            },
            "cameras": cameras,
            "open_alerts": list(reversed(self._open.values())),
        }

    def camera(self, camera_id: str) -> dict[str, Any] | None:
        """One camera's chart data: bucket times, the mean of each metric, its alerts."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            return None
        times = [bucket[0] for bucket in camera.series]
        series = {
            name: [round(b[2][name] / b[1], 5) if name in b[2] else None for b in camera.series]
            for name in camera.metric_names
        }
        fleet_wide = [a for a in self._alerts if a["camera_id"] is None]
        return {
            "camera_id": camera_id,
            "bucket_s": self.bucket_s,
            "t": times,
            "series": series,
            "alerts": [*fleet_wide, *camera.alerts],
        }

    def flagged(self) -> list[dict[str, Any]]:
        """The latest flagged frames, newest first."""
        return list(reversed(self._flagged.values()))

    def thumbnail(self, request_id: str) -> bytes | None:
        return self._thumbnails.get(request_id)

    def alerts(self) -> list[dict[str, Any]]:
        """The latest alerts, newest first."""
        return list(reversed(self._alerts))

    def dead_letters(self) -> list[dict[str, Any]]:
        return list(reversed(self._recent_deadletters))

    def cameras(self) -> list[str]:
        return sorted(self._cameras)
