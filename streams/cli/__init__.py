"""The ``framegate`` command: operators' and developers' tools (see :mod:`.commands`)."""

from framegate.streams.cli.commands import main

__all__ = ["main"]
