# Two commands on a fresh machine (Python 3.11+): `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test bench install clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# The console demo when no Slack tokens are set; Slack (Socket Mode or HTTP) when they are.
run: $(VENV)/.installed
	$(VENV)/bin/scrutineer

# Lint (ruff: pyflakes and import order), then the whole suite: SQLite always, and
# PostgreSQL when it runs on 127.0.0.1:5432.
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# Speed, memory and scale against a bare Bolt app; writes BENCHMARKS.md (see bench/).
bench: $(VENV)/.installed
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
