# Catalog, crawler and query engine (docs/decisions/0300-0305).
.PHONY: test-query

test-query: setup ## catalog + crawler + Athena-SQL-on-DuckDB tests (moto Glue/Athena, 40-query corpus)
	$(VENV)/bin/pytest tests/catalog tests/crawler tests/query -q
