output "workgroup_name" {
  description = "Name of the Athena workgroup."
  value       = aws_athena_workgroup.this.name
}

output "workgroup_arn" {
  description = "ARN of the Athena workgroup."
  value       = aws_athena_workgroup.this.arn
}

output "results_location" {
  description = "Enforced S3 location of query results."
  value       = "s3://${var.results_bucket_name}/athena-results/"
}

output "named_query_ids" {
  description = "Id of each named query, by name."
  value       = { for k, q in aws_athena_named_query.this : k => q.id }
}
