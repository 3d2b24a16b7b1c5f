"""Starting the Faust worker with every agent, table and view registered."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def load_modules() -> None:
    """Import the modules that register agents, tables and views on the app."""
    from streams import fleet_drift, gate, views  # noqa: F401  (views: dashboard, /metrics)


def run_worker(loglevel: str = "info") -> None:
    from faust.worker import Worker

    from streams.app import app

    load_modules()
    Worker(app, loglevel=loglevel, quiet=True).execute_from_commandline()
