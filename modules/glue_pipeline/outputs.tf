output "ingest_job_names" {
  description = "Ingest Glue job name per dataset."
  value       = { for k, j in aws_glue_job.ingest : k => j.name }
}

output "transform_job_names" {
  description = "Transform Glue job name per dataset."
  value       = { for k, j in aws_glue_job.transform : k => j.name }
}

output "workflow_names" {
  description = "Glue workflow name per dataset (schedule -> ingest -> crawl raw -> transform)."
  value       = { for k, w in aws_glue_workflow.this : k => w.name }
}

output "transform_log_group_names" {
  description = "Encrypted CloudWatch log group of each transform job."
  value       = { for k, g in aws_cloudwatch_log_group.transform : k => g.name }
}
