"""The worker's agents and what they need: runtime, topics, tables, intake, the batch
pipeline, outputs and metrics. Knows nothing of the web view or the CLI."""
