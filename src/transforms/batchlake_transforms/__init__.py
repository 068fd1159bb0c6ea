"""batchlake transforms: PySpark jobs as pure DataFrame -> DataFrame functions, the data-quality gate and
write-audit-publish. The same code runs as an AWS Glue Spark job and in Spark local[*]."""

__version__ = "0.1.0"
