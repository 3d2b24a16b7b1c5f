"""The Faust app: built by :func:`create_app` from settings, never at import.

One call wires one worker: the :class:`~framegate.streams.worker.runtime.Runtime` (model,
pools, policy, references), the topics and tables, the gate and fleet agents, the metrics and
the operators' web view. Two calls give two independent apps (tests do this).
"""

from __future__ import annotations

from dataclasses import dataclass

import faust

from framegate.schemas.settings import Settings
from framegate.streams.kafka.access import RefusedWrites
from framegate.streams.kafka.config import faust_settings, on_embedded_broker
from framegate.streams.kafka.consumer import AtLeastOnceConsumer
from framegate.streams.web.views import Web
from framegate.streams.worker.fleet import FleetAgent
from framegate.streams.worker.gate import GateAgent
from framegate.streams.worker.metrics import LagCollector, Metrics
from framegate.streams.worker.outputs import Outputs
from framegate.streams.worker.runtime import Runtime
from framegate.streams.worker.tables import Tables
from framegate.streams.worker.topics import Topics


@dataclass(frozen=True)
class Worker:
    """Everything :func:`create_app` built, for tests and tools that need the parts."""

    app: faust.App
    runtime: Runtime
    topics: Topics
    tables: Tables
    metrics: Metrics
    gate: GateAgent
    fleet: FleetAgent
    web: Web


def create_app(settings: Settings | None = None) -> Worker:
    """A Faust app with every agent, table, timer and page of a framegate worker."""
    settings = settings or Settings()
    app = faust.App(settings.consumer_group, autodiscover=False, **faust_settings(settings))
    # Faust's own consumer can drop records fetched again around a rebalance, unreported
    # (:mod:`.kafka.consumer`).
    app.transport.Consumer = AtLeastOnceConsumer
    # A write Kafka refuses (an ACL) ends the worker with the topic named, not a warning.
    app.sensors.add(RefusedWrites(settings))
    runtime = Runtime(settings)
    # A dependency added before the app starts is started before the app's own (consumer,
    # agents): the first batch finds the model loaded.
    app.add_dependency(runtime)
    topics = Topics.declare(app, settings)
    tables = Tables.declare(app, settings)
    metrics = Metrics()
    if not on_embedded_broker(settings):
        # Tansu's end offsets can be wrong; there the gauge would lie, so it is not exported.
        metrics.watch_lag(
            LagCollector(
                lambda: app.monitor.tp_read_offsets,
                lambda: app.monitor.tp_end_offsets,
                topics={settings.topic("frames"), settings.topic("predictions")},
            )
        )
    outputs = Outputs(topics, metrics, settings)
    gate = GateAgent(runtime, topics, outputs, metrics, tables.camera_state, *tables.operators())
    fleet = FleetAgent(settings, topics, outputs, tables.fleet_state)
    web = Web(settings, metrics, actions=topics.control)
    for part in (gate, fleet, web):
        part.install(app)
    return Worker(app, runtime, topics, tables, metrics, gate, fleet, web)


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Run one worker until it is stopped (SIGTERM or Ctrl-C save every camera's state)."""
    from faust.worker import Worker as FaustWorker

    FaustWorker(create_app(settings).app, loglevel=loglevel, quiet=True).execute_from_commandline()
