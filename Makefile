# Each target bootstraps .venv when it is missing, so a fresh clone needs nothing but python3.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: run test ui refresh bench lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the project into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install -e '.[dev]' > $(VENV)/install.log 2>&1 || (tail -n 30 $(VENV)/install.log; exit 1)
	@# the sandbox is not in the wheel: the repository root on the venv's path makes it importable
	@# from anywhere (bench scripts, tools), as the tests and `make run` have it
	@$(BIN)/python -c "import pathlib, site; pathlib.Path(site.getsitepackages()[0], 'hubspot-repo-root.pth').write_text('$(CURDIR)\n')"
	@$(BIN)/python -c "import dagster, dagster_aws, dagster_dg_cli, hubspot_sandbox, moto, hubspot, pandas, pyarrow, requests, xdist, zlib_ng"
	@touch $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	@cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

# Export yesterday's partition of every asset (sandbox account when HUBSPOT_ACCESS_TOKEN is unset).
run: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m hubspot_pipeline.run

# Lint and the whole test suite.
test: $(STAMP)
	$(BIN)/ruff check hubspot_pipeline hubspot_sandbox hubspot_pipeline_tests bench
	$(BIN)/ruff format --check hubspot_pipeline hubspot_sandbox hubspot_pipeline_tests bench
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The Dagster UI on this code location (with the sandbox when HUBSPOT_ACCESS_TOKEN is unset).
ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m hubspot_pipeline.run --ui

# Refresh the account state: each per-type table (OBJECTS_CONTACTS, ...) gets its asset; `make run` does it too.
refresh: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m hubspot_pipeline.run --refresh

# Speed and memory figures (medians over repeats); writes bench/results/.
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .dagster_home hubspot-export *.egg-info
