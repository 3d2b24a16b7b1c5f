"""Online drift detection per camera and fleet-wide, calibrated to a false-alarm budget.

A camera needs no setting: each statistic is self-starting (watched from its 300th value
against a reference that keeps growing, :mod:`~framegate.detectors.drift.pool`), thresholds
follow the camera's own frame rate (:class:`FrameRate`), and a change that comes and goes
with the time of day is the day's rhythm, not drift (:class:`DailyEpisodes`).

Pure logic: no Kafka, no clock, no I/O. ``streams/`` keeps each monitor's :meth:`state`
in a Faust table and turns each :class:`DriftEvent` into a ``schemas.alerts.Alert`` with
:func:`framegate.detectors.alerts.to_alert`.
"""

from framegate.detectors.drift.calibrate import calibrate
from framegate.detectors.drift.camera import (
    CLASS_FRAME_KEY,
    CLASS_PREFIX,
    CameraDriftMonitor,
    class_frequency_stats,
)
from framegate.detectors.drift.config import DriftConfig, FleetDriftConfig
from framegate.detectors.drift.cusum import ReferencePageHinkley, cusum_arl, cusum_threshold
from framegate.detectors.drift.daily import DailyEpisodes
from framegate.detectors.drift.events import DriftEvent
from framegate.detectors.drift.fleet import FleetDriftMonitor
from framegate.detectors.drift.metric import MetricMonitor
from framegate.detectors.drift.rate import FrameRate
from framegate.detectors.drift.reference import CameraReference, MetricReference, estimate_reference

__all__ = [
    "CLASS_FRAME_KEY",
    "CLASS_PREFIX",
    "CameraDriftMonitor",
    "CameraReference",
    "DailyEpisodes",
    "DriftConfig",
    "DriftEvent",
    "FleetDriftConfig",
    "FleetDriftMonitor",
    "FrameRate",
    "MetricMonitor",
    "MetricReference",
    "ReferencePageHinkley",
    "calibrate",
    "class_frequency_stats",
    "cusum_arl",
    "cusum_threshold",
    "estimate_reference",
]
