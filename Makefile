# pdtracker: `make run` starts the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app pdtracker
HOST ?= 127.0.0.1
PORT ?= 5000
STAMP := $(VENV)/.installed

.PHONY: run test install translations i18n-update lint bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -d pdtracker/translations --statistics 2>&1 | tail -n 2

# After adding strings: extract them and merge into the catalogs, then translate the .po files.
i18n-update: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -o pdtracker/translations/messages.pot .
	$(VENV)/bin/pybabel update -i pdtracker/translations/messages.pot -d pdtracker/translations --no-fuzzy-matching

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "pdtracker runs at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(PY) -m pdtracker.devserver --host $(HOST) --port $(PORT)

PYTEST_ARGS ?= -q -n auto
test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check pdtracker tests bench
	$(VENV)/bin/ruff format --check pdtracker tests bench

# BENCH_ARGS, e.g. --sizes 300 --duration 5 --burst-seconds 10 (see bench/run.py --help)
bench: install
	$(PY) bench/run.py $(BENCH_ARGS)
