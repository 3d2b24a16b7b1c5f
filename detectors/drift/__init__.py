"""Online drift detection per camera and fleet-wide, calibrated to a false-alarm budget.

Pure logic: no Kafka, no clock, no I/O. ``streams/`` keeps each monitor's :meth:`state`
in a Faust table and turns :class:`DriftEvent` into ``schemas.alerts.Alert``.
"""

from detectors.drift.calibrate import calibrate
from detectors.drift.camera import (
    CLASS_FRAME_KEY,
    CLASS_PREFIX,
    CameraDriftMonitor,
    class_frequency_stats,
)
from detectors.drift.config import DriftConfig, FleetDriftConfig
from detectors.drift.cusum import ReferencePageHinkley, cusum_arl, cusum_threshold
from detectors.drift.events import DriftEvent
from detectors.drift.fleet import FleetDriftMonitor
from detectors.drift.metric import MetricMonitor
from detectors.drift.reference import CameraReference, MetricReference, estimate_reference

__all__ = [
    "CLASS_FRAME_KEY",
    "CLASS_PREFIX",
    "CameraDriftMonitor",
    "CameraReference",
    "DriftConfig",
    "DriftEvent",
    "FleetDriftConfig",
    "FleetDriftMonitor",
    "MetricMonitor",
    "MetricReference",
    "ReferencePageHinkley",
    "calibrate",
    "class_frequency_stats",
    "cusum_arl",
    "cusum_threshold",
    "estimate_reference",
]
