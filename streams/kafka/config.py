"""Faust's settings, derived from framegate's, with the embedded broker's quirks kept apart."""

from __future__ import annotations

import ssl
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer

from detectors.camera_gate import GateConfig
from detectors.drift import DriftConfig
from detectors.embedding import Embedder
from schemas.settings import Settings

EMBEDDED_HOST = "127.0.0.1"


def bootstrap_servers(settings: Settings) -> str:
    return settings.bootstrap_servers or f"{EMBEDDED_HOST}:{settings.embedded_port}"


def on_embedded_broker(settings: Settings) -> bool:
    return settings.broker_flavor == "tansu" or (
        settings.broker_flavor == "auto" and settings.bootstrap_servers is None
    )


def _ssl_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context(
        cafile=str(settings.ssl_cafile) if settings.ssl_cafile else None
    )
    if settings.ssl_certfile:
        context.load_cert_chain(
            str(settings.ssl_certfile),
            str(settings.ssl_keyfile) if settings.ssl_keyfile else None,
        )
    return context


def credentials(settings: Settings) -> Any:
    """aiokafka security settings, as Faust passes them through."""
    protocol = settings.security_protocol
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return faust.SSLCredentials(_ssl_context(settings))
    password = settings.sasl_password.get_secret_value() if settings.sasl_password else ""
    return faust.SASLCredentials(
        username=settings.sasl_username or "",
        password=password,
        mechanism=settings.sasl_mechanism,
        ssl_context=_ssl_context(settings) if protocol == "SASL_SSL" else None,
    )


def faust_settings(settings: Settings) -> dict[str, Any]:
    servers = [f"kafka://{server.strip()}" for server in bootstrap_servers(settings).split(",")]
    conf: dict[str, Any] = {
        "broker": servers,
        "broker_credentials": credentials(settings),
        "store": "memory://",
        "datadir": str(settings.data_dir),
        "topic_partitions": settings.partitions,
        "topic_replication_factor": settings.replication_factor,
        "topic_allow_declare": True,
        "producer_max_request_size": settings.max_message_bytes,
        "consumer_max_fetch_size": settings.max_message_bytes,
        "consumer_auto_offset_reset": "earliest",
        "processing_guarantee": "at_least_once",
        "web_enabled": True,
        "web_bind": settings.web_host,
        "web_host": settings.web_host,
        "web_port": settings.web_port,
        "stream_recovery_delay": 0.0,
        "table_cleanup_interval": 60.0,
    }
    if on_embedded_broker(settings):
        conf.update(
            # Tansu's group join waits about half the session timeout before answering.
            broker_session_timeout=6.0,
            broker_heartbeat_interval=1.0,
            broker_rebalance_timeout=6.0,
            # Tansu's ListOffsets "latest" can be below the committed offset of a changelog;
            # Faust's recovery would then refuse to start.
            recovery_consistency_check=False,
        )
    return conf


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """Security options for framegate's own aiokafka clients (admin, producer, consumer)."""
    options: dict[str, Any] = {"security_protocol": settings.security_protocol}
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = _ssl_context(settings)
    if settings.security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = (
            settings.sasl_password.get_secret_value() if settings.sasl_password else None
        )
    return options


def reader(settings: Settings, *topics: str, **overrides: Any) -> AIOKafkaConsumer:
    """A consumer without a group that commits nothing, from the earliest offset: how
    framegate's own tools read its topics (dashboard feed, tail, calibrate, demo)."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(settings),
        "group_id": None,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_bytes": settings.max_message_bytes,
        "max_partition_fetch_bytes": settings.max_message_bytes,
        **kafka_client_options(settings),
    }
    return AIOKafkaConsumer(*topics, **{**options, **overrides})


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
        return Embedder.default(device=settings.device)
    return Embedder.from_torchscript(settings.embedder, device=settings.device)
