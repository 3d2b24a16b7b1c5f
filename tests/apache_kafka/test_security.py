"""framegate against a SASL_SSL listener: SCRAM-SHA-512 and PLAIN over TLS, a CA and broker
certificate made by the test, ACLs on. The worker and the tools work with the settings; a
wrong password or an untrusted certificate fails at once and says why; a principal that may
not write an output topic stops the worker naming that topic; no secret is ever printed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.apache_kafka.cluster import KafkaCluster
from tests.apache_kafka.frames import dark_frames, dark_jpeg
from tests.apache_kafka.security import Security, make_tls
from tests.apache_kafka.workers import collect, framegate_env, publish, settings_of

PASSWORDS = {"alice": "alice-Scram-512!", "carol": "carol-Plain-pw", "bob": "bob-Scram-512?"}
WRONG = "not-alices-password-7"


@pytest.fixture(scope="module")
def secure(kafka_classpath: str, tmp_path_factory: pytest.TempPathFactory):
    directory: Path = tmp_path_factory.mktemp("kafka-sasl")
    tls = make_tls(directory / "tls")
    security = Security(
        keystore=tls.keystore,
        truststore=tls.ca,
        scram_users={"alice": PASSWORDS["alice"], "bob": PASSWORDS["bob"]},
        plain_users={"carol": PASSWORDS["carol"]},
    )
    with KafkaCluster(directory / "kafka", security=security, cp=kafka_classpath) as cluster:
        prefixed = ("--resource-pattern-type", "prefixed")
        # alice runs workers on sec.* (and Faust's framegate-sec* topics and group).
        cluster.acl(
            "--add", "--allow-principal", "User:alice", "--operation", "All", *prefixed,
            "--topic", "sec.", "--topic", "framegate-sec", "--group", "framegate-sec",
        )  # fmt: skip
        # carol publishes frames and reads what comes out; no group (the tools use none).
        cluster.acl(
            "--add", "--allow-principal", "User:carol", *prefixed, "--topic", "sec.",
            "--operation", "Read", "--operation", "Write", "--operation", "Describe",
        )  # fmt: skip
        # bob may do everything on nowrite.* but write nowrite.relabel.
        cluster.acl(
            "--add", "--allow-principal", "User:bob", "--operation", "All", *prefixed,
            "--topic", "nowrite.", "--topic", "framegate-nowrite", "--group",
            "framegate-nowrite",
        )  # fmt: skip
        cluster.acl(
            "--add", "--deny-principal", "User:bob", "--operation", "Write",
            "--topic", "nowrite.relabel",
        )  # fmt: skip
        yield cluster, tls.ca


def _as(user: str, ca: Path, **overrides) -> dict:
    """FRAMEGATE_ security settings of ``user``: carol logs in with PLAIN, the others with
    SCRAM-SHA-512, all over TLS."""
    return {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "PLAIN" if user == "carol" else "SCRAM-SHA-512",
        "sasl_username": user,
        "sasl_password": PASSWORDS[user],
        "ssl_cafile": str(ca),
        **overrides,
    }


def _env(cluster: KafkaCluster, ca: Path, user: str, prefix: str, **overrides) -> dict:
    return framegate_env(cluster.bootstrap_servers, prefix, **_as(user, ca, **overrides))


def _framegate(env: dict, *arguments: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "framegate", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (*PASSWORDS.values(), WRONG):
            assert secret not in text, "a password was printed"


def test_worker_replay_tail_and_status_work_over_sasl_ssl(secure, worker_factory, tmp_path):
    cluster, ca = secure
    env = _env(cluster, ca, "alice", "sec.")
    worker = worker_factory(cluster.bootstrap_servers, "sec.", **_as("alice", ca)).start()

    folder = tmp_path / "door"
    folder.mkdir()
    for index in range(3):
        (folder / f"{index}.jpg").write_bytes(dark_jpeg(500 + index))
    as_carol = _env(cluster, ca, "carol", "sec.")  # PLAIN over TLS
    replay = _framegate(as_carol, "replay", str(folder), "--camera", "door")
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert "3/3" in replay.stderr

    reports = collect(settings_of(as_carol), "quality", count=3, timeout=60)
    assert sorted(r["frame_id"] for r in reports) == [f"door:00000{i}" for i in range(3)]
    tail = _framegate(as_carol, "tail", "relabel", "--json")
    assert tail.returncode == 0, tail.stderr[-3000:]
    requests = [json.loads(line) for line in tail.stdout.splitlines()]
    assert {r["frame_id"] for r in requests} == {f"door:00000{i}" for i in range(3)}
    status = _framegate(env, "status", "--json")  # SCRAM-SHA-512
    assert status.returncode == 0, status.stderr[-3000:]
    overview = json.loads(status.stdout)
    assert overview["fleet"]["frames_total"] == 3
    assert [c["camera_id"] for c in overview["cameras"]] == ["door"]

    worker.stop()
    _no_secret(
        worker.log.read_text(),
        replay.stdout,
        replay.stderr,
        tail.stderr,
        status.stdout,
        status.stderr,
    )


@pytest.mark.parametrize(
    ("user", "command"),
    [
        ("alice", ("worker",)),
        ("carol", ("replay", "{folder}", "--camera", "door")),
        ("alice", ("tail", "quality")),
        ("carol", ("status",)),
    ],
    ids=["worker-scram", "replay-plain", "tail-scram", "status-plain"],
)
def test_a_wrong_password_fails_at_once_and_says_so(secure, tmp_path, user, command):
    cluster, ca = secure
    (tmp_path / "0.jpg").write_bytes(dark_jpeg(0))
    env = _env(cluster, ca, user, "sec.", sasl_password=WRONG)
    started = time.monotonic()
    result = _framegate(env, *(part.format(folder=tmp_path) for part in command), timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert f"refused the credentials of user '{user}'" in result.stderr, result.stderr[-3000:]
    assert "FRAMEGATE_SASL_PASSWORD" in result.stderr
    assert elapsed < 20, f"took {elapsed:.1f} s"
    _no_secret(result.stdout, result.stderr)


def test_an_untrusted_broker_certificate_fails_at_once_and_says_so(secure, tmp_path):
    cluster, _ = secure
    other = make_tls(tmp_path / "other")  # a CA that did not sign the broker's certificate
    env = _env(cluster, other.ca, "alice", "sec.")
    result = _framegate(env, "status", timeout=60)
    assert result.returncode != 0
    assert "TLS with Kafka" in result.stderr and "FRAMEGATE_SSL_CAFILE" in result.stderr
    _no_secret(result.stdout, result.stderr)


def test_a_principal_that_may_not_write_an_output_topic_stops_the_worker(secure, worker_factory):
    cluster, ca = secure
    worker = worker_factory(cluster.bootstrap_servers, "nowrite.", **_as("bob", ca)).start()
    messages = dark_frames(["cam-n"], range(3))  # dark: each asks for a relabel
    publish(worker.settings, "frames", messages)
    assert worker.process is not None
    code = worker.process.wait(timeout=60)
    log = worker.log.read_text()
    assert code == 77, log[-4000:]  # EX_NOPERM
    assert "a write to topic 'nowrite.relabel'" in log, log[-4000:]
    assert "Grant that principal WRITE" in log
    # Only that topic was refused: the reports went out.
    assert collect(worker.settings, "quality", count=1, timeout=30)
    _no_secret(log)
