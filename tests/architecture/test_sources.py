"""The source walk itself: it finds the package, and every file it finds parses."""

from __future__ import annotations

from tests.architecture.sources import ROOTS, _parsed, package_sources, repository_sources


def test_sources_found() -> None:
    """The walk sees the package (guards every rule of this package against passing on nothing)."""
    modules = {s.module for s in package_sources()}
    for expected in ("framegate", *list(ROOTS)[1:]):
        assert expected in modules, f"{expected} not found under {ROOTS[expected]}"
    for source in repository_sources():
        _parsed(source)  # every file parses
