"""framegate: a streaming quality gate for computer-vision camera fleets.

One import package over the repository's three folders (see ``pyproject.toml``):
:mod:`framegate.schemas` (``schemas/``, the contract), :mod:`framegate.detectors`
(``detectors/``, the pure quality logic) and :mod:`framegate.streams` (``streams/``, the
Faust app, web, CLI and Kafka plumbing). Importing it loads nothing heavy.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("framegate")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
