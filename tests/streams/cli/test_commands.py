"""The command line without a broker: help, schema files, calibrating from files."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from framegate.schemas.settings import TOPIC_NAMES
from framegate.streams.cli import main
from framegate.streams.worker.references import load
from tests.factories import jpeg, street


@pytest.mark.parametrize(
    "command", ["broker", "worker", "demo", "replay", "tail", "schema", "status", "calibrate"]
)
def test_every_command_explains_itself(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    summary = main.commands[command].help.splitlines()[0]
    assert len(summary) > 20 and " ".join(summary.split()[:4]) in " ".join(result.output.split())


def test_schema_writes_one_file_per_message(tmp_path):
    result = CliRunner().invoke(main, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(f"{name}.schema.json" for name in TOPIC_NAMES)
    frame = json.loads((tmp_path / "frames.schema.json").read_text())
    assert {"frame_id", "camera_id", "captured_at", "image"} <= set(frame["required"])


def test_calibrate_learns_a_reference_from_clean_frames(tmp_path):
    for index in range(150):
        (tmp_path / f"{index:03d}.jpg").write_bytes(jpeg(street(index)))
    out = tmp_path / "references.json"
    result = CliRunner().invoke(
        main, ["calibrate", str(tmp_path), "--camera", "cam-c", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    [(camera, reference)] = load(out).items()
    assert camera == "cam-c" and reference.frames == 150
    assert set(reference.metrics) == {"brightness", "sharpness"}
    assert reference.in_sample_alarms == 0
    assert 0.2 < reference.metrics["brightness"].mean < 0.8


def test_calibrate_needs_a_camera_for_files(tmp_path):
    (tmp_path / "a.jpg").write_bytes(jpeg(street(0)))
    result = CliRunner().invoke(main, ["calibrate", str(tmp_path)])
    assert result.exit_code != 0 and "--camera" in result.output
