"""Layers point down (schemas <- detectors <- streams) and roles inside streams stay apart.

Worker never imports web or cli, web never imports cli, kafka plumbing imports no agent,
page or command, and media knows no Kafka (not even through the framegate modules it
imports).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.architecture.sources import (
    Import,
    _owner,
    _report,
    _within,
    package_imports,
    package_sources,
)


@dataclass(frozen=True)
class Rule:
    id: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]
    why: str
    transitive: bool = False  # also through the framegate modules it imports


S = "framegate.streams"
RULES = [
    Rule(
        "schemas-above-nothing",
        ("framegate.schemas",),
        ("framegate.detectors", "framegate.streams"),
        "schemas is the contract: it depends on no other layer",
    ),
    Rule(
        "detectors-below-streams",
        ("framegate.detectors",),
        ("framegate.streams",),
        "detectors holds the quality logic and knows no wiring",
    ),
    Rule(
        "worker-no-web-or-cli",
        (f"{S}.worker",),
        (f"{S}.web", f"{S}.cli"),
        "the agents run without the dashboard and the commands",
    ),
    Rule("web-no-cli", (f"{S}.web",), (f"{S}.cli",), "pages do not depend on commands"),
    Rule(
        "kafka-no-roles",
        (f"{S}.kafka",),
        (f"{S}.worker", f"{S}.web", f"{S}.cli"),
        "Kafka plumbing is below every role",
    ),
    Rule(
        "media-no-kafka",
        (f"{S}.media",),
        ("aiokafka", "faust", "kafka", "confluent_kafka", f"{S}.kafka"),
        "media helpers know no Kafka",
    ),
    Rule(
        "media-no-kafka-transitively",
        (f"{S}.media",),
        ("aiokafka", "faust", "kafka", "confluent_kafka", f"{S}.kafka"),
        "nor through the framegate modules they import",
        transitive=True,
    ),
]


def _violations(rule: Rule) -> list[str]:
    imports = list(package_imports())
    by_module: dict[str, list[Import]] = {}
    for imp in imports:
        by_module.setdefault(imp.source.module, []).append(imp)
    found = []
    for start in sorted(by_module):
        if not _within(start, rule.importers):
            continue
        chain, seen, todo = {start: [start]}, {start}, [start]
        while todo:
            module = todo.pop(0)
            for imp in by_module.get(module, []):
                if _within(imp.target, rule.forbidden):
                    via = " -> ".join(chain[module])
                    found.append(imp.describe() + (f"  (via {via})" if module != start else ""))
                elif rule.transitive and (owner := _owner(imp.target)) and owner not in seen:
                    seen.add(owner)
                    chain[owner] = [*chain[module], owner]
                    todo.append(owner)
    return found


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_layers_and_roles(rule: Rule) -> None:
    assert any(_within(s.module, rule.importers) for s in package_sources()), (
        f"{rule.id}: no module matches {rule.importers}"
    )
    offenders = _violations(rule)
    assert not offenders, _report(f"{rule.id}: {rule.why}", offenders)
