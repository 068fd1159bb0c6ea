# Transform benchmark (docs/decisions/0504-transform-benchmark.md): 1M raw order records -> processed by Spark
# (transform_dataset), by the same transform in DuckDB SQL, and the GX validation. Not a test: figures only.
.PHONY: bench-transform

BENCH_TRANSFORM_ARGS ?= --records 1000000

bench-transform: setup ## 1M raw orders -> processed: Spark vs DuckDB vs GX validation, writes bench/results/transform.json
	$(PY) bench/transform_bench.py $(BENCH_TRANSFORM_ARGS)
