"""The examples in every framegate docstring run, so they cannot drift from the code."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import framegate.detectors
import framegate.schemas
import framegate.streams


def _modules_with_examples() -> list[str]:
    finder = doctest.DocTestFinder()
    names = (
        info.name
        for package in (framegate.schemas, framegate.detectors, framegate.streams)
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
    )
    return sorted(
        name
        for name in names
        if any(t.examples for t in finder.find(importlib.import_module(name)))
    )


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0  # examples marked +SKIP (they need a broker) are not attempted
