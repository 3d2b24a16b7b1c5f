"""Detectors are pure: no Kafka, no asyncio, no network, no clock, no files."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from tests.architecture.sources import (
    Source,
    _dotted,
    _parsed,
    _report,
    _within,
    imports_of,
    package_sources,
)

IMPURE_MODULES = (
    "faust",
    "aiokafka",
    "kafka",
    "confluent_kafka",
    "asyncio",
    "aiohttp",
    "requests",
    "httpx",
    "urllib.request",
    "http.client",
    "socket",
    "time",
    "threading",
    "subprocess",
    "multiprocessing",
)
CLOCK_READERS = {"now", "today"}  # on datetime / date; utcnow on anything
TIME_READERS = {
    f"time.{name}"
    for name in ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "process_time")
}
FILE_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes"}


@dataclass
class _Impurities(ast.NodeVisitor):
    source: Source
    text: str
    found: list[str] = field(default_factory=list)

    def _add(self, node: ast.AST, what: str) -> None:
        line = node.lineno  # type: ignore[attr-defined]
        code = self.text.splitlines()[line - 1].strip()
        self.found.append(f"{self.source.rel}:{line}: {self.source.module} {what}  [{code[:120]}]")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        receiver = _dotted(node.value).rsplit(".", 1)[-1]
        clock = node.attr in CLOCK_READERS and receiver in {"datetime", "date"}
        if clock or node.attr == "utcnow" or _dotted(node) in TIME_READERS:
            self._add(node, "reads the clock")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        if name in {"open", "io.open", "os.open"}:
            self._add(node, "opens a file")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in FILE_METHODS:
            self._add(node, "reads or writes a file")
        elif name == "utcnow":  # from framegate.schemas.base import utcnow
            self._add(node, "reads the clock")
        self.generic_visit(node)


def _detector_sources() -> list[Source]:
    sources = [s for s in package_sources() if _within(s.module, ("framegate.detectors",))]
    assert sources, "no module of framegate.detectors found"
    return sources


def test_detectors_import_no_io() -> None:
    offenders = [
        imp.describe()
        for source in _detector_sources()
        for imp in imports_of(source)
        if _within(imp.target, IMPURE_MODULES)
    ]
    assert not offenders, _report(
        "detectors are pure (no Kafka, asyncio, network, clock or threads)", offenders
    )


def test_detectors_read_no_clock_and_no_file() -> None:
    offenders = []
    for source in _detector_sources():
        tree, text = _parsed(source)
        visitor = _Impurities(source, text)
        visitor.visit(tree)
        offenders += visitor.found
    assert not offenders, _report(
        "detectors read no clock and no file (the caller passes times and contents)", offenders
    )
