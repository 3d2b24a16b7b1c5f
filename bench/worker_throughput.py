"""Frames per second through a real worker on the embedded broker, 640x480 JPEGs.

Measures the time from `framegate worker` start to ready, then publishes N real frames
(several cameras) and times until N quality reports are out.

    .venv/bin/python -m bench.worker_throughput [--frames 2000] [--cameras 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from framegate.schemas.settings import Settings
from framegate.streams.cli.simulator import scenes
from framegate.streams.kafka.admin import ensure_topics
from framegate.streams.kafka.broker import EmbeddedBroker, free_port
from framegate.streams.kafka.processes import spawn_worker, stop_process, wait_ready
from framegate.streams.media import encode_jpeg, frame_message


def build_messages(frames: int, cameras: int) -> list[tuple[bytes, bytes]]:
    rng = np.random.default_rng(3)
    scene_frames = [f for _, group in scenes() for f in group[:50]]
    start = datetime(2026, 11, 28, tzinfo=UTC)
    messages = []
    for index in range(frames):
        camera = f"cam-{index % cameras}"
        base = scene_frames[index % len(scene_frames)].astype(np.float32)
        pixels = np.clip(base + rng.normal(0, 2, base.shape), 0, 255).astype(np.uint8)
        messages.append(
            (
                camera.encode(),
                frame_message(
                    camera,
                    index,
                    encode_jpeg(pixels),
                    captured_at=start + timedelta(seconds=index / 5),
                ),
            )
        )
    return messages


async def run(settings: Settings, messages: list[tuple[bytes, bytes]]) -> float:
    consumer = AIOKafkaConsumer(
        settings.topic("quality"),
        bootstrap_servers=settings.bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=None,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        max_request_size=settings.max_message_bytes,
        linger_ms=5,
    )
    await consumer.start()
    await producer.start()
    started = time.perf_counter()
    for key, value in messages:
        await producer.send(settings.topic("frames"), key=key, value=value)
    await producer.flush()
    seen = 0
    while seen < len(messages):
        for records in (await consumer.getmany(timeout_ms=500)).values():
            seen += len(records)
    elapsed = time.perf_counter() - started
    await producer.stop()
    await consumer.stop()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--cameras", type=int, default=8)
    args = parser.parse_args()
    messages = build_messages(args.frames, args.cameras)
    size = sum(len(v) for _, v in messages) / len(messages)
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker(free_port()) as broker:
        env = {
            **os.environ,
            "FRAMEGATE_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "FRAMEGATE_BROKER_FLAVOR": "tansu",
            "FRAMEGATE_WEB_PORT": str(free_port()),
            "FRAMEGATE_DATA_DIR": tmp,
        }
        settings = Settings(bootstrap_servers=broker.bootstrap_servers)
        asyncio.run(ensure_topics(settings))
        log = Path(tmp) / "worker.log"
        worker = spawn_worker(env, log)
        try:
            ready = wait_ready(worker, log)
            elapsed = asyncio.run(run(settings, messages))
        finally:
            stop_process(worker)
    print(
        json.dumps(
            {
                "worker_start_to_ready_s": round(ready, 2),
                "frames": len(messages),
                "cameras": args.cameras,
                "mean_message_kib": round(size / 1024, 1),
                "seconds": round(elapsed, 2),
                "frames_per_s": round(len(messages) / elapsed, 1),
                "cpu_cores": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
