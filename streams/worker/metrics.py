"""Prometheus metrics of one worker, served at ``/metrics`` by :mod:`framegate.streams.web.views`.

Every counter counts what *this* worker did, so a Prometheus query sums over workers
(``sum by (check) (rate(framegate_issues_total[5m]))``). The :class:`Metrics` methods are
the only calls the agents make: one line where a report, a relabel request, an alert or a dead
letter is sent, and one per batch.

Names and labels
----------------
``framegate_frames_processed_total{camera}``
    Frames that got a quality report.
``framegate_issues_total{check,severity}``
    Issues found, one per check that fired on a frame, but for those another issue of the
    frame explains (``explained_by``): a dark frame counts ``dark``, not its low contrast.
``framegate_relabel_requests_total``
    Relabel requests published.
``framegate_alerts_total{kind,severity}``
    Alerts published (``status="firing"`` and ``"resolved"`` both count).
``framegate_deadletter_total{reason}``
    Dead-letter records published.
``framegate_predictions_unmatched_total{camera}``
    Predictions that expired without meeting their frame (the join window passed).
``framegate_relabel_over_budget_total{camera}``
    Flagged frames kept from relabeling by the camera's hourly budget.
``framegate_cameras_refused_total``
    Messages of cameras refused because the worker already tracks ``FRAMEGATE_MAX_CAMERAS``
    (no camera label: that is what bounds the labels' cardinality).
``framegate_processing_latency_seconds``
    Histogram: a frame's ``captured_at`` to its report being sent. Includes the camera's
    and the broker's delay, which is what an operator wants to see; a camera with a wrong
    clock shows up here first (negative values are clamped to 0).
``framegate_batch_size``
    Histogram: input messages (frames and predictions) per batch taken by the gate agent.
``framegate_consumer_lag{topic,partition}``
    Messages behind the log end, per assigned input partition, **only on a real Kafka**.
    The embedded Tansu broker's end offsets ("latest" ListOffsets) can be wrong, so on
    it the gauge is not exported at all rather than exported wrong.

``camera`` is a label: fleets of up to a few thousand cameras are fine for Prometheus; a
larger fleet should drop it with ``metric_relabel_configs``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from framegate.schemas.base import utcnow
from framegate.schemas.reports import unexplained

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class LagCollector(Collector):
    """``framegate_consumer_lag`` from the offsets a Faust monitor tracked.

    ``read_offsets`` and ``end_offsets`` are called at scrape time and return
    ``{TopicPartition-like: offset}``: the offset of the last message read and the
    high-water mark (the offset the next message will get); only ``topics`` are exported.

    Examples
    --------
    >>> from collections import namedtuple
    >>> TP = namedtuple("TP", "topic partition")
    >>> lag = LagCollector(lambda: {TP("f", 0): 6}, lambda: {TP("f", 0): 10}, topics={"f"})
    >>> [(s.labels["partition"], s.value) for m in lag.collect() for s in m.samples]
    [('0', 3.0)]
    """

    def __init__(
        self,
        read_offsets: Callable[[], Mapping[Any, int]],
        end_offsets: Callable[[], Mapping[Any, int]],
        *,
        topics: Iterable[str],
    ) -> None:
        self.read_offsets = read_offsets
        self.end_offsets = end_offsets
        self.topics = frozenset(topics)

    def describe(self) -> list[Any]:
        return [GaugeMetricFamily("framegate_consumer_lag", "", labels=["topic", "partition"])]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "framegate_consumer_lag",
            "Messages between this worker's read position and the log end, per partition.",
            labels=["topic", "partition"],
        )
        read = dict(self.read_offsets())
        for tp, end in sorted(dict(self.end_offsets()).items(), key=lambda kv: tuple(kv[0])):
            if tp.topic not in self.topics or end is None or read.get(tp) is None:
                continue
            family.add_metric([tp.topic, str(tp.partition)], float(max(0, end - read[tp] - 1)))
        yield family


class Metrics:
    """One worker's metrics, in a registry of their own (so two apps can share a process).

    The ``observe_*`` methods are the only calls the agents make.
    """

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.frames = Counter(
            "framegate_frames_processed",
            "Frames that got a quality report.",
            ["camera"],
            registry=registry,
        )
        self.issues = Counter(
            "framegate_issues",
            "Issues found, by check and severity.",
            ["check", "severity"],
            registry=registry,
        )
        self.relabel = Counter(
            "framegate_relabel_requests", "Relabel requests published.", registry=registry
        )
        self.alerts = Counter(
            "framegate_alerts",
            "Drift and camera-health alerts published.",
            ["kind", "severity"],
            registry=registry,
        )
        self.deadletter = Counter(
            "framegate_deadletter",
            "Dead-letter records published, by reason.",
            ["reason"],
            registry=registry,
        )
        self.unmatched = Counter(
            "framegate_predictions_unmatched",
            "Predictions whose frame did not arrive within the join window.",
            ["camera"],
            registry=registry,
        )
        self.budget_refused = Counter(
            "framegate_relabel_over_budget",
            "Flagged frames not sent for relabeling: over the camera's budget.",
            ["camera"],
            registry=registry,
        )
        self.cameras_refused = Counter(
            "framegate_cameras_refused",
            "Messages of new cameras refused: the worker already tracks FRAMEGATE_MAX_CAMERAS.",
            registry=registry,
        )
        self.latency = Histogram(
            "framegate_processing_latency_seconds",
            "Seconds from a frame's captured_at to its quality report being sent.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0),
            registry=registry,
        )
        self.batch_size = Histogram(
            "framegate_batch_size",
            "Input messages (frames and predictions) per batch.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=registry,
        )

    def observe_report(self, report: Any, *, now: datetime | None = None) -> None:
        """Count one :class:`~framegate.schemas.QualityReport` and its issues; observe its
        latency."""
        self.frames.labels(camera=report.camera_id).inc()
        for issue in unexplained(report.issues):  # a side effect of another is not counted
            self.issues.labels(check=str(issue.check), severity=issue.severity).inc()
        sent = now or utcnow()
        self.latency.observe(max(0.0, (sent - report.captured_at).total_seconds()))

    def observe_relabel(self, request: Any) -> None:
        """Count one :class:`~framegate.schemas.RelabelRequest`."""
        self.relabel.inc()

    def observe_unmatched(self, camera_id: str, count: int) -> None:
        """Count predictions that expired without their frame."""
        if count > 0:
            self.unmatched.labels(camera=camera_id).inc(count)

    def observe_over_budget(self, camera_id: str) -> None:
        self.budget_refused.labels(camera=camera_id).inc()

    def observe_camera_refused(self) -> None:
        self.cameras_refused.inc()

    def observe_alert(self, alert: Any) -> None:
        """Count one :class:`~framegate.schemas.Alert`."""
        self.alerts.labels(kind=alert.kind, severity=alert.severity).inc()

    def observe_dead_letter(self, record: Any) -> None:
        """Count one :class:`~framegate.schemas.DeadLetter`."""
        self.deadletter.labels(reason=str(record.reason)).inc()

    def observe_batch(self, size: int) -> None:
        self.batch_size.observe(size)

    def watch_lag(self, collector: LagCollector) -> None:
        """Export ``framegate_consumer_lag`` (only where the broker's end offsets are right)."""
        self.registry.register(collector)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
