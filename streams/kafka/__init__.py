"""Kafka plumbing: client settings and security, framegate's own readers and producers,
topic creation, the embedded broker, and worker child processes."""
