"""Wiring: the Faust app, its topics, tables and agents, the web views, the CLI and the broker.

Holds no quality logic of its own; that lives in :mod:`detectors`.
"""
