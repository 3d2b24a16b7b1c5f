"""Prometheus metrics: conventional names, the helpers the agents call, the lag gauge."""

from __future__ import annotations

from collections import namedtuple
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from framegate.schemas import Alert, DeadLetter
from framegate.streams.worker.metrics import LagCollector, Metrics
from tests.factories import T0
from tests.streams.factories import DARK, report, request

TP = namedtuple("TP", "topic partition")


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_exposition_uses_conventional_names():
    metrics = Metrics()
    names = {
        family.name for family in text_string_to_metric_families(metrics.exposition().decode())
    }
    assert {
        "framegate_frames_processed",
        "framegate_issues",
        "framegate_relabel_requests",
        "framegate_alerts",
        "framegate_deadletter",
        "framegate_processing_latency_seconds",
        "framegate_batch_size",
    } <= names


def test_helpers_count_what_was_sent():
    metrics = Metrics()
    before = {
        "frames": value(metrics, "framegate_frames_processed_total", camera="cam-m"),
        "dark": value(metrics, "framegate_issues_total", check="dark", severity="critical"),
        "relabel": value(metrics, "framegate_relabel_requests_total"),
        "alerts": value(metrics, "framegate_alerts_total", kind="drift", severity="warning"),
        "dead": value(metrics, "framegate_deadletter_total", reason="invalid_json"),
        "latency": value(metrics, "framegate_processing_latency_seconds_count"),
        "slow": value(metrics, "framegate_processing_latency_seconds_bucket", le="1.0"),
        "batches": value(metrics, "framegate_batch_size_count"),
    }
    sent = report("cam-m", 0, issues=(DARK,))
    metrics.observe_report(sent, now=sent.captured_at + timedelta(seconds=3))
    metrics.observe_relabel(request("cam-m", 0))
    metrics.observe_alert(
        Alert(
            alert_id="a",
            kind="drift",
            camera_id="cam-m",
            metric="brightness",
            detector="page_hinkley",
            at=T0,
        )
    )
    metrics.observe_dead_letter(
        DeadLetter(
            source_topic="f",
            partition=0,
            offset=0,
            key=None,
            stage="validate",
            reason="invalid_json",
            error="x",
            payload_size=0,
            payload_base64="",
            truncated=False,
            at=T0,
        )
    )
    metrics.observe_batch(7)
    assert (
        value(metrics, "framegate_frames_processed_total", camera="cam-m") == before["frames"] + 1
    )
    assert (
        value(metrics, "framegate_issues_total", check="dark", severity="critical")
        == before["dark"] + 1
    )
    assert value(metrics, "framegate_relabel_requests_total") == before["relabel"] + 1
    assert (
        value(metrics, "framegate_alerts_total", kind="drift", severity="warning")
        == before["alerts"] + 1
    )
    assert value(metrics, "framegate_deadletter_total", reason="invalid_json") == before["dead"] + 1
    assert value(metrics, "framegate_processing_latency_seconds_count") == before["latency"] + 1
    # 3 s is above the 1 s bucket.
    assert value(metrics, "framegate_processing_latency_seconds_bucket", le="1.0") == before["slow"]
    assert value(metrics, "framegate_batch_size_count") == before["batches"] + 1


def test_a_camera_clock_ahead_of_the_worker_is_not_negative_latency():
    metrics = Metrics()
    sent = report("cam-m", 0)
    before = value(metrics, "framegate_processing_latency_seconds_bucket", le="0.05")
    metrics.observe_report(sent, now=sent.captured_at - timedelta(seconds=30))
    assert value(metrics, "framegate_processing_latency_seconds_bucket", le="0.05") == before + 1


def test_lag_is_exported_for_the_chosen_topics_only():
    lag = LagCollector(
        lambda: {TP("frames", 0): 9, TP("frames", 1): 4, TP("other", 0): 0},
        lambda: {TP("frames", 0): 10, TP("frames", 1): 8, TP("other", 0): 100, TP("frames", 2): 5},
        topics={"frames"},
    )
    samples = [(s.labels["partition"], s.value) for family in lag.collect() for s in family.samples]
    assert samples == [("0", 0.0), ("1", 3.0)]  # partition 2 was never read: no guess


def test_two_workers_in_one_process_count_apart():
    first, second = Metrics(), Metrics()
    first.observe_batch(3)
    assert value(first, "framegate_batch_size_count") == 1
    assert value(second, "framegate_batch_size_count") == 0


def test_an_issue_another_one_explains_is_not_counted():
    metrics = Metrics()
    flat = DARK.model_copy(update={"check": "low_contrast", "explained_by": "dark"})
    metrics.observe_report(report("cam-e", 0, issues=(DARK, flat)))
    assert value(metrics, "framegate_issues_total", check="dark", severity="critical") == 1
    assert value(metrics, "framegate_issues_total", check="low_contrast", severity="critical") == 0
