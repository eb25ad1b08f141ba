# Two commands for a fresh machine: `make demo` (install + models + launch) and `make test` (install + all tests).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed

.PHONY: setup system-deps models demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# CPU build of torch first: pinned, so nothing pulls a CUDA build.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	touch $(STAMP)

system-deps:
	@command -v ffmpeg >/dev/null && command -v espeak-ng >/dev/null && command -v sox >/dev/null || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg espeak-ng sox >/dev/null; \
	    else echo "please install ffmpeg, espeak-ng and sox"; exit 1; fi; }

setup: $(STAMP) system-deps
	$(VENV)/bin/empathic models fetch --quiet
	$(VENV)/bin/empathic models verify

demo: setup
	$(VENV)/bin/empathic demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: setup lint
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
