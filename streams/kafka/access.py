"""When Kafka says no: credentials it refuses, a certificate that is not trusted, a topic the
principal may not write to. Each becomes one :class:`KafkaAccessDenied` that says what to fix,
raised at once instead of after retries (aiokafka logs a refused login and then reports only
"Unable to bootstrap"), and never carrying a secret."""

from __future__ import annotations

import logging
import os
import ssl
import sys
from typing import Any

from aiokafka.conn import create_conn
from aiokafka.errors import (
    KafkaError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)
from faust.sensors import Sensor

from framegate.schemas.errors import FramegateError
from framegate.schemas.settings import Settings
from framegate.streams.kafka.config import bootstrap_servers, kafka_client_options

log = logging.getLogger(__name__)
EXIT_NOPERM = 77  # sysexits.h EX_NOPERM: the worker may not do what it must


class KafkaAccessDenied(FramegateError):
    """Kafka refused framegate: wrong credentials, an untrusted certificate, or an ACL that
    does not allow an operation. Operator: the message names the principal and the topic;
    fix ``FRAMEGATE_SASL_*`` / ``FRAMEGATE_SSL_*``, or grant the ACL it names."""


def _principal(settings: Settings) -> str:
    if settings.security_protocol.startswith("SASL"):
        return f"user {settings.sasl_username!r} ({settings.sasl_mechanism})"
    return f"a {settings.security_protocol} client"


async def refused(settings: Settings, timeout_s: float = 10.0) -> KafkaAccessDenied | None:
    """Why the first bootstrap server refuses these settings, or None when it accepts them or
    cannot be reached (a broker that is not up yet is worth waiting for; a refusal is not)."""
    server = bootstrap_servers(settings).split(",")[0].strip()
    host, _, port = server.rpartition(":")
    options: dict[str, Any] = kafka_client_options(settings)
    try:
        connection = await create_conn(
            host,
            int(port),
            request_timeout_ms=int(timeout_s * 1000),
            ssl_context=options.get("ssl_context"),
            security_protocol=settings.security_protocol,
            sasl_mechanism=options.get("sasl_mechanism"),
            sasl_plain_username=options.get("sasl_plain_username"),
            sasl_plain_password=options.get("sasl_plain_password"),
        )
    except SaslAuthenticationFailed as exc:
        return KafkaAccessDenied(
            f"Kafka at {server} refused the credentials of {_principal(settings)} over "
            f"{settings.security_protocol}: {exc}. Check FRAMEGATE_SASL_USERNAME, "
            "FRAMEGATE_SASL_PASSWORD and FRAMEGATE_SASL_MECHANISM."
        )
    except ssl.SSLError as exc:
        reason = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        return KafkaAccessDenied(
            f"TLS with Kafka at {server} failed: {reason}. FRAMEGATE_SSL_CAFILE must hold the "
            "certificate authority that signed the broker's certificate."
        )
    except (TimeoutError, OSError, KafkaError):
        return None
    connection.close()
    return None


class RefusedWrites(Sensor):
    """Ends the worker the first time Kafka refuses it a write. An output topic its principal
    may not write to would otherwise lose every message sent there, with only a warning.

    The exit is immediate (code 77, ``EX_NOPERM``): nothing more is consumed or committed, so
    once the ACL is fixed the frames since the last commit are processed again. (Faust's
    orderly stop can wait forever for a batch whose sends failed.)"""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings

    def on_send_initiated(self, producer: Any, topic: str, *args: Any, **kwargs: Any) -> str:
        return topic

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        if not isinstance(exc, TopicAuthorizationFailedError):
            return
        log.critical(
            "%s",
            KafkaAccessDenied(
                f"Kafka refused {_principal(self.settings)} a write to topic {state!r} "
                f"(TOPIC_AUTHORIZATION_FAILED). Grant that principal WRITE (and DESCRIBE) on "
                f"{state!r}. The worker exits now rather than drop what it publishes there."
            ),
        )
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(EXIT_NOPERM)
