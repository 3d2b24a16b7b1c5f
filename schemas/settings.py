"""framegate's settings: environment variables prefixed ``FRAMEGATE_``, every one with a default."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

TOPIC_NAMES = (
    "frames",
    "predictions",
    "quality",
    "relabel",
    "alerts",
    "deadletter",
    "control",
    "audit",
)
INTERNAL_TOPIC_NAMES = ("fleet",)


class Settings(BaseSettings):
    """Read once at start-up. ``FRAMEGATE_BOOTSTRAP_SERVERS`` unset means the embedded broker."""

    model_config = SettingsConfigDict(env_prefix="FRAMEGATE_", frozen=True, extra="ignore")

    # Kafka
    bootstrap_servers: str | None = Field(
        default=None, description="Kafka bootstrap servers; unset: use or start the embedded broker"
    )
    embedded_port: int = Field(default=9092, description="port of the embedded broker")
    broker_flavor: Literal["auto", "kafka", "tansu"] = Field(
        default="auto", description="auto: Tansu when bootstrap_servers is unset, Kafka otherwise"
    )
    topic_prefix: str = "framegate."
    partitions: int = Field(default=4, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    consumer_group: str = "framegate"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    max_message_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="largest frame message produced or fetched"
    )

    # input safety
    max_pixels: int = Field(default=40_000_000, ge=1, description="decompression-bomb limit")
    uri_schemes: tuple[str, ...] = Field(
        default=("file",), description="URI schemes frames may reference; only file:// is built in"
    )
    file_root: Path | None = Field(
        default=None,
        description="file:// URIs must resolve inside this folder; unset: none allowed",
    )
    deadletter_payload_bytes: int = Field(default=64 * 1024, ge=0)
    max_json_depth: int = Field(default=32, ge=2, description="nesting of an input message")
    max_list_items: int = Field(
        default=1000, ge=1, description="items of any list or object (annotations, detections)"
    )
    max_string_chars: int = Field(
        default=4096, ge=64, description="characters of any string but the inline image"
    )
    max_cameras: int = Field(
        default=2000, ge=1, description="cameras one worker tracks; new ones beyond are refused"
    )
    max_live_cameras: int = Field(
        default=500, ge=1, description="cameras kept in memory; the idlest wait in the table"
    )

    # worker
    data_dir: Path = Path("framegate-data")
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    web_token: SecretStr | None = None
    policy_file: Path | None = None
    decode_threads: int = Field(default=2, ge=1)
    batch_size: int = Field(default=32, ge=1, description="frames per batch (stream.take)")
    state_flush_s: float = Field(
        default=5.0, ge=0, description="longest time a camera's state waits for its changelog"
    )
    embedder: str = Field(
        default="efficientnet-lite0",
        description="efficientnet-lite0 (built in), a path to a TorchScript model, or none",
    )
    device: str | None = Field(default=None, description="torch device; unset: cuda if present")
    join_window_s: float = Field(default=10.0, gt=0, description="frame/prediction join window")
    relabel_per_hour: float = Field(default=120.0, gt=0, description="relabel budget per camera")
    drift_false_alarms_per_day: float = Field(default=0.5, gt=0, description="per camera")
    drift_frame_rate: float | None = Field(
        default=None,
        gt=0,
        description="frames/s per camera (sets the thresholds); unset: each camera's own, "
        "estimated from captured_at",
    )
    drift_warmup_frames: int = Field(
        default=300,
        ge=100,
        description="frames a camera's statistic is learnt before it is watched; its reference "
        "then keeps growing (self-starting)",
    )
    drift_references: Path | None = Field(
        default=None, description="references file from `framegate calibrate`"
    )
    batch_within_s: float = Field(default=0.05, gt=0, description="longest wait to fill a batch")
    liveness_offline_intervals: float = Field(
        default=5.0, gt=1, description="silence, in the camera's usual intervals, before offline"
    )
    liveness_offline_min_s: float = Field(
        default=60.0, gt=0, description="shortest silence that makes a camera offline"
    )
    liveness_lag_s: float = Field(
        default=60.0, gt=0, description="delay beyond the camera's usual one that is lagging"
    )
    liveness_lag_frames: int = Field(
        default=5, ge=1, description="late frames in a row before camera_lagging fires"
    )
    webhook_url: str | None = Field(
        default=None, description="POST every alert as JSON here (unset: no webhook)"
    )

    def topic(self, name: str) -> str:
        if name not in TOPIC_NAMES + INTERNAL_TOPIC_NAMES:
            known = ", ".join(TOPIC_NAMES + INTERNAL_TOPIC_NAMES)
            raise ValueError(f"unknown topic {name!r}; known: {known}")
        return f"{self.topic_prefix}{name}"
