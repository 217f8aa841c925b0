# PlantOps developer commands. `make` alone lists them.
# Everything runs inside .venv, which scripts/bootstrap.sh creates and keeps in step with
# pyproject.toml; services are found or started by scripts/services.sh.

SHELL := /bin/bash
.DEFAULT_GOAL := help
RUFF := .venv/bin/ruff

.PHONY: help demo test bench bench-ingest lint fmt clean

help: ## List the targets
	@echo "PlantOps: make <target>"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

demo: ## Run the demo plant (web, ingest, worker, beat, simulator) on http://localhost:8000/ (PORT=...)
	@scripts/demo.sh

test: ## ruff, makemigrations --check and pytest against real PostgreSQL, Redis, Mosquitto, Chromium
	@scripts/test.sh

bench: ## Run every bench/*.py in the test environment
	@scripts/test.sh bench

bench-ingest: ## Run only bench/ingest.py (throughput, loss and CPU per reading against baselines)
	@scripts/test.sh bench bench/ingest.py

lint: ## ruff check and ruff format --check
	@scripts/bootstrap.sh
	$(RUFF) check .
	$(RUFF) format --check .

fmt: ## Sort imports and format the code with ruff
	@scripts/bootstrap.sh
	$(RUFF) check --select I --fix .
	$(RUFF) format .

clean: ## Stop the Redis/Mosquitto started from var/, then remove var/ and .venv
	@scripts/services.sh stop
	rm -rf var .venv
