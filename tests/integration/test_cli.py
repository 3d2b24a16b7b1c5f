"""The command line against a real broker: replay, tail, topic creation."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from framegate.schemas.settings import INTERNAL_TOPIC_NAMES, TOPIC_NAMES, Settings
from framegate.streams.kafka.admin import TopicMismatch, ensure_topics
from tests.factories import jittered, jpeg, photo

pytestmark = pytest.mark.integration


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
        [sys.executable, "-m", "framegate", "replay", str(tmp_path), "--camera", "door"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert replay.returncode == 0, replay.stderr
    assert "3/3" in replay.stderr  # the progress bar reached the end
    tail = subprocess.run(
        [sys.executable, "-m", "framegate", "tail", "frames", "--json"],
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
        [sys.executable, "-m", "framegate", "tail", "frames", "--camera", "nobody"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert readable.returncode == 0 and readable.stdout == ""
