# The two commands of the README: `make demo` (set up, then run the main job) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PLUGIN_PROJECTS := $(wildcard plugins/*/pyproject.toml)
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(PLUGIN_PROJECTS))

.PHONY: setup demo test lint docs

$(VENV)/.installed: pyproject.toml $(PLUGIN_PROJECTS)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]" $(foreach p,$(PLUGIN_DIRS),-e ./$(p))
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/cnnsuite run images

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir $(or $(SITE_DIR),site)

test: lint docs
	$(PY) -m pytest $(PYTEST_ARGS)
