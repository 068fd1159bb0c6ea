# The analysts' workgroup: settings enforced (clients cannot override the result location or encryption),
# results SSE-KMS under athena-results/, a per-query bytes-scanned cutoff, and the project's SQL as named queries.

resource "aws_athena_workgroup" "this" {
  name          = var.workgroup_name
  description   = "batchlake queries: enforced, encrypted results, bytes-scanned cutoff"
  state         = "ENABLED"
  force_destroy = var.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location = "s3://${var.results_bucket_name}/athena-results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }

  tags = var.tags
}

resource "aws_athena_named_query" "this" {
  for_each = var.named_queries

  name        = each.key
  description = each.value.description
  workgroup   = aws_athena_workgroup.this.name
  database    = coalesce(each.value.database, var.database_name)
  query       = each.value.query
}
