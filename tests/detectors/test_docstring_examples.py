"""The examples in ``detectors/`` docstrings are run, so they cannot drift from the code."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import detectors


def _modules_with_examples() -> list[str]:
    finder = doctest.DocTestFinder()
    names = (m.name for m in pkgutil.walk_packages(detectors.__path__, "detectors."))
    return sorted(
        name
        for name in names
        if any(t.examples for t in finder.find(importlib.import_module(name)))
    )


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
