# Per dataset: an ingest job (Glue 5.0 by default, or Python shell: ingest_runtime), a transform job (Spark, Glue 5.0),
# and a workflow schedule -> ingest -> raw crawler -> transform. Jobs run pinned artifact versions from the artifacts bucket.

locals {
  ingest_is_shell  = var.ingest_runtime == "pythonshell"
  ingest_wheels    = join(",", var.ingest_artifacts.wheel_uris)
  transform_wheels = join(",", var.transform_artifacts.wheel_uris)
}

resource "aws_cloudwatch_log_group" "transform" {
  # checkov:skip=CKV_AWS_338:Retention is chosen per workspace (log_retention_in_days: prod keeps 365 days, dev 14).
  for_each = var.datasets

  name              = "/aws-glue/${var.name_prefix}/transform-${each.key}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = merge(var.tags, { "batchlake:dataset" = each.key })
}

resource "aws_glue_job" "ingest" {
  for_each = var.datasets

  name                   = "${var.name_prefix}-ingest-${each.key}"
  description            = "Ingest ${each.key} from its REST API into the raw zone (batchlake-ingest)"
  role_arn               = var.ingest_role_arn
  max_capacity           = local.ingest_is_shell ? var.ingest_max_capacity : null
  glue_version           = local.ingest_is_shell ? null : "5.0"
  worker_type            = local.ingest_is_shell ? null : "G.1X"
  number_of_workers      = local.ingest_is_shell ? null : 2
  timeout                = var.ingest_timeout_in_minutes
  max_retries            = var.ingest_max_retries
  security_configuration = var.security_configuration_name

  command {
    name            = var.ingest_runtime
    python_version  = local.ingest_is_shell ? "3.9" : "3"
    script_location = var.ingest_artifacts.script_uri
  }

  execution_property {
    max_concurrent_runs = 1 # one run at a time per dataset: the cursor is per dataset
  }

  default_arguments = merge({
    "--dataset"      = each.key
    "--contract_uri" = each.value.contract_uri
    "--raw_bucket"   = var.raw_bucket_name
    "--kms_key_arn"  = var.kms_key_arn
    "--job-language" = "python"
    }, local.ingest_is_shell ? {
    "--extra-py-files" = local.ingest_wheels # Python shell installs the .whl files listed here
    "library-set"      = "analytics"
    } : {
    "--additional-python-modules" = local.ingest_wheels
  })

  tags = merge(var.tags, { "batchlake:dataset" = each.key, "batchlake:component" = "ingest" })
}

resource "aws_glue_job" "transform" {
  for_each = var.datasets

  name                   = "${var.name_prefix}-transform-${each.key}"
  description            = "Clean ${each.key} from raw into the processed zone, check quality, publish (batchlake-transforms)"
  role_arn               = var.transform_role_arn
  glue_version           = "5.0"
  worker_type            = var.transform.worker_type
  number_of_workers      = var.transform.number_of_workers
  timeout                = var.transform.timeout_in_minutes
  max_retries            = var.transform.max_retries
  security_configuration = var.security_configuration_name

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = var.transform_artifacts.script_uri
  }

  execution_property {
    max_concurrent_runs = 1
  }

  default_arguments = {
    "--dataset"                          = each.key
    "--contract_uri"                     = each.value.contract_uri
    "--raw_bucket"                       = var.raw_bucket_name
    "--processed_bucket"                 = var.processed_bucket_name
    "--database"                         = var.database_name
    "--kms_key_arn"                      = var.kms_key_arn
    "--additional-python-modules"        = local.transform_wheels
    "--job-bookmark-option"              = "job-bookmark-enable"
    "--TempDir"                          = "s3://${var.processed_bucket_name}/staging/_glue-temp/${each.key}/"
    "--enable-glue-datacatalog"          = "true"
    "--enable-metrics"                   = "true"
    "--enable-continuous-cloudwatch-log" = "true"
    "--continuous-log-logGroup"          = aws_cloudwatch_log_group.transform[each.key].name
    "--job-language"                     = "python"
  }

  tags = merge(var.tags, { "batchlake:dataset" = each.key, "batchlake:component" = "transform" })
}

resource "aws_glue_workflow" "this" {
  for_each = var.datasets

  name                = "${var.name_prefix}-${each.key}"
  description         = "${each.key}: ingest -> crawl raw -> transform"
  max_concurrent_runs = 1
  tags                = merge(var.tags, { "batchlake:dataset" = each.key })
}

resource "aws_glue_trigger" "start" {
  for_each = var.datasets

  name              = "${var.name_prefix}-${each.key}-start"
  workflow_name     = aws_glue_workflow.this[each.key].name
  type              = each.value.schedule == null ? "ON_DEMAND" : "SCHEDULED"
  schedule          = each.value.schedule
  start_on_creation = each.value.schedule == null ? null : var.schedules_enabled
  tags              = merge(var.tags, { "batchlake:dataset" = each.key })

  actions {
    job_name = aws_glue_job.ingest[each.key].name
  }
}

resource "aws_glue_trigger" "crawl_raw" {
  for_each = var.datasets

  name              = "${var.name_prefix}-${each.key}-crawl-raw"
  workflow_name     = aws_glue_workflow.this[each.key].name
  type              = "CONDITIONAL"
  start_on_creation = true
  tags              = merge(var.tags, { "batchlake:dataset" = each.key })

  predicate {
    conditions {
      job_name = aws_glue_job.ingest[each.key].name
      state    = "SUCCEEDED"
    }
  }

  actions {
    crawler_name = each.value.crawler_name
  }
}

resource "aws_glue_trigger" "transform" {
  for_each = var.datasets

  name              = "${var.name_prefix}-${each.key}-transform"
  workflow_name     = aws_glue_workflow.this[each.key].name
  type              = "CONDITIONAL"
  start_on_creation = true
  tags              = merge(var.tags, { "batchlake:dataset" = each.key })

  predicate {
    conditions {
      crawler_name = each.value.crawler_name
      crawl_state  = "SUCCEEDED"
    }
  }

  actions {
    job_name = aws_glue_job.transform[each.key].name
  }
}
