# pdtracker: `make run` starts the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app pdtracker
HOST ?= 127.0.0.1
PORT ?= 5000
# Two stamps: `make run` needs only the app; `make test` adds the dev extras on top.
APP_STAMP := $(VENV)/.installed-app
DEV_STAMP := $(VENV)/.installed-dev
LINT_PATHS := pdtracker tests bench build_catalogs.py wsgi.py gunicorn.conf.py tools

.PHONY: run test install install-dev translations i18n-update lint typecheck bench bench-smoke

$(PY):
	$(PYTHON) -m venv $(VENV)

# The editable install also compiles the catalogues (build_catalogs.py).
$(APP_STAMP): pyproject.toml build_catalogs.py | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(DEV_STAMP): $(APP_STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# `translations` runs every time: it recompiles .po files edited since the install.
install: $(APP_STAMP) translations

install-dev: $(DEV_STAMP) translations

translations: $(APP_STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -d pdtracker/translations --statistics 2>&1 | tail -n 2

# After adding strings: extract them and merge into the catalogs, then translate the .po files.
i18n-update: $(APP_STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -o pdtracker/translations/messages.pot .
	$(VENV)/bin/pybabel update -i pdtracker/translations/messages.pot -d pdtracker/translations --no-fuzzy-matching

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "pdtracker runs at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(PY) -m pdtracker.devserver --host $(HOST) --port $(PORT)

PYTEST_ARGS ?= -q -n auto
test: install-dev
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

# BENCH_ARGS, e.g. --sizes 300 --duration 5 --burst-seconds 10 (see bench/run.py --help)
# mypy: basic everywhere, strict on the pure modules ([tool.mypy] in pyproject.toml).
typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy

bench: install-dev
	$(PY) bench/run.py $(BENCH_ARGS)

# CI: the benchmark's generator at its smallest size on SQLite, into a scratch directory.
bench-smoke: install
	@out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && \
	  $(PY) -m bench.generate --db sqlite --size 300 --out "$$out"
