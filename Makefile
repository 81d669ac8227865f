# The two commands of the README contract: `make demo` and `make test`.
# Both build the environment from nothing; neither needs an account or a manual step.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
DEMO_PORT ?= 8000
SANDBOX_PORT ?= 8765
ONLY ?=

.PHONY: demo test lint unit browser bench system-deps env clean docs matrix

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[test,redis,docs]"
	touch $(STAMP)

env: $(STAMP)

# Debian packages the browser and Redis tests need (chromium, redis-server); installs only
# what is missing, and only when it can (root with apt).
system-deps:
	@bash scripts/system-deps.sh

lint: env
	$(VENV)/bin/ruff check wagtail_kollus tests example_site benchmarks
	DJANGO_SETTINGS_MODULE=tests.settings $(VENV)/bin/django-admin makemigrations --check --dry-run --pythonpath . >/dev/null
	cd example_site && ../$(PY) manage.py makemigrations --check --dry-run >/dev/null

test: env system-deps lint docs
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The support matrix (noxfile.py): one virtualenv per Python x Django x Wagtail cell, built by
# nox from the interpreters on PATH (python3.11, python3.12). NOX_ARGS picks sessions, e.g.
# NOX_ARGS='-s postgres'.
# nox lives in a virtualenv of its own, so the matrix does not change the one `make test` uses.
NOX_ARGS ?=
NOX_VENV ?= .venv-nox
matrix: system-deps
	test -x $(NOX_VENV)/bin/nox || ($(PYTHON) -m venv $(NOX_VENV) && $(NOX_VENV)/bin/pip install --quiet nox)
	$(NOX_VENV)/bin/nox $(NOX_ARGS)

demo: env
	@bash scripts/demo.sh $(DEMO_PORT) $(SANDBOX_PORT)

bench: env
	$(PY) -m benchmarks $(if $(ONLY),--only $(ONLY),)

docs: env
	$(VENV)/bin/mkdocs build --strict --quiet --site-dir build/site

clean:
	rm -rf $(VENV) .venv-nox .nox build dist *.egg-info tests/.test-db*.sqlite3 example_site/db.sqlite3
