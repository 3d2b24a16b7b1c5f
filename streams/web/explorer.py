"""The frame inspector's and the explorer's model: flagged frames in full, per camera.

:class:`Explorer` keeps, bounded whatever the fleet does:

- the latest ``keep`` flagged frames with their issues, prediction and annotations (the
  explorer filters them by camera, check, severity and time);
- a larger JPEG (at most ``INSPECTOR_SIDE`` px on its longer side) of the most recent
  ``images`` flagged frames, for the inspector; made only from the inline data kept with a
  relabel request or its allowed ``file://`` URI (the feed reads it with the intake's rule);
- each camera's recent metrics (the last ``window`` reports), from which every metric's usual
  range is computed: median and 5-95 % range;
- each camera's labels and predicted classes over its last ``window`` flagged frames.

Nothing here knows Kafka or asyncio.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from datetime import datetime
from typing import Any

import cv2
import numpy as np

from framegate.detectors.decode import decode_image, read_size, reduction_for
from framegate.schemas import QualityReport, RelabelRequest
from framegate.schemas.frames import Annotation
from framegate.streams.media import encode_jpeg

INSPECTOR_SIDE = 1280
INSPECTOR_QUALITY = 85


def make_inspector_image(
    data: bytes, *, max_pixels: int, side: int = INSPECTOR_SIDE, quality: int = INSPECTOR_QUALITY
) -> bytes:
    """A JPEG of an encoded image, its longer side at most ``side`` pixels.

    Untrusted bytes are decoded the way frames are (header first, pixel limit).

    Examples
    --------
    >>> ok, png = cv2.imencode(".png", np.full((1080, 1920, 3), 90, np.uint8))
    >>> big = make_inspector_image(png.tobytes(), max_pixels=10**7)
    >>> cv2.imdecode(np.frombuffer(big, np.uint8), cv2.IMREAD_COLOR).shape
    (720, 1280, 3)
    """
    return encode_jpeg(inspector_pixels(data, max_pixels=max_pixels, side=side), quality)


def inspector_pixels(data: bytes, *, max_pixels: int, side: int = INSPECTOR_SIDE) -> np.ndarray:
    """The decoded image, its longer side at most ``side`` pixels (reduced JPEG decoding)."""
    width, height, _ = read_size(data, max_pixels=max_pixels)
    reduce = reduction_for(width, height, min(side, max(width, height)))
    bgr = decode_image(data, max_pixels=max_pixels, reduce=reduce).bgr
    longer = max(bgr.shape[:2])
    if longer > side:
        scale = side / longer
        size = (max(1, round(bgr.shape[1] * scale)), max(1, round(bgr.shape[0] * scale)))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    return bgr


def usual_range(values: list[float]) -> dict[str, float]:
    """Median and 5-95 % range of ``values``.

    >>> usual_range([float(v) for v in range(101)])
    {'median': 50.0, 'p5': 5.0, 'p95': 95.0, 'n': 101}
    """
    p5, median, p95 = np.percentile(np.asarray(values, dtype=np.float64), [5, 50, 95])
    return {
        "median": round(float(median), 5),
        "p5": round(float(p5), 5),
        "p95": round(float(p95), 5),
        "n": len(values),
    }


def _box(box: Any) -> list[float] | None:
    return None if box is None else [round(float(v), 2) for v in box]


def _predicted_classes(request: RelabelRequest) -> list[str]:
    prediction = request.prediction
    if prediction is None:
        return []
    if prediction.detections is not None:
        return [d.label for d in prediction.detections]
    classes = prediction.classes or {}
    return [max(classes, key=lambda k: classes[k])] if classes else []


class _CameraWindow:
    def __init__(self, window: int) -> None:
        self.metrics: deque[dict[str, float]] = deque(maxlen=window)
        self.labels: deque[list[str]] = deque(maxlen=window)
        self.predicted: deque[list[str]] = deque(maxlen=window)
        self.report_metrics: OrderedDict[str, dict[str, float]] = OrderedDict()


class Explorer:
    """Flagged frames in full, their images, and each camera's usual metric ranges.

    Examples
    --------
    >>> explorer = Explorer(window=3)
    >>> explorer.search(camera="c")
    []
    """

    def __init__(
        self,
        *,
        keep: int = 500,
        images: int = 32,
        window: int = 300,
        max_cameras: int = 1000,
    ) -> None:
        for name, value in (
            ("keep", keep),
            ("images", images),
            ("window", window),
            ("max_cameras", max_cameras),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        self.keep, self.images_size, self.window = keep, images, window
        self.max_cameras = max_cameras
        self._frames: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._images: OrderedDict[str, bytes] = OrderedDict()
        self._cameras: OrderedDict[str, _CameraWindow] = OrderedDict()

    def _camera(self, camera_id: str) -> _CameraWindow:
        camera = self._cameras.get(camera_id)
        if camera is None:
            camera = self._cameras[camera_id] = _CameraWindow(self.window)
            while len(self._cameras) > self.max_cameras:
                self._cameras.popitem(last=False)
        self._cameras.move_to_end(camera_id)
        return camera

    # -- input ----------------------------------------------------------------------------

    def add_report(self, report: QualityReport) -> None:
        camera = self._camera(report.camera_id)
        camera.metrics.append(dict(report.metrics))
        # the metrics of the latest reports by frame, so a flagged frame finds its own
        camera.report_metrics[report.frame_id] = dict(report.metrics)
        while len(camera.report_metrics) > self.window:
            camera.report_metrics.popitem(last=False)

    def add_flagged(
        self,
        request: RelabelRequest,
        annotations: list[Annotation],
        image: bytes | None,
        size: tuple[int, int] | None,
    ) -> None:
        """One flagged frame: ``annotations`` are its ground truth, ``size`` the source
        image's (width, height), in whose pixels every box is."""
        camera = self._camera(request.camera_id)
        labels = [a.label for a in annotations]
        predicted = _predicted_classes(request)
        fresh = request.request_id not in self._frames
        prediction = request.prediction
        item = {
            "request_id": request.request_id,
            "frame_id": request.frame_id,
            "camera_id": request.camera_id,
            "captured_at": request.captured_at.isoformat(),
            "t": request.captured_at.timestamp(),
            "priority": request.priority,
            "issues": [
                {
                    "check": str(i.check),
                    "score": round(i.score, 4),
                    "threshold": i.threshold,
                    "severity": i.severity,
                    "detail": i.detail,
                }
                for i in request.reasons
            ],
            "annotations": [{"label": a.label, "box": _box(a.box)} for a in annotations],
            "predictions": [
                {"label": d.label, "score": round(d.score, 4), "box": _box(d.box)}
                for d in (prediction.detections or [] if prediction else [])
            ],
            "classes": dict(prediction.classes or {}) if prediction else {},
            "model": prediction.model if prediction else None,
            "width": size[0] if size else None,
            "height": size[1] if size else None,
        }
        self._frames.pop(request.request_id, None)
        self._frames[request.request_id] = item
        while len(self._frames) > self.keep:
            self._frames.popitem(last=False)
        if image is not None:
            self._images.pop(request.request_id, None)
            self._images[request.request_id] = image
            while len(self._images) > self.images_size:
                self._images.popitem(last=False)
        if fresh:  # a redelivered request is counted once
            camera.labels.append(labels)
            camera.predicted.append(predicted)

    # -- output ---------------------------------------------------------------------------

    def image(self, request_id: str) -> bytes | None:
        return self._images.get(request_id)

    def ranges(self, camera_id: str) -> dict[str, dict[str, float]]:
        """Every metric's usual range over the camera's recent reports."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            return {}
        values: dict[str, list[float]] = {}
        for metrics in camera.metrics:
            for name, value in metrics.items():
                values.setdefault(name, []).append(value)
        return {name: usual_range(v) for name, v in sorted(values.items())}

    def inspect(self, request_id: str, neighbours: int = 6) -> dict[str, Any] | None:
        """One flagged frame with everything the inspector shows."""
        item = self._frames.get(request_id)
        if item is None:
            return None
        camera_id = item["camera_id"]
        camera = self._cameras.get(camera_id)
        metrics = camera.report_metrics.get(item["frame_id"], {}) if camera else {}
        ranges = self.ranges(camera_id)
        same = sorted(
            (f for f in self._frames.values() if f["camera_id"] == camera_id),
            key=lambda f: f["t"],
        )
        at = next(i for i, f in enumerate(same) if f["request_id"] == request_id)
        around = same[max(0, at - neighbours // 2) : at] + same[at + 1 : at + 1 + neighbours // 2]
        return {
            **item,
            "image": f"api/frames/{request_id}.jpg" if request_id in self._images else None,
            "metrics": [
                {"name": name, "value": round(value, 5), "usual": ranges.get(name)}
                for name, value in sorted(metrics.items())
            ],
            "neighbours": [
                {
                    "request_id": f["request_id"],
                    "frame_id": f["frame_id"],
                    "captured_at": f["captured_at"],
                    "checks": [i["check"] for i in f["issues"]],
                }
                for f in around
            ],
        }

    def search(
        self,
        *,
        camera: str | None = None,
        check: str | None = None,
        severity: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Flagged frames matching every filter given, newest first."""
        found = []
        for item in reversed(self._frames.values()):
            if camera and item["camera_id"] != camera:
                continue
            issues = item["issues"]
            if check and not any(i["check"] == check for i in issues):
                continue
            if severity and not any(i["severity"] == severity for i in issues):
                continue
            if since and item["t"] < since.timestamp():
                continue
            if until and item["t"] > until.timestamp():
                continue
            found.append({k: v for k, v in item.items() if k != "t"})
            if len(found) >= limit:
                break
        return found

    def facets(self) -> dict[str, list[str]]:
        """The cameras, checks and severities the kept flagged frames have."""
        cameras, checks, severities = set(), set(), set()
        for item in self._frames.values():
            cameras.add(item["camera_id"])
            for issue in item["issues"]:
                checks.add(issue["check"])
                severities.add(issue["severity"])
        return {
            "cameras": sorted(cameras),
            "checks": sorted(checks),
            "severities": sorted(severities),
        }

    def distribution(self, camera_id: str) -> dict[str, Any] | None:
        """Labels and predicted classes over the camera's last ``window`` flagged frames."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            return None
        labels = Counter(label for frame in camera.labels for label in frame)
        predicted = Counter(label for frame in camera.predicted for label in frame)
        return {
            "camera_id": camera_id,
            "frames": len(camera.labels),
            "window": self.window,
            "labels": dict(labels.most_common()),
            "predicted": dict(predicted.most_common()),
        }
