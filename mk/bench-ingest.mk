# Ingest benchmark: batchlake vs dlt rest_api vs a minimal loop on the demo API (not a test; see bench/ingest_bench.py).
VENV_BENCH ?= .venv-bench
BENCH_STAMP := $(VENV_BENCH)/.installed

$(BENCH_STAMP): requirements/bench-constraints.txt
	@test -x $(VENV_BENCH)/bin/python || $(PYTHON) -m venv $(VENV_BENCH)
	$(VENV_BENCH)/bin/python -m pip install -q -r requirements/bench-constraints.txt --progress-bar off
	@touch $@

.PHONY: bench-ingest bench-venv

bench-venv: $(BENCH_STAMP) ## create .venv-bench with dlt (pinned in requirements/bench-constraints.txt) for benchmarks

bench-ingest: setup $(BENCH_STAMP) ## ingest throughput and memory, 200k and 1M records: batchlake vs dlt vs minimal loop -> bench/results/ingest.json
	$(PY) bench/ingest_bench.py --dlt-python $(VENV_BENCH)/bin/python --out bench/results/ingest.json
