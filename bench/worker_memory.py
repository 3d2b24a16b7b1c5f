"""A worker's resident memory under a backlog: frames already on the topic at start.

    .venv/bin/python -m bench.worker_memory [--frames 20000] [--cameras 8] [--embedder ...]

Publishes ``--frames`` 640x480 JPEGs of about 100 KB (real photos with sensor noise) to the
embedded broker, then starts a worker with the default model and samples its resident set
(``VmRSS``) every 0.25 s from start until every frame is reported; prints the peak next to
the bound README.md documents, and the frames/s while draining.
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

import cv2
import numpy as np
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from framegate.schemas.settings import Settings
from framegate.streams.cli.simulator import scenes
from framegate.streams.kafka.admin import ensure_topics
from framegate.streams.kafka.broker import EmbeddedBroker, free_port
from framegate.streams.kafka.processes import spawn_worker, stop_process
from framegate.streams.media import encode_jpeg, frame_message

BOUND_MIB = 1536  # README.md, "Memory": the documented bound for the default settings


def payloads(count: int) -> list[bytes]:
    """``count`` distinct 640x480 JPEGs of about 100 KB (noise keeps them that large)."""
    rng = np.random.default_rng(5)
    pictures = [cv2.resize(f, (640, 480)) for _, group in scenes() for f in group[:20]]
    out = []
    for index in range(count):
        base = pictures[index % len(pictures)].astype(np.float32)
        noisy = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
        out.append(encode_jpeg(noisy, 92))
    return out


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def publish(settings: Settings, frames: int, cameras: int) -> float:
    images = payloads(min(frames, 1000))
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        max_request_size=settings.max_message_bytes,
        linger_ms=20,
    )
    start = datetime(2026, 11, 28, tzinfo=UTC)
    sizes = 0
    await producer.start()
    try:
        for index in range(frames):
            camera = f"cam-{index % cameras}"
            value = frame_message(
                camera,
                index // cameras,
                images[index % len(images)],
                captured_at=start + timedelta(seconds=index // cameras / 2),
            )
            sizes += len(value)
            await producer.send(settings.topic("frames"), key=camera.encode(), value=value)
        await producer.flush()
    finally:
        await producer.stop()
    return sizes / frames


async def drain(settings: Settings, frames: int, pid: int) -> tuple[float, list[float]]:
    consumer = AIOKafkaConsumer(
        settings.topic("quality"),
        bootstrap_servers=settings.bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    samples: list[float] = []
    seen, first = 0, None
    try:
        while seen < frames:
            batches = await consumer.getmany(timeout_ms=250)
            for records in batches.values():
                seen += len(records)
            if seen and first is None:
                first = time.perf_counter()
            samples.append(rss_mib(pid))
    finally:
        await consumer.stop()
    return frames / (time.perf_counter() - (first or time.perf_counter())), samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--embedder", default="efficientnet-lite0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker(free_port()) as broker:
        settings = Settings(bootstrap_servers=broker.bootstrap_servers)
        asyncio.run(ensure_topics(settings))
        began = time.perf_counter()
        mean_bytes = asyncio.run(publish(settings, args.frames, args.cameras))
        published_s = time.perf_counter() - began
        env = {
            **os.environ,
            "FRAMEGATE_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "FRAMEGATE_BROKER_FLAVOR": "tansu",
            "FRAMEGATE_WEB_PORT": str(free_port()),
            "FRAMEGATE_DATA_DIR": tmp,
            "FRAMEGATE_EMBEDDER": args.embedder,
        }
        worker = spawn_worker(env, Path(tmp) / "worker.log")
        try:
            rate, samples = asyncio.run(drain(settings, args.frames, worker.pid))
        finally:
            stop_process(worker)
    print(
        json.dumps(
            {
                "frames_on_topic_at_start": args.frames,
                "cameras": args.cameras,
                "mean_message_kib": round(mean_bytes / 1024, 1),
                "prepare_and_publish_s": round(published_s, 1),
                "embedder": args.embedder,
                "worker_rss_peak_mib": round(max(samples), 1),
                "worker_rss_at_drained_mib": round(samples[-1], 1),
                "documented_bound_mib": BOUND_MIB,
                "peak_over_bound": round(max(samples) / BOUND_MIB, 2),
                "drain_frames_per_s": round(rate, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
