# The README's two commands are `make run` and `make test`; everything else is a helper.
SHELL := /bin/bash
PY_SYS ?= python3
VENV := .local/venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PKGS := shared services/ticket services/sla services/notification services/escalation services/survey

.PHONY: run test stop install venv unit lint fmt bench chaos clean status

$(STAMP): requirements.txt $(foreach p,$(PKGS),$(p)/pyproject.toml)
	@echo "==> python: creating $(VENV) and installing pinned packages (first time takes a minute)"
	@test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation $(foreach p,$(PKGS),-e $(p))
	@touch $(STAMP)

venv: $(STAMP)

## install: everything the local stack needs (OS packages, Kafka jars, Python venv)
install: $(STAMP)
	@$(PY) -m stopclock_shared.localstack install

## run: install what is missing, start the whole stack in the foreground (Ctrl-C stops it)
run: $(STAMP)
	@$(PY) -m stopclock_shared.localstack run

## stop: stop a running stack (from another shell) and anything a crashed run left behind
stop:
	@if [ -x $(PY) ]; then $(PY) -m stopclock_shared.localstack stop; else echo "nothing to stop"; fi

status: $(STAMP)
	@$(PY) -m stopclock_shared.localstack status

## test: the same set-up, then unit tests, then integration and e2e tests against the real stack
test: $(STAMP)
	@$(PY) -m stopclock_shared.localstack test

unit: $(STAMP)
	@$(PY) -m pytest tests/unit -q

lint: $(STAMP)
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/mypy shared services

fmt: $(STAMP)
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

## bench: benchmarks against the real stack; prints tables and writes bench/results/
bench: $(STAMP)
	@$(PY) -m stopclock_shared.localstack bench

## chaos: SIGKILL each part of the stack in turn under a create load, then count what survived
chaos: $(STAMP)
	@$(PY) -m stopclock_shared.localstack chaos

## clean: stop, then delete everything the stack keeps (data, logs, venv, Kafka jars)
clean: stop
	@if [ -L .local/pg ]; then rm -rf "$$(dirname "$$(readlink -f .local/pg)")"; fi
	rm -rf .local
