output "object_uris" {
  description = "s3:// URI of each uploaded object, by key."
  value       = { for k, o in aws_s3_object.this : k => "s3://${o.bucket}/${o.key}" }
}

output "object_version_ids" {
  description = "S3 version id of each uploaded object, by key (the bucket is versioned)."
  value       = { for k, o in aws_s3_object.this : k => o.version_id }
}
