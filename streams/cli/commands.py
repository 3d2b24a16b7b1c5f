"""The `framegate` command."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from contextlib import AbstractContextManager, suppress
from itertools import islice
from pathlib import Path

import click

from framegate.schemas.checks import SEVERITY_RANK
from framegate.schemas.settings import TOPIC_NAMES, Settings


def _settings() -> Settings:
    return Settings()


def broker_for(settings: Settings) -> AbstractContextManager[Settings]:
    """Settings pointing at a broker: the configured one, a running embedded one, or a new one."""
    from framegate.streams.kafka.broker import broker_for as ensure

    return ensure(settings, announce=lambda line: click.echo(line, err=True))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """framegate: a streaming quality gate for computer-vision camera fleets.

    Settings come from FRAMEGATE_* environment variables; with FRAMEGATE_BOOTSTRAP_SERVERS
    unset, commands use (or start) the embedded broker on 127.0.0.1:9092.
    """


@main.command()
@click.option(
    "--port",
    type=int,
    envvar="FRAMEGATE_EMBEDDED_PORT",
    default=Settings.model_fields["embedded_port"].default,
    show_default=True,
    help="Port to listen on (127.0.0.1 only).",
)
def broker(port: int) -> None:
    """Run the embedded Kafka-compatible broker (Tansu, memory only) until Ctrl-C."""
    from framegate.streams.kafka.broker import EmbeddedBroker

    with EmbeddedBroker(port) as running:
        click.echo(
            f"broker listening on {running.bootstrap_servers} (memory only); Ctrl-C stops it"
        )
        with suppress(KeyboardInterrupt):
            running.wait()


@main.command()
@click.option(
    "--loglevel",
    "-l",
    default="info",
    show_default=True,
    envvar="FRAMEGATE_LOGLEVEL",
    help="Log level of the worker.",
)
def worker(loglevel: str) -> None:
    """Run a Faust worker: check frames, score them, watch drift, publish what it finds."""
    settings = _settings()
    with broker_for(settings):
        from framegate.streams.kafka.admin import TopicMismatch, ensure_topics

        try:
            asyncio.run(ensure_topics(settings))
        except TopicMismatch as exc:
            raise click.ClickException(f"{exc}. {TopicMismatch.__doc__}") from exc
        from framegate.streams.app import run_worker

        run_worker(settings, loglevel)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--camera", default="cam-1", show_default=True, help="camera_id of the frames.")
@click.option(
    "--fps",
    default=0.0,
    show_default=True,
    help="Frames per second to publish at; 0 publishes as fast as possible.",
)
@click.option("--loop", "loops", default=1, show_default=True, help="Times to replay the input.")
def replay(paths: tuple[Path, ...], camera: str, fps: float, loops: int) -> None:
    """Publish image files, folders of images, or video files as one camera's frames."""
    from tqdm import tqdm

    from framegate.streams.cli.replay import replay as publish
    from framegate.streams.media import count_frames, expand

    settings = _settings()
    files = expand(list(paths))
    total = count_frames(files) * loops

    async def run() -> None:
        started = time.monotonic()
        with tqdm(total=total, unit="frame", desc=f"replay {camera}") as bar:
            for _ in range(loops):
                async for index in publish(
                    files, settings, camera_id=camera, fps=fps, start_index=bar.n
                ):
                    bar.update(1)
                    if fps > 0:
                        await asyncio.sleep(
                            max(0.0, started + (index + 1) / fps - time.monotonic())
                        )

    with broker_for(settings):
        asyncio.run(run())


@main.command()
@click.argument("topic", type=click.Choice(TOPIC_NAMES, case_sensitive=False))
@click.option(
    "--from-beginning/--latest",
    default=True,
    show_default=True,
    help="Start at the oldest message, or only show new ones.",
)
@click.option(
    "--follow/--no-follow",
    "-f",
    default=False,
    show_default=True,
    help="Keep waiting for new messages.",
)
@click.option("--camera", help="Only this camera.")
@click.option("--check", help="Only messages with this check (quality, relabel).")
@click.option(
    "--severity",
    type=click.Choice(list(SEVERITY_RANK)),
    help="Only messages at or above this severity.",
)
@click.option("--json", "as_json", is_flag=True, help="Print raw JSON, one message a line.")
@click.option("--limit", type=int, default=0, help="Stop after this many messages (0: no limit).")
def tail(
    topic: str,
    from_beginning: bool,
    follow: bool,
    camera: str | None,
    check: str | None,
    severity: str | None,
    as_json: bool,
    limit: int,
) -> None:
    """Pretty-print a framegate topic: frames, predictions, quality, relabel, alerts, deadletter."""
    from framegate.streams.cli.tail import Filters, tail_topic

    settings = _settings()
    filters = Filters(camera=camera, check=check, severity=severity)
    with suppress(KeyboardInterrupt):
        asyncio.run(
            tail_topic(
                settings,
                topic,
                filters,
                from_beginning=from_beginning,
                follow=follow,
                as_json=as_json,
                limit=limit,
            )
        )


@main.command()
@click.option(
    "--backfill",
    type=int,
    default=2000,
    show_default=True,
    help="Latest quality reports to read per partition.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the overview as JSON.")
