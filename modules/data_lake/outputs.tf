output "raw_bucket_name" {
  description = "Bucket of the raw zone (raw/) and of ingest state (state/)."
  value       = aws_s3_bucket.this["raw"].id
}

output "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  value       = aws_s3_bucket.this["raw"].arn
}

output "processed_bucket_name" {
  description = "Bucket of the processed, staging, quarantine and reports zones."
  value       = aws_s3_bucket.this["processed"].id
}

output "processed_bucket_arn" {
  description = "ARN of the processed bucket."
  value       = aws_s3_bucket.this["processed"].arn
}

output "athena_results_bucket_name" {
  description = "Bucket of Athena query results (athena-results/)."
  value       = aws_s3_bucket.this["athena_results"].id
}

output "athena_results_bucket_arn" {
  description = "ARN of the Athena results bucket."
  value       = aws_s3_bucket.this["athena_results"].arn
}

output "artifacts_bucket_name" {
  description = "Bucket of the shipped wheels, job scripts and contracts (artifacts/)."
  value       = aws_s3_bucket.this["artifacts"].id
}

output "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket."
  value       = aws_s3_bucket.this["artifacts"].arn
}

output "access_logs_bucket_name" {
  description = "Bucket receiving the S3 server access logs of the other buckets."
  value       = aws_s3_bucket.this["access_logs"].id
}

output "kms_key_arn" {
  description = "ARN of the lake's KMS key."
  value       = aws_kms_key.this.arn
}

output "kms_key_alias_name" {
  description = "Alias of the lake's KMS key (alias/...)."
  value       = aws_kms_alias.this.name
}
