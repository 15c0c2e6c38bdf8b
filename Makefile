# The two commands of the README:
#   make demo   -- set up (once), then distil a toy student three ways and print the table
#   make test   -- set up (once), then run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test
setup:
	bash tools/setup_env.sh $(VENV)

demo: setup
	$(PY) tools/demo.py $(DEMO_ARGS)

test: setup
	$(PY) -m pytest tests -q $(PYTEST_ARGS)
