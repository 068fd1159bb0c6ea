# The lake's storage: one bucket per zone group, all SSE-KMS with one customer-managed key (S3 bucket keys on),
# versioned, private, TLS-only, with lifecycle rules and server access logs in a dedicated bucket.

locals {
  # Buckets that hold lake data (encrypted with the lake key, access-logged).
  data_buckets = {
    raw            = var.bucket_names.raw
    processed      = var.bucket_names.processed
    athena_results = var.bucket_names.athena_results
    artifacts      = var.bucket_names.artifacts
  }
  all_buckets = merge(local.data_buckets, { access_logs = var.bucket_names.access_logs })
}

resource "aws_kms_key" "this" {
  description             = "batchlake lake data: S3 objects, Glue logs and bookmarks, Athena results"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  policy                  = var.kms_key_policy_json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.kms_key_alias}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice per deployment; the lake is re-buildable from the source API and versioned in place.
  # checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications: Glue workflows are scheduled and crawl new folders.
  # checkov:skip=CKV_AWS_18:Access logging is set by aws_s3_bucket_logging.this for every data bucket; the access_logs bucket is the log target itself (logging it to itself would loop).
  # checkov:skip=CKV_AWS_145:Data buckets use the lake KMS key (aws_s3_bucket_server_side_encryption_configuration.data); the access_logs bucket must use SSE-S3 because S3 server access logging cannot write to SSE-KMS buckets.
  for_each = local.all_buckets

  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { "batchlake:zone" = each.key })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.this[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.this["access_logs"].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256" # S3 server access logging only delivers to SSE-S3 buckets
    }
  }
}

resource "aws_s3_bucket_logging" "this" {
  for_each = local.data_buckets

  bucket        = aws_s3_bucket.this[each.key].id
  target_bucket = aws_s3_bucket.this["access_logs"].id
  target_prefix = "${each.value}/"
}

# TLS only, for every bucket; the access-log bucket also lets the S3 logging service write (from this account only).
data "aws_iam_policy_document" "bucket" {
  for_each = local.all_buckets

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this[each.key].arn, "${aws_s3_bucket.this[each.key].arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = each.key == "access_logs" ? [1] : []
    content {
      sid       = "AllowS3ServerAccessLogs"
      effect    = "Allow"
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.this[each.key].arn}/*"]
      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }
      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [for zone in keys(local.data_buckets) : aws_s3_bucket.this[zone].arn]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = data.aws_iam_policy_document.bucket[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_in_days
    }
  }

  dynamic "rule" {
    for_each = each.key == "raw" ? [1] : []
    content {
      id     = "raw-to-infrequent-access-then-glacier"
      status = "Enabled"
      filter {
        prefix = "raw/"
      }
      transition {
        days          = var.raw_transition_to_ia_after_days
        storage_class = "STANDARD_IA"
      }
      transition {
        days          = var.raw_transition_to_glacier_after_days
        storage_class = "GLACIER"
      }
    }
  }

  dynamic "rule" {
    for_each = each.key == "athena_results" ? [1] : []
    content {
      id     = "expire-athena-results"
      status = "Enabled"
      filter {
        prefix = "athena-results/"
      }
      expiration {
        days = var.athena_results_expiration_in_days
      }
    }
  }

  dynamic "rule" {
    for_each = each.key == "access_logs" ? [1] : []
    content {
      id     = "expire-access-logs"
      status = "Enabled"
      filter {}
      expiration {
        days = var.access_logs_expiration_in_days
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}
