# make test  - create .venv if needed, install pinned torch + test deps, build, run every test
# make demo  - same set-up, then run the main job
# make build - (re)build the extension in place
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION := 2.13.0
export MAX_JOBS ?= 2

SOURCES := $(shell find csrc -name '*.cpp' -o -name '*.h') setup.py

.PHONY: test demo build clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.deps-installed: requirements-dev.txt | $(PY)
	$(PY) -m pip install -q torch==$(TORCH_VERSION)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

$(VENV)/.built: $(VENV)/.deps-installed $(SOURCES)
	$(PY) -m pip install -q --no-build-isolation -e .
	touch $@

build: $(VENV)/.built

test: build
	$(PY) -m pytest tests -q -ra

demo: build
	$(PY) examples/train_tiny.py

clean:
	rm -rf build *.egg-info torch_act/_C*.so torch_act/_build_info.py $(VENV)/.built
