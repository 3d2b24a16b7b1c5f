"""Child processes: a `framegate worker` started by the demo, the tests or a benchmark, and
stopping any child (worker or broker) politely, then firmly."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from framegate.schemas.errors import FramegateError

READY = "[^Worker]: Ready"  # what Faust logs once the worker consumes


class WorkerNotReady(FramegateError):
    """The worker exited or did not become ready in time. Operator: its log, quoted in the
    message, says why (often: no broker at FRAMEGATE_BOOTSTRAP_SERVERS)."""


def spawn_worker(env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`framegate worker` with ``env``, its output written to ``log`` (truncated first)."""
    with open(log, "wb") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "framegate", "worker", "-l", "info"],
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_ready(process: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> float:
    """Seconds until the worker logged that it is ready."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise WorkerNotReady(f"the worker exited; its log:\n{_tail(log)}")
        if READY in log.read_text(errors="replace"):
            return time.monotonic() - started
        time.sleep(0.05)
    raise WorkerNotReady(f"the worker was not ready in {timeout:.0f} s; its log:\n{_tail(log)}")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM (a worker then saves its cameras' state), and SIGKILL after ``timeout``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]
