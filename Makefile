# Two commands: `make demo` runs the gate on the embedded broker, `make test` runs the suite
# (its Apache Kafka part where Java 17+ and Maven are installed; skipped, with the reason, where
# they are not).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The torch this project is developed with, from PyPI (its default build carries CUDA
# libraries: a few GB on a fresh machine, then pip's cache; it runs on the CPU too). The package
# itself asks for torch>=2.2, so `make TORCH=torch` (or your own build) works too.
TORCH  ?= torch==2.13.0

.PHONY: demo test test-kafka kafka install bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[demo,test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/framegate demo $(DEMO_ARGS)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The tests on Apache Kafka (tests/apache_kafka: one node, three brokers, SASL_SSL), which
# `make test` runs too, then tests/integration again on an Apache Kafka node; here a missing
# Java 17+ or Maven is a failure, not a skip. (The dashboard test asserts that the consumer-lag
# gauge is absent, true on the embedded broker only: on Kafka it is exported, and
# tests/apache_kafka asserts it there.)
ON_KAFKA_DESELECT := --deselect \
	tests/integration/test_dashboard.py::test_dashboard_shows_flagged_frames_and_live_alerts
test-kafka: install
	FRAMEGATE_KAFKA_REQUIRED=1 $(BIN)/python -m pytest tests/apache_kafka $(PYTEST_ARGS)
	FRAMEGATE_KAFKA_REQUIRED=1 $(BIN)/python -m tests.apache_kafka.cluster --run \
		$(BIN)/python -m pytest tests/integration $(ON_KAFKA_DESELECT) $(PYTEST_ARGS)

# Apache Kafka (its jars from Maven) on free ports of 127.0.0.1 until Ctrl-C; it prints the
# FRAMEGATE_BOOTSTRAP_SERVERS to use. KAFKA_ARGS="--nodes 3" for three brokers.
kafka: install
	$(BIN)/python -m tests.apache_kafka.cluster $(KAFKA_ARGS)

# The quick benchmarks; bench/README.md lists them all (quality_eval, drift_bench, ...).
bench: install
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench.check_speed --frames 200
	$(BIN)/python -m bench.worker_throughput --frames 1000

lint: install
	$(BIN)/pip install --quiet ruff
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) framegate-data .pytest_cache
