provider "aws" {
  region = var.aws_region

  # A values file can only ever be applied to its own account: dev values never touch prod.
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = local.tags
  }
}
