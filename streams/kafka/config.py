"""Kafka client settings derived from framegate's: Faust's, and aiokafka's for framegate's own
clients, with the embedded broker's quirks kept apart."""

from __future__ import annotations

import ssl
from typing import Any

import faust

from framegate.schemas.settings import Settings

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
        # Fetched but unprocessed events per stream (Faust's default is 4096: 400 MB of
        # 100 KB frames under a backlog); a few batches keep the agent busy.
        "stream_buffer_maxsize": max(64, 4 * settings.batch_size),
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
