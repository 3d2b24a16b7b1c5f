"""Learn a camera's references from a clean period, at a target false-alarm rate."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from framegate.detectors.drift.config import FALLBACK_FRAME_RATE, DriftConfig
from framegate.detectors.drift.reference import CameraReference, estimate_reference

ProgressCallback = Callable[[int, int], None]


def calibrate(
    series: Mapping[str, Sequence[float] | np.ndarray],
    config: DriftConfig,
    *,
    progress: ProgressCallback | None = None,
    replay: bool = True,
    frame_rate: float | None = None,
) -> CameraReference:
    """References for each statistic of one camera from a clean period.

    Parameters
    ----------
    series
        Per statistic, its per-frame values over the clean period, in frame order (NaN
        where a frame did not measure it). Class frequencies follow the convention of
        :func:`class_frequency_stats`: 0/1 per frame with predictions.
    config
        The false-alarm budget (``target_false_alarms_per_day``) that sets every chart's
        threshold.
    progress
        Called as ``progress(done, total)`` after each statistic and during the replay
        (the CLI's progress bar).
    replay
        Replay the clean period through a monitor and count its alarms
        (``CameraReference.in_sample_alarms``, expected 0): a measured sanity check.
    frame_rate
        The camera's frames per second (default: ``config.frame_rate``, else
        :data:`~framegate.detectors.drift.config.FALLBACK_FRAME_RATE`). A monitor sets the
        thresholds again for the camera's own rate when it differs by more than 20 %.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = calibrate({"brightness": rng.normal(120, 3, 4000)}, DriftConfig())
    >>> m = ref.metrics["brightness"]
    >>> round(m.mean), m.block, ref.in_sample_alarms
    (120, 1, 0)
    """
    rate = frame_rate or config.frame_rate or FALLBACK_FRAME_RATE
    names = list(series)
    arrays = {name: np.asarray(series[name], dtype=float) for name in names}
    frames = max((len(a) for a in arrays.values()), default=0)
    total = len(names) + (frames if replay else 0)
    metrics = {}
    for i, name in enumerate(names):
        metrics[name] = estimate_reference(arrays[name], config, rate)
        if progress is not None:
            progress(i + 1, total)
    ref = CameraReference(metrics=metrics, frames=frames)
    if not replay:
        return ref
    from framegate.detectors.drift.camera import CameraDriftMonitor

    mon = CameraDriftMonitor(config, ref)
    alarms = 0
    step = max(1, frames // 100)
    cols = [(name, arrays[name]) for name in names]
    for t in range(frames):
        stats = {name: float(a[t]) for name, a in cols if t < len(a)}
        events = mon.update(stats, frame_id=str(t), at=t / rate)
        alarms += sum(e.status == "firing" for e in events)
        if progress is not None and (t + 1) % step == 0:
            progress(len(names) + t + 1, total)
    if progress is not None:
        progress(total, total)
    return ref.model_copy(update={"in_sample_alarms": alarms})
