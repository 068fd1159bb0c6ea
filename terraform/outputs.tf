# What the batchlake CLI reads (`batchlake output --workspace NAME`, batchlake.terraform.terraform_outputs).

output "environment" {
  description = "Workspace / environment name."
  value       = local.environment
}

output "aws_region" {
  description = "Region of the lake."
  value       = var.aws_region
}

output "raw_bucket_name" {
  description = "Bucket of the raw zone (raw/) and ingest state (state/)."
  value       = module.data_lake.raw_bucket_name
}

output "processed_bucket_name" {
  description = "Bucket of the processed, staging, quarantine and reports zones."
  value       = module.data_lake.processed_bucket_name
}

output "athena_results_bucket_name" {
  description = "Bucket of Athena results (athena-results/)."
  value       = module.data_lake.athena_results_bucket_name
}

output "artifacts_bucket_name" {
  description = "Bucket of wheels, job scripts and contracts (artifacts/)."
  value       = module.data_lake.artifacts_bucket_name
}

output "kms_key_arn" {
  description = "ARN of the lake's KMS key."
  value       = module.data_lake.kms_key_arn
}

output "glue_database_name" {
  description = "Glue database of raw_<dataset> and <dataset> tables."
  value       = module.glue_catalog.database_name
}

output "athena_workgroup_name" {
  description = "Athena workgroup (enforced, encrypted results)."
  value       = module.athena.workgroup_name
}

output "ingest_job_names" {
  description = "Ingest Glue job per dataset."
  value       = module.glue_pipeline.ingest_job_names
}

output "transform_job_names" {
  description = "Transform Glue job per dataset."
  value       = module.glue_pipeline.transform_job_names
}

output "crawler_names" {
  description = "Raw-zone crawler per dataset."
  value       = module.glue_catalog.crawler_names
}

output "workflow_names" {
  description = "Glue workflow per dataset."
  value       = module.glue_pipeline.workflow_names
}

output "named_query_ids" {
  description = "Athena named query id by <dataset>/<sql file stem>."
  value       = module.athena.named_query_ids
}

output "role_arns" {
  description = "Component role ARNs (ingest, crawler, transform, analyst)."
  value       = module.iam.role_arns
}

output "contract_uris" {
  description = "Uploaded contract per dataset (the jobs' --contract_uri)."
  value       = { for name, c in local.contract_objects : name => "${local.artifacts_uri}/${c.key}" }
}
