"""``python -m framegate``: the same command as ``framegate``."""

from framegate.streams.cli import main

if __name__ == "__main__":
    main()
