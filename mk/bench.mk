# Benchmarks (not tests; numbers depend on the machine and its load). `make bench` runs every one that exists and
# writes bench/results/*.json and bench/results/SUMMARY.md. See bench/e2e_bench.py and docs/decisions/0602, 0604.
BENCH_TARGETS := $(filter bench-ingest bench-transform,$(shell grep -hoE '^bench-[a-z0-9-]+:' $(wildcard mk/*.mk) | tr -d ':'))

.PHONY: bench bench-e2e bench-summary

bench: $(BENCH_TARGETS) bench-e2e ## every benchmark (ingest, transform, end to end), then bench/results/SUMMARY.md
	$(PY) bench/summary.py

# The e2e bench refuses to start while the 1-min load average is above 1.5 (it waits up to 5 minutes for it to drop,
# e.g. after the benchmarks before it); E2E_BENCH_FLAGS=--allow-noisy runs anyway and marks the result "noisy".
E2E_BENCH_FLAGS ?=

bench-e2e: setup ## end to end at 1M orders: full, 1 changed order (fixed cost), 1% recent, 1% uniform -> bench/results/e2e.json
	$(PY) bench/e2e_bench.py --orders 1000000 --customers 200000 --out bench/results/e2e.json --wait-quiet 300 \
		$(E2E_BENCH_FLAGS)

bench-summary: setup ## rewrite bench/results/SUMMARY.md from the result files present
	$(PY) bench/summary.py
