# The two commands of the README:
#   make demo   -- set up (once), then distil a toy student three ways and print the table
#   make test   -- set up (once), then run the test suite (all tiers; CI)
# For contributors:
#   make test-fast -- the tests not marked slow (no training through the
#                     tools, no spawned processes, no wheel builds; the
#                     toy configs and a few real ones: tests/_tiers.py)
# Opt-in, not part of CI:
#   make test-compat -- the same suite on the oldest stack we support
#                       (torch 2.1.2, in .venv-compat; its own mmcv build)
VENV ?= .venv
PY := $(VENV)/bin/python
COMPAT_VENV ?= .venv-compat
COMPAT_TORCH ?= 2.1.2

.PHONY: setup demo test test-fast setup-compat test-compat
setup:
	bash tools/setup_env.sh $(VENV)

demo: setup
	$(PY) tools/demo.py $(DEMO_ARGS)

test: setup
	$(PY) -m pytest tests -q $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest tests -q -m "not slow" $(PYTEST_ARGS)

setup-compat:
	TORCH_VERSION=$(COMPAT_TORCH) bash tools/setup_env.sh $(COMPAT_VENV)

test-compat: setup-compat
	$(COMPAT_VENV)/bin/python -m pytest tests -q $(PYTEST_ARGS)
