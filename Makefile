# The README's two commands are `make run` and `make test`; everything else is a helper.
SHELL := /bin/bash
PY_SYS ?= python3
VENV := .local/venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PKGS := shared services/ticket services/sla services/notification services/escalation services/survey

.PHONY: run test stop install venv unit lint fmt generate bench chaos clean status

# The dev venv: runtime pins (requirements.txt, all an image gets) plus the test, lint and stack
# tools (requirements-dev.txt). devstack/ and bench/ are imported from the repository root.
$(STAMP): requirements.txt requirements-dev.txt $(foreach p,$(PKGS),$(p)/pyproject.toml)
	@echo "==> python: creating $(VENV) and installing pinned packages (first time takes a minute)"
	@test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation $(foreach p,$(PKGS),-e $(p))
	@touch $(STAMP)

venv: $(STAMP)

## install: everything the local stack needs (OS packages, Kafka jars, Python venv)
install: $(STAMP)
	@$(PY) -m devstack install

## run: install what is missing, start the whole stack in the foreground (Ctrl-C stops it)
run: $(STAMP)
	@$(PY) -m devstack run

## stop: stop a running stack (from another shell) and anything a crashed run left behind
stop:
	@if [ -x $(PY) ]; then $(PY) -m devstack stop; else echo "nothing to stop"; fi

status: $(STAMP)
	@$(PY) -m devstack status

## test: the same set-up, then unit tests, then integration and e2e tests against the real stack
test: $(STAMP)
	@$(PY) -m devstack test

unit: $(STAMP)
	@$(PY) -m pytest tests/unit -q

## lint: ruff (format check, lint) and mypy (strict, pydantic plugin); fails on any finding
lint: $(STAMP)
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/mypy

## generate: rewrite the generated files (contract words, Grafana dashboards) from their sources
generate: $(STAMP)
	@$(PY) -m devstack.vocabulary
	@$(PY) deploy/grafana/generate.py

fmt: $(STAMP)
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

## bench: benchmarks against the real stack; prints tables and writes bench/results/
bench: $(STAMP)
	@$(PY) -m devstack bench

## chaos: SIGKILL each part of the stack in turn under a create load, then count what survived
chaos: $(STAMP)
	@$(PY) -m devstack chaos

## clean: stop, then delete everything the stack keeps (data, logs, venv, Kafka jars)
clean: stop
	@if [ -L .local/pg ]; then rm -rf "$$(dirname "$$(readlink -f .local/pg)")"; fi
	rm -rf .local
