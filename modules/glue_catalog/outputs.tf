output "database_name" {
  description = "Name of the Glue database."
  value       = aws_glue_catalog_database.this.name
}

output "crawler_names" {
  description = "Raw-zone crawler name per dataset."
  value       = { for k, c in aws_glue_crawler.raw : k => c.name }
}

output "crawler_arns" {
  description = "Raw-zone crawler ARN per dataset."
  value       = { for k, c in aws_glue_crawler.raw : k => c.arn }
}

output "security_configuration_name" {
  description = "Glue security configuration (KMS for logs, bookmarks, S3) for crawlers and jobs."
  value       = aws_glue_security_configuration.this.name
}
