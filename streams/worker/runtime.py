"""What a worker holds for its whole life: settings, policy, model, thread pools, references.

Nothing here is built at import. :func:`framegate.streams.app.create_app` makes one
:class:`Runtime` per app and starts it before the agents (a Faust/mode service dependency of
the app), so the first batch finds the model loaded; stopping the app shuts the pools down.
Tests and benchmarks use :meth:`Runtime.open` and :meth:`Runtime.close` without an app.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mode import Service

from framegate.detectors.drift import CameraReference, DriftConfig
from framegate.detectors.embedding import Embedder, lite0_weights_path
from framegate.detectors.gate import GateConfig
from framegate.detectors.policy import Policy
from framegate.schemas.settings import Settings
from framegate.streams.worker import references


def gate_config(settings: Settings) -> GateConfig:
    """The per-camera settings of the model-aware checks and the drift monitors."""
    return GateConfig(
        join_window_s=settings.join_window_s,
        relabel_per_hour=settings.relabel_per_hour,
        drift=DriftConfig(
            target_false_alarms_per_day=settings.drift_false_alarms_per_day,
            frame_rate=settings.drift_frame_rate,
            warmup_frames=settings.drift_warmup_frames,
        ),
    )


def build_embedder(settings: Settings) -> Embedder | None:
    """The configured embedder, loaded once per worker; ``none`` disables embedding checks."""
    if settings.embedder.lower() == "none":
        return None
    if settings.embedder == "efficientnet-lite0":
        return Embedder.default(lite0_weights_path().read_bytes(), device=settings.device)
    path = Path(settings.embedder)
    return Embedder.from_torchscript(path.read_bytes(), device=settings.device, name=path.stem)


def load_policy(settings: Settings) -> Policy:
    """The policy file's thresholds over the defaults (the defaults when none is set)."""
    if settings.policy_file is None:
        return Policy()
    return Policy.from_yaml(settings.policy_file.read_text(encoding="utf-8"))


class Runtime(Service):
    """A worker's settings and the heavy things built from them.

    Parameters
    ----------
    settings
        The worker's settings; read once.

    Attributes
    ----------
    policy, gate_config, references
        Thresholds, per-camera settings and calibrated drift references (file read at start).
    embedder
        The model, or None (``FRAMEGATE_EMBEDDER=none``).
    pool, batch_thread
        Decoding threads, and the one thread a batch runs on (off the event loop).
    """

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.gate_config = gate_config(settings)
        self.policy = Policy()
        self.references: dict[str, CameraReference] = {}
        self.embedder: Embedder | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._batch_thread: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            raise RuntimeError("the runtime is not open: call open() or start the app")
        return self._pool

    @property
    def batch_thread(self) -> ThreadPoolExecutor:
        if self._batch_thread is None:
            raise RuntimeError("the runtime is not open: call open() or start the app")
        return self._batch_thread

    def open(self) -> Runtime:
        """Read the policy and references, start the pools, load the model (blocking)."""
        settings = self.settings
        self.policy = load_policy(settings)
        if settings.drift_references is not None:
            self.references = references.load(settings.drift_references)
        self._pool = ThreadPoolExecutor(
            settings.decode_threads, thread_name_prefix="framegate-decode"
        )
        self._batch_thread = ThreadPoolExecutor(1, thread_name_prefix="framegate-batch")
        self.embedder = build_embedder(settings)
        return self

    def close(self) -> None:
        """Shut the pools down; a batch already running finishes first."""
        for pool in (self._pool, self._batch_thread):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._batch_thread = None
        self.embedder = None

    async def on_start(self) -> None:
        # Loading the model takes a second or two: not on the event loop.
        await asyncio.get_running_loop().run_in_executor(None, self.open)

    async def on_stop(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)
