"""The drift references file that `framegate calibrate` writes and workers read
(``FRAMEGATE_DRIFT_REFERENCES``): camera id -> its
:class:`~framegate.detectors.drift.CameraReference`."""

from __future__ import annotations

import json
from pathlib import Path

from framegate.detectors.drift import CameraReference


def write(path: Path, found: dict[str, CameraReference]) -> None:
    path.write_text(
        json.dumps({c: r.model_dump(mode="json") for c, r in found.items()}, indent=1) + "\n"
    )


def load(path: Path) -> dict[str, CameraReference]:
    """The references file written by `framegate calibrate`."""
    return {
        camera_id: CameraReference.model_validate(document)
        for camera_id, document in json.loads(path.read_text()).items()
    }
