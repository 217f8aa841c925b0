# PlantOps developer commands. `make` alone lists them.
# Everything runs inside .venv, which scripts/bootstrap.sh creates and keeps in step with
# requirements/dev.lock; services are found or started by scripts/services.sh.

SHELL := /bin/bash
.DEFAULT_GOAL := help
RUFF := .venv/bin/ruff
# Every distribution pinned with the sha256 of each of its files on the index, so any wheel of the
# pinned version installs under --require-hashes; setuptools, the build backend, is pinned too
# (--all-build-deps) for the --no-build-isolation install of the project itself.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" .venv/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --all-build-deps --no-emit-index-url --no-emit-find-links \
	$(if $(UPGRADE),--upgrade)

.PHONY: help demo test bench bench-ingest lint fmt lock clean

help: ## List the targets
	@echo "PlantOps: make <target>"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

demo: ## Run the demo plant (web, ingest, worker, beat, simulator) on http://localhost:8000/ (PORT=...)
	@scripts/demo.sh

test: ## ruff, makemigrations --check and pytest against real PostgreSQL, Redis, Mosquitto, RabbitMQ, Chromium
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

# dev.lock is base.lock plus the dev extra, so tests run on the runtime pins the image gets.
lock: ## Pin pyproject.toml's ranges into requirements/*.lock (UPGRADE=1: newest versions that fit)
	@scripts/bootstrap.sh
	$(PIP_COMPILE) --output-file=requirements/base.lock pyproject.toml
	$(PIP_COMPILE) --extra=dev --constraint=requirements/base.lock \
		--output-file=requirements/dev.lock pyproject.toml

clean: ## Stop the Redis/Mosquitto started from var/, then remove var/ and .venv
	@scripts/services.sh stop
	rm -rf var .venv
