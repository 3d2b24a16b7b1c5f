"""Apache Kafka's jars, from Maven: the version pinned in ``pom.xml`` beside this file, the
classpath Maven resolves for it (``mvn dependency:build-classpath``; the jars stay in Maven's
local repository, the classpath is cached under ``~/.cache/framegate``), and Kafka's own
command-line tools run from it."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

POM = Path(__file__).with_name("pom.xml")
CACHE = Path(
    os.environ.get("FRAMEGATE_KAFKA_CACHE", Path.home() / ".cache" / "framegate" / "apache-kafka")
)


class KafkaUnavailable(RuntimeError):
    """Apache Kafka cannot be run here (no Java 17+, no Maven, or Maven could not resolve the
    jars). The message says which, and what to install."""


class KafkaToolError(RuntimeError):
    """A Kafka command-line tool failed; the message quotes its output."""


def kafka_version() -> str:
    """The Apache Kafka version pinned in ``pom.xml``."""
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    found = ET.parse(POM).getroot().find("m:properties/m:kafka.version", namespace)
    assert found is not None and found.text, "pom.xml has no kafka.version property"
    return found.text.strip()


def missing_tools() -> str | None:
    """Why Apache Kafka cannot run on this machine, or None when Java 17+ and Maven are here."""
    java, mvn = shutil.which("java"), shutil.which("mvn")
    if java is None or mvn is None:
        absent = " and ".join(name for name, path in (("java", java), ("mvn", mvn)) if not path)
        return (
            f"Apache Kafka tests need Java 17+ and Maven; {absent} not found on PATH "
            "(Debian: apt-get install openjdk-17-jdk-headless maven)"
        )
    version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', version)
    if match is None or int(match.group(1)) < 17:
        return f"Apache Kafka {kafka_version()} needs Java 17+; found: {version.splitlines()[:1]}"
    return None


def classpath(*, timeout: float = 600.0) -> str:
    """The broker's classpath: the jars Maven resolved for ``pom.xml`` (downloaded on first use,
    then read from ``~/.m2``). Raises :class:`KafkaUnavailable` when Maven cannot."""
    reason = missing_tools()
    if reason:
        raise KafkaUnavailable(reason)
    key = hashlib.sha256(POM.read_bytes()).hexdigest()[:16]
    cached = CACHE / f"classpath-{key}.txt"
    if cached.exists():
        jars = cached.read_text().strip()
        if all(Path(jar).exists() for jar in jars.split(os.pathsep)):
            return jars
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    command = [
        "mvn",
        "--batch-mode",
        "--quiet",
        "--file",
        str(POM),
        "dependency:build-classpath",
        f"-Dmdep.outputFile={partial}",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise KafkaUnavailable(f"Maven did not resolve Apache Kafka in {timeout:.0f} s") from exc
    if result.returncode != 0 or not partial.exists():
        output = (result.stdout + result.stderr)[-2000:]
        raise KafkaUnavailable(f"Maven could not resolve Apache Kafka {kafka_version()}:\n{output}")
    partial.replace(cached)
    return cached.read_text().strip()


def java(main: str, *args: str, cp: str, **run: Any) -> subprocess.CompletedProcess[str]:
    """Run a Kafka command-line tool (``kafka.tools.StorageTool``, ``...AclCommand``)."""
    command = ["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", cp, main, *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, **run)
    if result.returncode != 0:
        raise KafkaToolError(f"{main} {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result
