"""`framegate demo`: broker, worker and a simulated fleet in one command, then a summary."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import click
from tqdm import tqdm

from framegate.schemas.settings import Settings
from framegate.streams.cli.simulator import fleet
from framegate.streams.kafka.broker import broker_for
from framegate.streams.kafka.clients import producer, reader
from framegate.streams.kafka.config import bootstrap_servers
from framegate.streams.kafka.processes import (
    WorkerNotReady,
    spawn_worker,
    stop_process,
    wait_ready,
)
from framegate.streams.media import encode_jpeg, frame_message

OUTPUTS = ("quality", "relabel", "deadletter", "alerts")
BAD_INPUTS = [
    (b"cam-1", b"{not json"),
    (
        b"cam-2",
        json.dumps(
            {
                "schema_version": 1,
                "frame_id": "cam-2:bad",
                "camera_id": "cam-2",
                "captured_at": "2026-01-01T00:00:00Z",
                "image": {"encoding": "jpeg", "data": "%%%not-base64%%%"},
            }
        ).encode(),
    ),
    (b"cam-3", json.dumps({"schema_version": 9, "frame_id": "x", "camera_id": "cam-3"}).encode()),
]


def worker_env(settings: Settings, *, frames_per_camera: int, fps: float) -> dict[str, str]:
    env = {**os.environ, "FRAMEGATE_BOOTSTRAP_SERVERS": bootstrap_servers(settings)}
    if settings.bootstrap_servers is None:
        env["FRAMEGATE_BROKER_FLAVOR"] = "tansu"
    # A demo lasts minutes, not days: drift references are learnt on each camera's clean
    # first half (the simulator's faults and dusk come later), at the demo's frame rate.
    env.setdefault("FRAMEGATE_DRIFT_WARMUP_FRAMES", str(max(100, frames_per_camera // 2)))
    env.setdefault("FRAMEGATE_DRIFT_FRAME_RATE", f"{fps:g}")
    return env


class Tally:
    def __init__(self) -> None:
        self.frames: Counter[str] = Counter()
        self.flagged: Counter[str] = Counter()
        self.checks: dict[str, Counter[str]] = defaultdict(Counter)
        self.relabel: Counter[str] = Counter()
        self.deadletter: Counter[str] = Counter()
        self.alerts: list[dict] = []
        #: camera -> what the simulator did to it, e.g. "blur, frames 25-36 (vtest.avi)"
        self.injected: dict[str, str] = {}

    def add(self, topic: str, message: dict) -> None:
        camera = message.get("camera_id") or "fleet"
        if topic == "quality":
            self.frames[camera] += 1
            if message["issues"]:
                self.flagged[camera] += 1
            for issue in message["issues"]:
                if issue.get("explained_by") is None:  # the causes, not their side effects
                    self.checks[camera][issue["check"]] += 1
        elif topic == "relabel":
            self.relabel[camera] += 1
        elif topic == "deadletter":
            self.deadletter[message["reason"]] += 1
        elif topic == "alerts":
            self.alerts.append(message)

    def summary(self) -> str:
        lines = [f"{'camera':<8} {'frames':>6} {'flagged':>7} {'relabel':>7}  causes"]
        for camera in sorted(self.frames):
            checks = ", ".join(f"{c} {n}" for c, n in self.checks[camera].most_common()) or "-"
            lines.append(
                f"{camera:<8} {self.frames[camera]:>6} {self.flagged[camera]:>7} "
                f"{self.relabel[camera]:>7}  {checks}"
            )
            if camera in self.injected:
                lines.append(f"{'':<34}injected: {self.injected[camera]}")
        dead = ", ".join(f"{r} {n}" for r, n in self.deadletter.items()) or "none"
        lines.append(f"dead letters: {dead}")
        resolved = {a["alert_id"] for a in self.alerts if a["status"] == "resolved"}
        firing = [a for a in self.alerts if a["status"] == "firing"]
        lines.append(f"alerts: {len(firing)} raised, {len(resolved)} of them resolved")
        for alert in firing[:20]:
            lines.append(
                f"  {alert['kind']:<13} {alert.get('camera_id') or 'fleet':<6} "
                f"{alert['metric']:<18} {alert.get('detail', '')}"
                + ("  (resolved)" if alert["alert_id"] in resolved else "")
            )
        return "\n".join(lines)


async def _collect(settings: Settings, tally: Tally, stop: asyncio.Event, bar: tqdm) -> None:
    consumer = reader(settings, *(settings.topic(t) for t in OUTPUTS))
    names = {settings.topic(t): t for t in OUTPUTS}
    await consumer.start()
    try:
        while not stop.is_set():
            for tp, records in (await consumer.getmany(timeout_ms=300)).items():
                for record in records:
                    tally.add(names[tp.topic], json.loads(record.value))
            bar.set_postfix(
                reports=sum(tally.frames.values()),
                flagged=sum(tally.flagged.values()),
                dead=sum(tally.deadletter.values()),
                alerts=len(tally.alerts),
            )
    finally:
        await consumer.stop()


async def _simulate(
    settings: Settings, *, duration: float, cameras: int, fps: float, tally: Tally
) -> None:
    total = int(duration * fps)
    simulated = fleet(cameras, frames_per_camera=total)
    for camera in simulated:
        plan = "; ".join(
            f"{e.fault}, frames {e.start}-{e.start + e.length - 1}" for e in camera.episodes
        )
        if camera.dusk is not None:
            dusk = camera.dusk
            plan = (
                f"dusk, light down to {dusk.floor:.0%} over frames "
                f"{dusk.start}-{dusk.start + dusk.ramp - 1}, then held"
            )
        tally.injected[camera.camera_id] = f"{plan or 'nothing'} ({camera.scene})"
    streams = [camera.stream() for camera in simulated]
    stop = asyncio.Event()
    start = datetime.now(tz=UTC)
    bar = tqdm(total=total * cameras, unit="frame", desc="fleet")
    collector = asyncio.create_task(_collect(settings, tally, stop, bar))
    topic = settings.topic("frames")
    began = time.monotonic()
    try:
        async with producer(settings) as client:
            for key, value in BAD_INPUTS:
                await client.send(topic, key=key, value=value)
            for step in range(total):
                for camera, stream in zip(simulated, streams, strict=True):
                    index, frame, fault = next(stream)
                    value = frame_message(
                        camera.camera_id,
                        index,
                        encode_jpeg(frame),
                        captured_at=start + timedelta(seconds=index / fps),
                        metadata={"scene": camera.scene, "injected": fault} if fault else None,
                    )
                    await client.send(topic, key=camera.camera_id.encode(), value=value)
                    bar.update(1)
                await asyncio.sleep(max(0.0, began + (step + 1) / fps - time.monotonic()))
        expected = total * cameras
        deadline = time.monotonic() + 30
        while sum(tally.frames.values()) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
    finally:
        stop.set()
        await collector
        bar.close()


def run_demo(settings: Settings, *, duration: float, cameras: int, fps: float) -> int:
    from framegate.streams.kafka.admin import ensure_topics

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = settings.data_dir / "demo-worker.log"
    tally = Tally()
    with broker_for(settings, announce=lambda line: click.echo(line, err=True)):
        asyncio.run(ensure_topics(settings))
        env = worker_env(settings, frames_per_camera=int(duration * fps), fps=fps)
        worker = spawn_worker(env, log)
        try:
            try:
                ready = wait_ready(worker, log)
            except WorkerNotReady as exc:
                raise click.ClickException(str(exc)) from exc
            click.echo(
                f"worker ready in {ready:.1f} s (log: {log}); "
                f"{cameras} cameras at {fps:g} frames/s for {duration:g} s"
            )
            try:
                asyncio.run(
                    _simulate(settings, duration=duration, cameras=cameras, fps=fps, tally=tally)
                )
            except KeyboardInterrupt:
                click.echo("\ninterrupted; summarising what arrived")
        finally:
            stop_process(worker)
    click.echo(tally.summary())
    return 0
