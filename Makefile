# Two commands: `make demo` runs the gate on the embedded broker, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU build of torch that this machine keeps on disk; the package itself asks for torch>=2.2,
# so elsewhere `make TORCH=torch` (or your CUDA build) works too.
TORCH  ?= torch==2.13.0

.PHONY: demo test install bench lint clean

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
