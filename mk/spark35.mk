# Glue 5.0 parity: AWS Glue 5.0 runs Spark 3.5 on Python 3.11, local .venv has Spark 4.x. The transform code must run
# on both, so the transform tests also run on pyspark 3.5.4 (docs/decisions/0503-glue-parity-spark35.md).
.PHONY: setup-spark35 test-spark35

VENV_SPARK35 ?= .venv-spark35
PY_SPARK35 := $(VENV_SPARK35)/bin/python
STAMP_SPARK35 := $(VENV_SPARK35)/.installed

$(STAMP_SPARK35): requirements/spark35-constraints.txt src/core/pyproject.toml src/transforms/pyproject.toml
	@test -x $(PY_SPARK35) || $(PYTHON) -m venv $(VENV_SPARK35)
	@echo "==> installing pyspark 3.5 (Glue 5.0) into $(VENV_SPARK35) (first time builds pyspark, ~1 min)"
	$(PY_SPARK35) -m pip install -q pip==$(PIP_VERSION)
	$(PY_SPARK35) -m pip install -c requirements/spark35-constraints.txt -e src/core -e 'src/transforms[spark]' \
		jinja2 pyarrow moto pytest pytest-timeout --progress-bar off
	@touch $@

setup-spark35: $(STAMP_SPARK35) ## create .venv-spark35: pyspark 3.5.4 (as on AWS Glue 5.0) + core + transforms

# PYARROW_IGNORE_TIMEZONE: pyspark 3.5's `pyspark.testing` imports pandas-on-Spark, which warns (an error under
# filterwarnings=error) unless it is set; pyspark 4 no longer warns.
test-spark35: $(STAMP_SPARK35) ## run tests/transforms on pyspark 3.5.4 / Python 3.11 (Glue 5.0 parity)
	PYARROW_IGNORE_TIMEZONE=1 $(VENV_SPARK35)/bin/pytest tests/transforms -q -p no:cacheprovider
