output "role_arns" {
  description = "ARN of each component role: ingest, crawler, transform, analyst."
  value       = { for k, r in aws_iam_role.this : k => r.arn }
}

output "role_names" {
  description = "Name of each component role: ingest, crawler, transform, analyst."
  value       = { for k, r in aws_iam_role.this : k => r.name }
}

output "role_policy_documents" {
  description = "The inline policy (JSON) of each component role, as attached."
  value       = { for k, p in aws_iam_role_policy.this : k => p.policy }
}

output "kms_key_policy_json" {
  description = "Key policy for the lake's KMS key: administrators, the component roles, and CloudWatch Logs for Glue log groups."
  value       = jsonencode(local.kms_key_policy)
}
