# One role per component, each allowed exactly the prefixes, tables and named resources its code touches.
# No action wildcard on "*": the only statements with Resource "*" are CloudWatch PutMetricData (no resource-level
# permissions exist; restricted by namespace) and the KMS key policy (where "*" means this key).

data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  components = ["ingest", "crawler", "transform", "analyst"]

  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = var.aws_account_id

  catalog_arn  = "arn:${local.partition}:glue:${local.region}:${local.account}:catalog"
  database_arn = "arn:${local.partition}:glue:${local.region}:${local.account}:database/${var.glue_database_name}"
  table_arn    = "arn:${local.partition}:glue:${local.region}:${local.account}:table/${var.glue_database_name}"

  raw_table_arns       = [for d in sort(tolist(var.datasets)) : "${local.table_arn}/raw_${d}"]
  processed_table_arns = [for d in sort(tolist(var.datasets)) : "${local.table_arn}/${d}"]

  glue_log_groups = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws-glue/*"
  workgroup_arn   = "arn:${local.partition}:athena:${local.region}:${local.account}:workgroup/${var.athena_workgroup_name}"

  kms_use = {
    Sid      = "UseLakeKey"
    Effect   = "Allow"
    Action   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    Resource = [var.kms_key_arn]
  }
  read_artifacts = {
    Sid      = "ReadArtifacts"
    Effect   = "Allow"
    Action   = ["s3:GetObject"]
    Resource = ["${var.artifacts_bucket_arn}/artifacts/*"]
  }
  glue_logs = {
    Sid      = "WriteGlueLogs"
    Effect   = "Allow"
    Action   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    Resource = [local.glue_log_groups, "${local.glue_log_groups}:log-stream:*"]
  }
  glue_metrics = {
    Sid       = "PublishGlueMetrics"
    Effect    = "Allow"
    Action    = ["cloudwatch:PutMetricData"]
    Resource  = ["*"]
    Condition = { StringEquals = { "cloudwatch:namespace" = "Glue" } }
  }
  list_bucket = { for name, spec in {
    raw       = { bucket = var.raw_bucket_arn, prefixes = ["raw/*", "state/*"] }
    raw_only  = { bucket = var.raw_bucket_arn, prefixes = ["raw/*"] }
    processed = { bucket = var.processed_bucket_arn, prefixes = ["processed/*", "staging/*", "quarantine/*", "reports/*"] }
    } : name => {
    Sid       = "List${replace(title(replace(name, "_", " ")), " ", "")}Prefixes"
    Effect    = "Allow"
    Action    = ["s3:ListBucket"]
    Resource  = [spec.bucket]
    Condition = { StringLike = { "s3:prefix" = concat(spec.prefixes, [for p in spec.prefixes : trimsuffix(p, "*")]) } }
    }
  }

  policies = {
    ingest = concat([
      local.list_bucket.raw,
      {
        Sid      = "WriteRawAndState"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = ["${var.raw_bucket_arn}/raw/*", "${var.raw_bucket_arn}/state/*"]
      },
      local.read_artifacts, local.kms_use, local.glue_logs, local.glue_metrics,
      ], length(var.source_secret_arns) == 0 ? [] : [{
        Sid      = "ReadSourceApiSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = var.source_secret_arns
    }])
    crawler = [
      local.list_bucket.raw_only,
      {
        Sid      = "ReadRaw"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["${var.raw_bucket_arn}/raw/*"]
      },
      {
        Sid    = "CatalogRawTables"
        Effect = "Allow"
        Action = [
          "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
          "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition", "glue:CreatePartition",
          "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:BatchUpdatePartition",
        ]
        Resource = concat([local.catalog_arn, local.database_arn], local.raw_table_arns)
      },
      local.kms_use, local.glue_logs,
    ]
    transform = [
      local.list_bucket.raw, local.list_bucket.processed,
      {
        Sid      = "ReadRaw"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["${var.raw_bucket_arn}/raw/*"]
      },
      {
        Sid      = "ReadWriteState"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = ["${var.raw_bucket_arn}/state/*"]
      },
      {
        Sid      = "WriteProcessedZones"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = [for p in ["processed", "staging", "quarantine", "reports"] : "${var.processed_bucket_arn}/${p}/*"]
      },
      {
        Sid      = "ReadRawTables"
        Effect   = "Allow"
        Action   = ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"]
        Resource = concat([local.catalog_arn, local.database_arn], local.raw_table_arns)
      },
      {
        Sid    = "PublishProcessedTables"
        Effect = "Allow"
        Action = [
          "glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable",
          "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition", "glue:CreatePartition",
          "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:BatchUpdatePartition",
          "glue:DeletePartition", "glue:BatchDeletePartition",
        ]
        Resource = concat([local.catalog_arn, local.database_arn], local.processed_table_arns)
      },
      local.read_artifacts, local.kms_use, local.glue_logs, local.glue_metrics,
    ]
    analyst = [
      {
        Sid    = "QueryInWorkgroup"
        Effect = "Allow"
        Action = [
          "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
          "athena:StopQueryExecution", "athena:GetWorkGroup", "athena:ListNamedQueries", "athena:GetNamedQuery",
          "athena:BatchGetNamedQuery", "athena:ListQueryExecutions",
        ]
        Resource = [local.workgroup_arn]
      },
      {
        Sid      = "ReadCatalog"
        Effect   = "Allow"
        Action   = ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"]
        Resource = concat([local.catalog_arn, local.database_arn], local.processed_table_arns)
      },
      {
        Sid       = "ListProcessed"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [var.processed_bucket_arn]
        Condition = { StringLike = { "s3:prefix" = ["processed/*", "processed/", "reports/*", "reports/"] } }
      },
      {
        Sid      = "ReadProcessedAndReports"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["${var.processed_bucket_arn}/processed/*", "${var.processed_bucket_arn}/reports/*"]
      },
      {
        Sid      = "AthenaResultsBucket"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation", "s3:ListBucket"]
        Resource = [var.athena_results_bucket_arn]
      },
      {
        Sid      = "ReadWriteAthenaResults"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
        Resource = ["${var.athena_results_bucket_arn}/athena-results/*"]
      },
      local.kms_use,
    ]
  }

  glue_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "glue.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
  analyst_principals = length(var.analyst_trusted_principal_arns) > 0 ? var.analyst_trusted_principal_arns : ["arn:${local.partition}:iam::${local.account}:root"]
  analyst_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { AWS = local.analyst_principals }
    }]
  })
  trust = { ingest = local.glue_trust, crawler = local.glue_trust, transform = local.glue_trust, analyst = local.analyst_trust }
}

resource "aws_iam_role" "this" {
  for_each = toset(local.components)

  name                 = "${var.name_prefix}-${each.key}"
  description          = "batchlake ${each.key}: least privilege, scoped to its prefixes and tables"
  assume_role_policy   = local.trust[each.key]
  max_session_duration = 3600
  tags                 = merge(var.tags, { "batchlake:component" = each.key })
}

resource "aws_iam_role_policy" "this" {
  for_each = local.policies

  name   = "${var.name_prefix}-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = jsonencode({ Version = "2012-10-17", Statement = each.value })
}

locals {
  key_administrators = length(var.key_administrator_arns) > 0 ? var.key_administrator_arns : ["arn:${local.partition}:iam::${local.account}:root"]
  kms_key_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "KeyAdministration"
        Effect    = "Allow"
        Principal = { AWS = local.key_administrators }
        Action = [
          "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
          "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
          "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
        ]
        Resource = "*"
      },
      {
        Sid       = "ComponentRolesUseKey"
        Effect    = "Allow"
        Principal = { AWS = [for r in aws_iam_role.this : r.arn] }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptGlueLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          ArnLike = { "kms:EncryptionContext:aws:logs:arn" = local.glue_log_groups }
        }
      },
    ]
  }
}
