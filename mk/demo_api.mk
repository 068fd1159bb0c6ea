# Demo shop REST API (src/batchlake/batchlake/demo_api). Included by the Makefile.
.PHONY: demo-api bench-demo-api test-demo-api

DEMO_API_ARGS ?= --port 8080

demo-api: setup ## run the demo shop API in the foreground (DEMO_API_ARGS="--port 8080 --orders 100000 ...")
	$(PY) -m batchlake.demo_api $(DEMO_API_ARGS)

bench-demo-api: setup ## records/s the demo API serves: 1M orders, 1000-record pages, 4 client processes, 2 passes
	$(PY) -m batchlake.demo_api.bench --orders 1000000 --clients 4 --page-size 1000 --passes 2 --cache-mb 1024

test-demo-api: setup ## run the demo API tests only
	$(VENV)/bin/pytest tests/demo_api -q
