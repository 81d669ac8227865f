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

.PHONY: demo test lint unit browser bench system-deps env clean docs matrix package

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

test: env system-deps lint docs package
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The release artefacts: sdist, and the wheel built from it (so a file the sdist forgets breaks
# the wheel too), both checked by twine as PyPI would render them.
DIST ?= dist
package: env
	rm -rf $(DIST)
	$(PY) -m build --outdir $(DIST) . >/dev/null
	$(VENV)/bin/twine check --strict $(DIST)/*

# The support matrix (noxfile.py): one virtualenv per Python x Django x Wagtail cell, plus the
# suite on PostgreSQL. scripts/pythons.sh puts pyenv's interpreters on PATH for nox (or fails
# naming the missing one); system-deps.sh adds Debian's PostgreSQL server if it is missing.
# NOX_ARGS picks sessions, e.g. NOX_ARGS='-s postgres' or NOX_ARGS='-s "tests(py312_django61_wagtail80)"'.
# nox lives in a virtualenv of its own, so the matrix does not change the one `make test` uses.
NOX_ARGS ?= -s tests postgres
NOX_VENV ?= .venv-nox
MATRIX_PYTHONS ?= 3.11 3.12 3.13
matrix:
	@bash scripts/system-deps.sh postgres
	test -x $(NOX_VENV)/bin/nox || ($(PYTHON) -m venv $(NOX_VENV) && $(NOX_VENV)/bin/pip install --quiet nox)
	PATH="$$(bash scripts/pythons.sh $(MATRIX_PYTHONS))$$PATH" $(NOX_VENV)/bin/nox $(NOX_ARGS)

demo: env
	@bash scripts/demo.sh $(DEMO_PORT) $(SANDBOX_PORT)

bench: env
	$(PY) -m benchmarks $(if $(ONLY),--only $(ONLY),)

docs: env
	$(VENV)/bin/mkdocs build --strict --quiet --site-dir build/site

clean:
	rm -rf $(VENV) .venv-nox .nox build dist *.egg-info tests/.test-db*.sqlite3 example_site/db.sqlite3
