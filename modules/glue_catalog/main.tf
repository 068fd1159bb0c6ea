# The catalog: one database, one raw-zone crawler per dataset, and the Glue security configuration
# (KMS for CloudWatch logs, job bookmarks and S3 writes) shared by crawlers and jobs.

resource "aws_glue_catalog_database" "this" {
  name        = var.database_name
  description = "batchlake lake: raw_<dataset> tables (crawled) and <dataset> tables (published by transforms)"
}

resource "aws_glue_security_configuration" "this" {
  name = "${var.name_prefix}-glue"

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = var.kms_key_arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }
  }
}

locals {
  # Contract schema.change_policy -> crawler UpdateBehavior. "fail" is enforced by the transform (it rejects the run);
  # the crawler only logs. Crawling new folders only requires LOG (an AWS rule).
  update_behavior = { update = "UPDATE_IN_DATABASE", log = "LOG", fail = "LOG" }
}

resource "aws_glue_crawler" "raw" {
  for_each = var.datasets

  name                   = "${var.name_prefix}-raw-${each.key}"
  description            = "Catalogs the raw zone of ${each.key} into ${var.database_name}.${var.raw_table_prefix}${each.key}"
  database_name          = aws_glue_catalog_database.this.name
  role                   = var.crawler_role_arn
  table_prefix           = var.raw_table_prefix
  security_configuration = aws_glue_security_configuration.this.name

  s3_target {
    path       = each.value.raw_s3_path
    exclusions = ["**/_manifest.json"]
  }

  recrawl_policy {
    recrawl_behavior = var.recrawl_new_folders_only ? "CRAWL_NEW_FOLDERS_ONLY" : "CRAWL_EVERYTHING"
  }

  schema_change_policy {
    update_behavior = var.recrawl_new_folders_only ? "LOG" : local.update_behavior[each.value.schema_change_policy]
    delete_behavior = "LOG"
  }

  configuration = jsonencode({
    Version = 1.0
    Grouping = {
      TableLevelConfiguration = 3 # raw/<dataset>/ is one table; ingest_date=/run_id= below it are partitions
    }
    CrawlerOutput = {
      Partitions = { AddOrUpdateBehavior = "InheritFromTable" }
    }
  })

  tags = merge(var.tags, { "batchlake:dataset" = each.key })
}
