"""Wiring, split by role; holds no quality logic of its own (that is :mod:`framegate.detectors`).

- :mod:`.app`: builds a worker's Faust app from settings (nothing is built at import).
- :mod:`.worker`: the agents and what they need (runtime, topics, tables, intake, pipeline).
- :mod:`.web`: the operators' dashboard, its API and the fleet model behind it.
- :mod:`.cli`: the ``framegate`` command, the demo and its simulated fleet.
- :mod:`.kafka`: client settings, readers and producers, topic creation, the embedded broker.
- :mod:`.media`: JPEG and video helpers; knows no Kafka.
"""
