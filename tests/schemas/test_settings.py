"""Settings: FRAMEGATE_ environment variables over defaults that need no configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from framegate.schemas.settings import INTERNAL_TOPIC_NAMES, TOPIC_NAMES, Settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("FRAMEGATE_"):
            monkeypatch.delenv(name)


def test_defaults_need_no_environment() -> None:
    s = Settings()
    assert s.bootstrap_servers is None  # the embedded broker
    assert s.broker_flavor == "auto"
    assert s.topic_prefix == "framegate."
    assert s.security_protocol == "PLAINTEXT"
    assert s.uri_schemes == ("file",) and s.file_root is None
    assert s.max_pixels >= 10_000_000
    assert s.sasl_password is None and s.web_token is None


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("FRAMEGATE_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092", "bootstrap_servers", None),
        ("FRAMEGATE_PARTITIONS", "12", "partitions", 12),
        ("FRAMEGATE_MAX_PIXELS", "1000000", "max_pixels", 1_000_000),
        ("FRAMEGATE_JOIN_WINDOW_S", "2.5", "join_window_s", 2.5),
        ("FRAMEGATE_BROKER_FLAVOR", "kafka", "broker_flavor", "kafka"),
        ("FRAMEGATE_FILE_ROOT", "/srv/frames", "file_root", Path("/srv/frames")),
        ("FRAMEGATE_URI_SCHEMES", '["file", "s3"]', "uri_schemes", ("file", "s3")),
        ("framegate_partitions", "7", "partitions", 7),
    ],
    ids=["servers", "int", "max-pixels", "float", "literal", "path", "tuple-as-json", "lowercase"],
)
def test_environment_variables_override_defaults(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: object
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(Settings(), field) == (value if expected is None else expected)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FRAMEGATE_PARTITIONS", "0"),
        ("FRAMEGATE_PARTITIONS", "many"),
        ("FRAMEGATE_BROKER_FLAVOR", "redpanda"),
        ("FRAMEGATE_SECURITY_PROTOCOL", "TLS"),
        ("FRAMEGATE_MAX_MESSAGE_BYTES", "100"),
        ("FRAMEGATE_JOIN_WINDOW_S", "0"),
        ("FRAMEGATE_DRIFT_WARMUP_FRAMES", "10"),
    ],
    ids=[
        "zero-partitions",
        "not-a-number",
        "unknown-flavor",
        "unknown-protocol",
        "tiny-messages",
        "empty-window",
        "short-warmup",
    ],
)
def test_invalid_values_fail_at_start_up(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError):
        Settings()


def test_unrelated_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTITIONS", "99")
    monkeypatch.setenv("FRAMEGATE_NO_SUCH_SETTING", "x")
    assert Settings().partitions == 4


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(ValidationError):
        s.partitions = 8


def test_secrets_are_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAMEGATE_SASL_PASSWORD", "hunter2")
    monkeypatch.setenv("FRAMEGATE_WEB_TOKEN", "t0ken")
    s = Settings()
    assert "hunter2" not in repr(s) and "t0ken" not in repr(s)
    assert "hunter2" not in s.model_dump_json()
    assert s.sasl_password.get_secret_value() == "hunter2"
    assert s.web_token.get_secret_value() == "t0ken"


@pytest.mark.parametrize("name", TOPIC_NAMES + INTERNAL_TOPIC_NAMES, ids=str)
def test_topic_names_carry_the_prefix(name: str) -> None:
    assert Settings().topic(name) == f"framegate.{name}"
    assert Settings(topic_prefix="site-a.").topic(name) == f"site-a.{name}"


def test_unknown_topic_is_refused_with_the_known_names() -> None:
    with pytest.raises(ValueError, match="unknown topic 'frame'") as caught:
        Settings().topic("frame")
    for name in TOPIC_NAMES:
        assert name in str(caught.value)


def test_public_topics_are_the_design_contract() -> None:
    assert TOPIC_NAMES == (
        "frames",
        "predictions",
        "quality",
        "relabel",
        "alerts",
        "deadletter",
        "control",
        "audit",
    )
    assert not set(INTERNAL_TOPIC_NAMES) & set(TOPIC_NAMES)
