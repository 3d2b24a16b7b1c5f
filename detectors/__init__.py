"""The quality logic: pure, synchronous functions and small classes on numpy arrays and schemas.

Nothing here knows Kafka or asyncio, keeps global state, logs, reads a clock or reads a
file: callers pass the time (``now``, epoch seconds) and what files hold (a policy's text,
a model's bytes).
"""
