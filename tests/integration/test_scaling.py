"""Two workers in one consumer group share the cameras: every frame reported, once."""

from __future__ import annotations

import collections
import json
import urllib.request

import pytest

from tests.factories import frame_bytes, jpeg, street

pytestmark = pytest.mark.integration


def test_two_workers_split_the_cameras_and_report_every_frame_once(gate_factory):
    first = gate_factory(partitions="4", embedder="none")
    first.start()
    second = gate_factory(
        prefix=first.settings.topic_prefix,
        consumer_group=first.settings.consumer_group,
        partitions="4",
        embedder="none",
    )
    second.start()
    cameras = [f"cam-s{n}" for n in range(6)]
    messages = [
        (camera.encode(), frame_bytes(camera, index, data=jpeg(street(index + 40 * n))))
        for index in range(15)
        for n, camera in enumerate(cameras)
    ]
    second.publish("frames", messages)
    reports = second.collect("quality", count=len(messages), timeout=90)
    counts = collections.Counter(r["frame_id"] for r in reports)
    assert set(counts) == {json.loads(value)["frame_id"] for _, value in messages}
    assert max(counts.values()) == 1
    # Both workers took part, and together they processed each frame once.
    per_worker = [_frames_metric(gate) for gate in (first, second)]
    assert sum(per_worker) == len(messages) and min(per_worker) > 0


def _frames_metric(gate) -> float:
    url = f"http://127.0.0.1:{gate.settings.web_port}/metrics"
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("framegate_frames_processed_total{")
    )
