"""batchlake transforms: PySpark jobs as pure DataFrame -> DataFrame functions, the data-quality gate and
write-audit-publish. The same code runs as an AWS Glue Spark job and in Spark local[*]."""

import sys

__version__ = "0.1.0"


def _load_great_expectations_safely() -> None:
    """Load Great Expectations now, when the main program is not a file (`python -c`).

    GX imports `pyspark.sql.connect` to recognise Spark Connect frames. When the main program is not a file and grpc
    is not installed (batchlake does not use Spark Connect), PySpark takes the import for its own doctest run: it
    prints "Skipping doctests" and calls `sys.exit(0)`, so the caller's program ends with status 0 having done
    nothing. Loading GX while the interpreter looks interactive makes the import fail with ImportError instead, which
    GX expects and handles, as it does when the main program is a file.
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None or hasattr(main, "__file__") or hasattr(sys, "ps1"):
        return  # PySpark's check passes: nothing to do
    sys.ps1 = ""
    try:
        import great_expectations  # noqa: F401
    finally:
        del sys.ps1


_load_great_expectations_safely()
