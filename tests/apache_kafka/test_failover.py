"""Three Apache Kafka brokers (three JVMs, each broker and controller), replication factor 3,
``min.insync.replicas`` 2, ``acks=all``: one broker is SIGKILLed mid-stream and started again.
Nothing may be lost or requested twice under two ids; the recovery times are reported."""

from __future__ import annotations

import asyncio
import collections
import json
import statistics
import time
from pathlib import Path

import pytest

from framegate.streams.kafka.clients import producer, reader
from tests.apache_kafka.cluster import KafkaCluster
from tests.apache_kafka.frames import dark_frames, request_ids_by_frame
from tests.apache_kafka.workers import collect

RATE = 12.0  # frames per second, all cameras together
CAMERAS = [f"cam-f{n}" for n in range(6)]
PER_CAMERA = 50  # 300 frames: 25 s of stream
KILL_AFTER_S = 7.0
DOWN_FOR_S = 8.0


@pytest.fixture(scope="module")
def cluster(kafka_classpath: str, tmp_path_factory: pytest.TempPathFactory):
    directory: Path = tmp_path_factory.mktemp("kafka3")
    overrides = {"min.insync.replicas": "2", "transaction.state.log.min.isr": "2"}
    with KafkaCluster(directory, nodes=3, overrides=overrides, cp=kafka_classpath) as running:
        yield running


def test_a_broker_killed_mid_stream_loses_nothing(cluster, worker_factory, report):
    worker = worker_factory(
        cluster.bootstrap_servers,
        partitions=4,
        replication_factor=3,
        relabel_per_hour=1_000_000,
        state_flush_s=0.5,
    ).start()
    settings = worker.settings
    topics = asyncio.run(_replication(cluster, settings))
    assert topics and all(replicas == 3 for replicas in topics.values()), topics

    messages = dark_frames(CAMERAS, range(PER_CAMERA))
    run = asyncio.run(_stream(cluster, settings, messages))

    expected = {json.loads(value)["frame_id"] for _, value in messages}
    assert not run["producer_errors"], run["producer_errors"][:5]
    lost = expected - set(run["arrivals"])
    assert not lost, f"{len(lost)} frames never reported: {sorted(lost)[:10]}"
    requests = collect(settings, "relabel", count=len(expected), timeout=60)
    ids = request_ids_by_frame(requests)
    assert set(ids) == expected, "every dark frame is flagged and requested"
    twice = [frame for frame, found in ids.items() if len(found) > 1]
    assert not twice, f"frames with two request ids: {twice[:10]}"
    # The restarted broker caught up: every replica is in sync again.
    assert run["isr_restored_after_restart_s"] is not None

    report(
        "three brokers, one SIGKILLed",
        {
            "victim": run["victim"],
            "frames": len(expected),
            "lost": len(lost),
            "frames_with_two_request_ids": len(twice),
            "reports_redelivered": run["reports"] - len(expected),
            "producer_errors": len(run["producer_errors"]),
            "longest_ack_s": run["longest_ack_s"],
            "end_to_end_median_before_kill_s": run["median_before_s"],
            "end_to_end_max_after_kill_s": run["max_after_s"],
            "stream_recovered_after_kill_s": run["stream_recovered_s"],
            "broker_restart_s": run["restart_s"],
            "isr_restored_after_restart_s": run["isr_restored_after_restart_s"],
        },
    )
    # The stream comes back well before the killed broker does.
    assert run["stream_recovered_s"] < DOWN_FOR_S + 30


async def _replication(cluster: KafkaCluster, settings) -> dict[str, int]:
    """Replicas of every partition of the worker's topics and changelogs (the fewest)."""
    admin = cluster.admin()
    await admin.start()
    try:
        names = [
            name
            for name in await admin.list_topics()
            if name.startswith((settings.topic_prefix, settings.consumer_group))
        ]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {t["topic"]: min(len(p["replicas"]) for p in t["partitions"]) for t in described}


