"""The command line against a real broker: replay, tail, schema, topic creation, --help."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from schemas.settings import INTERNAL_TOPIC_NAMES, TOPIC_NAMES, Settings
from streams.admin import TopicMismatch, ensure_topics
from streams.cli import main
from tests.factories import jittered, jpeg, photo, street

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("command", ["broker", "worker", "demo", "replay", "tail", "schema"])
def test_every_command_explains_itself(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    summary = main.commands[command].help.splitlines()[0]
    assert len(summary) > 20 and " ".join(summary.split()[:4]) in " ".join(result.output.split())


def _env(bootstrap: str, prefix: str) -> dict[str, str]:
    return {
        **os.environ,
        "FRAMEGATE_BOOTSTRAP_SERVERS": bootstrap,
        "FRAMEGATE_TOPIC_PREFIX": prefix,
    }


def test_topics_are_created_with_the_configured_partitions(bootstrap):
    settings = Settings(bootstrap_servers=bootstrap, topic_prefix="admin-a.", partitions=3)
    counts = asyncio.run(ensure_topics(settings))
    assert counts == {settings.topic(name): 3 for name in TOPIC_NAMES + INTERNAL_TOPIC_NAMES}
    with pytest.raises(TopicMismatch, match="partition count"):
        asyncio.run(ensure_topics(settings.model_copy(update={"partitions": 5})))


def test_replay_publishes_a_folder_and_tail_prints_it(bootstrap, tmp_path):
    for index in range(3):
        (tmp_path / f"{index}.jpg").write_bytes(jpeg(jittered(photo("coffee"), index)))
    env = _env(bootstrap, "cli-r.")
    asyncio.run(ensure_topics(Settings(bootstrap_servers=bootstrap, topic_prefix="cli-r.")))
    replay = subprocess.run(
        [sys.executable, "-m", "streams.cli", "replay", str(tmp_path), "--camera", "door"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert replay.returncode == 0, replay.stderr
    assert "3/3" in replay.stderr  # the progress bar reached the end
    tail = subprocess.run(
        [sys.executable, "-m", "streams.cli", "tail", "frames", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert tail.returncode == 0, tail.stderr
    frames = [json.loads(line) for line in tail.stdout.splitlines()]
    assert [f["frame_id"] for f in frames] == ["door:000000", "door:000001", "door:000002"]
    assert all(f["camera_id"] == "door" for f in frames)
    readable = subprocess.run(
        [sys.executable, "-m", "streams.cli", "tail", "frames", "--camera", "nobody"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert readable.returncode == 0 and readable.stdout == ""


def test_schema_writes_one_file_per_message(tmp_path):
    result = CliRunner().invoke(main, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(f"{name}.schema.json" for name in TOPIC_NAMES)
    frame = json.loads((tmp_path / "frames.schema.json").read_text())
    assert {"frame_id", "camera_id", "captured_at", "image"} <= set(frame["required"])


def test_calibrate_learns_a_reference_from_clean_frames(tmp_path):
    from streams.calibration import load

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
