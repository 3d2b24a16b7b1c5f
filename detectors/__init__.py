"""The quality logic: pure, synchronous functions and small classes on numpy arrays and schemas.

Nothing here knows Kafka or asyncio, keeps global state, logs, or reads a clock.
"""
