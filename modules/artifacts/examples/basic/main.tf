# Upload one file as a content-addressed artifact.

module "artifacts" {
  source = "../.."

  bucket_name = "example-dev-artifacts"
  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  objects = {
    "artifacts/example/0.1.0/${substr(filesha256("${path.module}/main.tf"), 0, 16)}/main.tf" = {
      source       = "${path.module}/main.tf"
      sha256       = filesha256("${path.module}/main.tf")
      content_type = "text/plain"
    }
  }
}

output "object_uris" {
  description = "Uploaded objects."
  value       = module.artifacts.object_uris
}
