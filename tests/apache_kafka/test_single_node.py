"""What only a real Kafka does, on one Apache Kafka node: the recovery consistency check,
true end offsets (the consumer-lag gauge), compacted changelogs, partition counts enforced,
group rebalancing, and a SIGKILLed worker replaced without losing a frame."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from framegate.schemas.settings import Settings
from framegate.streams.kafka.admin import ensure_topics
from framegate.streams.kafka.config import faust_settings
from tests.apache_kafka.frames import dark_frames, dark_jpeg, frame_ids, request_ids_by_frame
from tests.apache_kafka.workers import collect, framegate_env, publish, settings_of
from tests.factories import frame_bytes

LAG = "framegate_consumer_lag"
PROCESSED = "framegate_frames_processed_total"


def _topic_configs(kafka, names: list[str]) -> dict[str, dict[str, str]]:
    async def describe() -> dict[str, dict[str, str]]:
        admin = kafka.admin()
        await admin.start()
        try:
            responses = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
            )
        finally:
            await admin.close()
        found: dict[str, dict[str, str]] = {}
        for response in responses:
            for resource in response.resources:
                error_code, _, _, name, entries = resource[:5]
                assert error_code == 0, (name, resource)
                found[name] = {entry[0]: entry[1] for entry in entries}
        return found

    return asyncio.run(describe())


def test_on_kafka_the_recovery_check_is_on_and_changelogs_are_compacted(kafka, worker_factory):
    settings = Settings(bootstrap_servers=kafka.bootstrap_servers)
    conf = faust_settings(settings)
    # Only the embedded broker turns Faust's recovery consistency check off.
    assert conf.get("recovery_consistency_check", True) is True
    assert "broker_session_timeout" not in conf
    tansu = faust_settings(settings.model_copy(update={"broker_flavor": "tansu"}))
    assert tansu["recovery_consistency_check"] is False

    worker = worker_factory(kafka.bootstrap_servers, partitions=3).start()
    group = worker.settings.consumer_group
    changelogs = [f"{group}-camera-state-changelog", f"{group}-fleet-state-changelog"]
    outputs = [worker.settings.topic(name) for name in ("frames", "quality", "relabel")]
    configs = _topic_configs(kafka, changelogs + outputs)
    for name in changelogs:
        assert configs[name]["cleanup.policy"] == "compact", name
    for name in outputs:
        assert configs[name]["cleanup.policy"] == "delete", name


def test_a_different_partition_count_is_refused_with_a_clear_error(kafka):
    env = framegate_env(kafka.bootstrap_servers, partitions=2)
    asyncio.run(ensure_topics(settings_of(env)))
    env["FRAMEGATE_PARTITIONS"] = "3"
    started = time.monotonic()
    refused = subprocess.run(
        [sys.executable, "-m", "framegate", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert refused.returncode != 0
    assert "partition count other than 3" in refused.stderr, refused.stderr[-3000:]
    assert f"{env['FRAMEGATE_TOPIC_PREFIX']}frames" in refused.stderr
    assert "FRAMEGATE_PARTITIONS" in refused.stderr  # what the operator should do
    assert "Traceback" not in refused.stderr
    assert elapsed < 60


def test_a_backlog_shows_as_consumer_lag_and_drains_to_zero(kafka, worker_factory, report):
    worker = worker_factory(kafka.bootstrap_servers, batch_size=4)
    asyncio.run(ensure_topics(worker.settings))
    cameras = [f"cam-l{n}" for n in range(4)]
    messages = dark_frames(cameras, range(100))
    publish(worker.settings, "frames", messages)  # the backlog is there before the worker
    worker.start()
    frames_topic = worker.settings.topic("frames")

    peak: dict[str, float] = {}
    deadline = time.monotonic() + 180
    drained = None
    while time.monotonic() < deadline:
        samples = worker.metrics()
        lag = {
            dict(labels)["partition"]: value
            for (name, labels), value in samples.items()
            if name == LAG and dict(labels)["topic"] == frames_topic
        }
        for partition, value in lag.items():
            peak[partition] = max(peak.get(partition, 0.0), value)
        processed = sum(v for (name, _), v in samples.items() if name == PROCESSED)
        if processed >= len(messages) and set(lag) == {"0", "1"} and not any(lag.values()):
            drained = lag
            break
        time.sleep(0.1)
    report("consumer lag peak per partition during a 400-frame backlog", peak)
    assert sum(peak.values()) > 0, "the gauge never showed the backlog"
    assert drained == {"0": 0.0, "1": 0.0}, f"lag did not drain to zero: {lag}"


def test_workers_rebalance_and_a_killed_worker_is_replaced_losing_nothing(
    kafka, worker_factory, report
):
    options = dict(partitions=4, relabel_per_hour=1_000_000, state_flush_s=0.5)
    first = worker_factory(kafka.bootstrap_servers, **options).start()
    same = dict(prefix=first.settings.topic_prefix, consumer_group=first.settings.consumer_group)
    cameras = [f"cam-k{n}" for n in range(8)]
    sent = dark_frames(cameras, range(0, 8))
    publish(first.settings, "frames", sent)
    assert len(collect(first.settings, "quality", count=len(sent), settle_s=0, timeout=180)) >= len(
        sent
    )

    # A second worker joins while frames keep coming: the group rebalances and both take part.
    before = _processed(first)
    joining = dark_frames(cameras, range(8, 14))
    publisher = threading.Thread(target=_publish_slowly, args=(first.settings, joining, 6.0))
    publisher.start()
    second = worker_factory(kafka.bootstrap_servers, **same, **options).start()
    publisher.join()
    batch = joining + dark_frames(cameras, range(14, 20))
    publish(first.settings, "frames", batch[len(joining) :])
    sent += batch
    assert not _unreported(first.settings, sent), "frames lost when a worker joined"
    shares = [_processed(first) - before, _processed(second)]
    # Both took part; a frame whose offset was not committed before the hand-over is
    # processed again by its new owner (at-least-once), never skipped.
    assert min(shares) > 0 and sum(shares) >= len(batch), shares
    redelivered_on_rebalance = int(sum(shares)) - len(batch)

    # The second worker leaves (SIGTERM) while frames keep coming: its partitions go back.
    batch = dark_frames(cameras, range(20, 28))
    publisher = threading.Thread(target=_publish_slowly, args=(first.settings, batch, 4.0))
    publisher.start()
    time.sleep(1.0)
    second.stop()
    publisher.join()
    sent += batch
    assert not _unreported(first.settings, sent), "frames lost when a worker left"

    # Mid-stream, the first worker is SIGKILLed (no commit, no state saved); a replacement
    # joins. Frames keep coming the whole time.
    batch = dark_frames(cameras, range(28, 60))
    publisher = threading.Thread(target=_publish_slowly, args=(first.settings, batch, 8.0))
    publisher.start()
    time.sleep(2.0)
    first.kill()
    killed_at = time.monotonic()
    third = worker_factory(kafka.bootstrap_servers, **same, **options).start()
    publisher.join()
    sent += batch

    # The same bytes as each camera's frame 19, reported before the kill: only a camera whose
    # history survived (in the changelog, read back with the consistency check on) sees a
    # duplicate (the history holds 64 frames).
    again = [
        (camera.encode(), frame_bytes(camera, 60, data=dark_jpeg(1000 * n + 19)))
        for n, camera in enumerate(cameras)
    ]
    publish(first.settings, "frames", again)
    sent += again
    reports = collect(first.settings, "quality", count=len(sent), timeout=120)
    recovered_s = time.monotonic() - killed_at

    # Every rebalance above ran Faust's recovery consistency check (offsets each worker had
    # applied against the changelogs' high-water marks): none refused.
    for worker in (first, second, third):
        assert "ConsistencyError" not in worker.log.read_text()
    lost = frame_ids(sent) - {r["frame_id"] for r in reports}
    assert not lost, f"frames lost: {sorted(lost)[:10]}"
    requests = collect(first.settings, "relabel", count=len(sent), timeout=30)
    ids = request_ids_by_frame(requests)
    assert set(ids) == frame_ids(sent), "every dark frame is flagged and requested"
    assert all(len(found) == 1 for found in ids.values()), "a frame got two request ids"
    for camera in cameras:
        last = [r for r in reports if r["frame_id"] == f"{camera}:000060"]
        assert any(issue["check"] == "exact_duplicate" for r in last for issue in r["issues"]), (
            f"{camera} lost its history"
        )
    redelivered = len(reports) - len(frame_ids(sent))
    report(
        "worker SIGKILL on one node",
        {
            "frames": len(sent),
            "lost": len(lost),
            "reprocessed_on_join": redelivered_on_rebalance,
            "reports_redelivered": redelivered,
            "replacement_ready_s": round(third.ready_s or 0, 1),
            "kill_to_all_reported_s": round(recovered_s, 1),
        },
    )


def _unreported(settings, sent, timeout: float = 120) -> list[str]:
    """The frames of ``sent`` without a report after ``timeout`` seconds (at most ten)."""
    reports = collect(settings, "quality", count=len(frame_ids(sent)), settle_s=0, timeout=timeout)
    return sorted(frame_ids(sent) - {r["frame_id"] for r in reports})[:10]


def _processed(worker) -> float:
    return sum(v for (name, _), v in worker.metrics().items() if name == PROCESSED)


def _publish_slowly(settings, messages, seconds: float) -> None:
    async def run() -> None:
        from framegate.streams.kafka.clients import producer

        client = producer(settings)
        await client.start()
        try:
            pause = seconds / len(messages)
            for key, value in messages:
                await client.send_and_wait(settings.topic("frames"), key=key, value=value)
                await asyncio.sleep(pause)
        finally:
            await client.stop()

    asyncio.run(run())
