# Shipped artifacts: wheels, Glue entry scripts and contracts, as immutable content-addressed objects.
# The keys carry package, version and a sha256 prefix, so a Glue job always points at exact bytes.

resource "aws_s3_object" "this" {
  for_each = var.objects

  bucket       = var.bucket_name
  key          = each.key
  source       = each.value.source
  source_hash  = each.value.sha256
  content_type = each.value.content_type
  kms_key_id   = var.kms_key_arn
  tags         = var.tags
}