async def _stream(cluster: KafkaCluster, settings, messages) -> dict:
    """Publish at RATE with acks=all, read the reports as they come, and kill the group
    coordinator's broker KILL_AFTER_S in, for DOWN_FOR_S."""
    loop = asyncio.get_running_loop()
    sent: dict[str, tuple[float, float]] = {}
    errors: list[str] = []
    arrivals: dict[str, float] = {}
    reports = collections.Counter()
    marks: dict[str, float | int | None] = {}
    done = asyncio.Event()

    async def produce() -> None:
        client = producer(settings)
        await client.start()
        try:
            start = time.monotonic()
            for index, (key, value) in enumerate(messages):
                await asyncio.sleep(max(0.0, start + index / RATE - time.monotonic()))
                frame_id = json.loads(value)["frame_id"]
                began = time.monotonic()
                try:
                    await client.send_and_wait(settings.topic("frames"), key=key, value=value)
                except Exception as exc:  # noqa: BLE001 - counted and asserted on
                    errors.append(f"{frame_id}: {exc!r}")
                sent[frame_id] = (began, time.monotonic())
        finally:
            await client.stop()

    async def consume() -> None:
        consumer = reader(settings, settings.topic("quality"))
        await consumer.start()
        try:
            deadline = None
            while True:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    now = time.monotonic()
                    for record in records:
                        frame_id = json.loads(record.value)["frame_id"]
                        arrivals.setdefault(frame_id, now)
                        reports[frame_id] += 1
                if done.is_set():
                    deadline = deadline or time.monotonic() + 120
                    if set(sent) <= set(arrivals) or time.monotonic() > deadline:
                        return
        finally:
            await consumer.stop()

    async def chaos() -> None:
        admin = cluster.admin()
        await admin.start()
        try:
            victim = await admin.find_coordinator(settings.consumer_group)
        finally:
            await admin.close()
        await asyncio.sleep(KILL_AFTER_S)
        marks["victim"] = victim
        await loop.run_in_executor(None, cluster.kill, victim)
        marks["killed"] = time.monotonic()
        await asyncio.sleep(DOWN_FOR_S)
        restarted = time.monotonic()
        marks["restart_s"] = round(await loop.run_in_executor(None, cluster.start_node, victim), 1)
        marks["isr_restored_after_restart_s"] = None
        while time.monotonic() - restarted < 120:
            if await _all_in_sync(cluster, settings):
                marks["isr_restored_after_restart_s"] = round(time.monotonic() - restarted, 1)
                break
            await asyncio.sleep(0.5)

    consumer = asyncio.create_task(consume())
    await asyncio.gather(produce(), chaos())
    done.set()
    await consumer

    killed = float(marks["killed"])  # type: ignore[arg-type]
    before = [arrivals[f] - sent[f][0] for f in sent if sent[f][0] < killed and f in arrivals]
    after = [arrivals[f] - sent[f][0] for f in sent if sent[f][0] >= killed and f in arrivals]
    recovered = min(
        (arrivals[f] for f in sent if sent[f][0] >= killed and f in arrivals), default=None
    )
    return {
        "victim": marks["victim"],
        "producer_errors": errors,
        "arrivals": arrivals,
        "reports": sum(reports.values()),
        "longest_ack_s": round(max(end - began for began, end in sent.values()), 2),
        "median_before_s": round(statistics.median(before), 2) if before else None,
        "max_after_s": round(max(after), 2) if after else None,
        "stream_recovered_s": round(recovered - killed, 1) if recovered else float("inf"),
        "restart_s": marks["restart_s"],
        "isr_restored_after_restart_s": marks["isr_restored_after_restart_s"],
    }


async def _all_in_sync(cluster: KafkaCluster, settings) -> bool:
    admin = cluster.admin()
    try:
        await admin.start()
        names = [
            name
            for name in await admin.list_topics()
            if name.startswith((settings.topic_prefix, settings.consumer_group))
            or name == "__consumer_offsets"
        ]
        described = await admin.describe_topics(names)
    except Exception:  # noqa: BLE001 - the cluster is still settling
        return False
    finally:
        await admin.close()
    return all(len(p["isr"]) == 3 for t in described for p in t["partitions"])