def status(backfill: int, as_json: bool) -> None:
    """Summarise the fleet from the output topics: cameras, frames/s, issues, open alerts."""
    from framegate.streams.cli.status import collect, render

    view = asyncio.run(collect(_settings(), backfill=backfill))
    click.echo(json.dumps(view.overview(), indent=2) if as_json else render(view.overview()))


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder to write one <message>.schema.json per message; default: print all.",
)
def schema(out: Path | None) -> None:
    """Write the JSON Schema of every message framegate reads or writes."""
    from framegate.schemas.jsonschema import all_schemas

    documents = all_schemas()
    if out is None:
        click.echo(json.dumps(documents, indent=2))
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, document in documents.items():
        (out / f"{name}.schema.json").write_text(json.dumps(document, indent=2) + "\n")
    click.echo(f"wrote {len(documents)} schemas to {out}")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.option("--camera", help="camera_id of PATHS (required with PATHS).")
@click.option(
    "--frames",
    "limit",
    default=3000,
    show_default=True,
    help="Clean frames per camera to learn from (from the start of the frames topic).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("drift-references.json"),
    show_default=True,
    help="References file; point FRAMEGATE_DRIFT_REFERENCES at it.",
)
def calibrate(paths: tuple[Path, ...], camera: str | None, limit: int, out: Path) -> None:
    """Learn each camera's drift reference from a clean period, at the false-alarm budget."""
    from framegate.streams.cli import calibrate as calibration
    from framegate.streams.media import count_frames, encoded_frames, expand
    from framegate.streams.worker import references
    from framegate.streams.worker.runtime import gate_config

    settings = _settings()
    if paths:
        if not camera:
            raise click.UsageError("--camera names the camera whose frames PATHS are")
        files = expand(list(paths))
        total = min(count_frames(files), limit)
        frames = ((camera, data) for data, _ in islice(encoded_frames(files), limit))
    else:
        with broker_for(settings):
            found = asyncio.run(calibration.frames_on_topic(settings, limit))
        total, frames = len(found), calibration.inline(found, settings)
    series = calibration.series_of(frames, settings, total)
    if not series:
        raise click.ClickException("no readable frames to learn from")
    found = calibration.references(series, gate_config(settings).drift)
    references.write(out, found)
    for camera_id, reference in sorted(found.items()):
        click.echo(
            f"{camera_id}: {reference.frames} frames, {len(reference.metrics)} statistics, "
            f"{reference.in_sample_alarms} alarms replaying the clean period"
        )
    click.echo(f"wrote {out}; set FRAMEGATE_DRIFT_REFERENCES={out} for the workers")


@main.command()
@click.option(
    "--duration",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to run before summarising; Ctrl-C ends it sooner.",
)
@click.option("--cameras", type=int, default=4, show_default=True, help="Simulated cameras (>= 3).")
@click.option(
    "--fps", type=float, default=5.0, show_default=True, help="Frames per second per camera."
)
def demo(duration: float, cameras: int, fps: float) -> None:
    """Broker, worker and a simulated camera fleet on real images with faults; then a summary."""
    from framegate.streams.cli.demo import run_demo

    if cameras < 3:
        raise click.BadParameter("the demo needs at least 3 cameras", param_hint="--cameras")
    sys.exit(run_demo(_settings(), duration=duration, cameras=cameras, fps=fps))


if __name__ == "__main__":
    main()


def _send_action(**fields: object) -> str:
    """Sends one action to the control topic (keyed by camera); returns its action_id."""
    import getpass
    import uuid
    from datetime import UTC, datetime

    from framegate.schemas.actions import Action
    from framegate.streams.kafka.clients import producer as make_producer

    action = Action(
        action_id=str(uuid.uuid4()),
        requested_at=datetime.now(tz=UTC),
        actor=f"cli:{getpass.getuser()}",
        **fields,  # type: ignore[arg-type]
    )

    async def send(settings: Settings) -> None:
        producer = make_producer(settings)
        await producer.start()
        try:
            await producer.send_and_wait(
                settings.topic("control"),
                key=action.camera_id.encode(),
                value=action.model_dump_json().encode(),
            )
        finally:
            await producer.stop()

    with broker_for(_settings()) as settings:
        asyncio.run(send(settings))
    return action.action_id


@main.command()
@click.argument("camera")
@click.option("--metric", help="Only this drift statistic (scene references are kept).")
@click.option("--note", default="", help="Why, for the audit trail.")
def rebaseline(camera: str, metric: str | None, note: str) -> None:
    """Declare CAMERA's present state its new normal (after maintenance, a move, a new lens).

    The worker that owns the camera restarts its drift references (and its scene references
    unless --metric is given) and publishes an audit record on the audit topic
    (`framegate tail audit`).
    """
    action_id = _send_action(kind="rebaseline", camera_id=camera, metric=metric, note=note)
    click.echo(f"re-baseline of {camera} requested (action {action_id})")


@main.command()
@click.argument("camera")
@click.argument("check")
@click.option("--for", "duration", type=float, default=3600.0, show_default=True, help="Seconds.")
@click.option("--note", default="", help="Why, for the audit trail.")
def mute(camera: str, check: str, duration: float, note: str) -> None:
    """Stop CHECK's alerts on CAMERA for a time (resolutions are still sent)."""
    action_id = _send_action(
        kind="mute", camera_id=camera, check=check, duration_s=duration, note=note
    )
    click.echo(f"{check} on {camera} muted for {duration:g} s (action {action_id})")


@main.command()
@click.argument("camera")
@click.argument("alert_id")
def ack(camera: str, alert_id: str) -> None:
    """Acknowledge ALERT_ID of CAMERA: it stops showing as new and is not sent again."""
    action_id = _send_action(kind="acknowledge", camera_id=camera, alert_id=alert_id)
    click.echo(f"alert {alert_id} acknowledged (action {action_id})")
