"""deploy/prometheus-rules.yml: well-formed, loaded by prometheus.yml, and every expression
names metrics and labels a worker really exports (read from its registry); ``promtool check
rules`` too where Debian's ``prometheus`` package is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from framegate.schemas.settings import Settings
from framegate.streams.worker.metrics import LagCollector, Metrics

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
RULES = DEPLOY / "prometheus-rules.yml"
REQUIRED = {
    "FramegateCameraOffline": "framegate_frames_processed_total",
    "FramegateDeadLettersRising": "framegate_deadletter_total",
    "FramegateRelabelBudgetExhausted": "framegate_relabel_over_budget_total",
    "FramegateConsumerLag": "framegate_consumer_lag",
}
DURATION = re.compile(r"^(\d+[smhdw])+$")
SERIES = re.compile(r"\b(framegate_[a-z_]+)\b(\{[^}]*\})?")
GROUPING = re.compile(r"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)")


def exported() -> dict[str, set[str]]:
    """Every series name a worker can export, with its label names."""
    metrics = Metrics()
    kinds = {f.name: f.type for f in text_string_to_metric_families(metrics.exposition().decode())}
    labels = {
        metric._name: set(metric._labelnames)
        for metric in vars(metrics).values()
        if hasattr(metric, "_labelnames") and hasattr(metric, "_name")
    }
    names: dict[str, set[str]] = {}
    for name, kind in kinds.items():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
        for suffix in suffixes.get(kind, [""]):
            names[name + suffix] = labels.get(name, set()) | (
                {"le"} if suffix == "_bucket" else set()
            )
    lag = LagCollector(dict, dict, topics=[]).describe()[0]  # exported on a real Kafka only
    names[lag.name] = {"topic", "partition"}
    return names


def rules() -> list[dict]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_prometheus_loads_the_rules():
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    assert [DEPLOY / name for name in config["rule_files"]] == [RULES]


def test_every_rule_is_complete_and_the_required_ones_are_there():
    found = {rule["alert"]: rule for rule in rules()}
    for alert, metric in REQUIRED.items():
        assert metric in found[alert]["expr"], alert
    for rule in found.values():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}
        assert DURATION.match(rule["for"]), rule["for"]
        assert rule["labels"]["severity"] in ("info", "warning", "critical")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert rule["expr"].count("(") == rule["expr"].count(")")


def test_every_expression_names_exported_metrics_and_labels():
    known = exported()
    assert "framegate_frames_processed_total" in known  # the registry was read
    for rule in rules():
        expr = rule["expr"]
        used = SERIES.findall(expr)
        assert used, rule["alert"]
        available: set[str] = set()
        for name, matchers in used:
            assert name in known, f"{rule['alert']}: {name} is not exported"
            available |= known[name]
            for label in re.findall(r"([a-z_]+)\s*=~?", matchers):
                assert label in known[name], f"{rule['alert']}: {name} has no label {label}"
        for group in GROUPING.findall(expr):
            for label in filter(None, (g.strip() for g in group.split(","))):
                assert label in available, f"{rule['alert']}: no metric has label {label}"
        text = " ".join(rule["annotations"].values())
        for label in re.findall(r"\$labels\.([a-z_]+)", text):
            assert label in available, f"{rule['alert']}: annotation uses {label}"


def test_settings_named_in_the_rules_exist():
    for name in re.findall(r"FRAMEGATE_([A-Z_]+)", RULES.read_text()):
        assert name.lower() in Settings.model_fields, name


def test_an_unknown_metric_would_be_caught():
    assert "framegate_frames_total" not in exported()


def test_promtool_accepts_the_rules():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("needs promtool (Debian: apt-get install prometheus)")
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
