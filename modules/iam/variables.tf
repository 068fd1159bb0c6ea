variable "name_prefix" {
  description = "Prefix of every role name, e.g. batchlake-dev."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,40}$", var.name_prefix))
    error_message = "name_prefix must be 1-40 characters valid in IAM role names."
  }
}

variable "aws_account_id" {
  description = "Account that owns the lake (role trust conditions, key policy, Glue catalog ARNs)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits."
  }
}

variable "raw_bucket_arn" {
  description = "ARN of the raw bucket (raw/ and state/ prefixes)."
  type        = string
}

variable "processed_bucket_arn" {
  description = "ARN of the processed bucket (processed/, staging/, quarantine/, reports/ prefixes)."
  type        = string
}

variable "athena_results_bucket_arn" {
  description = "ARN of the Athena results bucket (athena-results/ prefix)."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket (artifacts/ prefix: wheels, job scripts, contracts)."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the lake's KMS key. Its key policy is this module's kms_key_policy_json output."
  type        = string
}

variable "glue_database_name" {
  description = "Glue database holding the raw_<dataset> and <dataset> tables."
  type        = string
}

variable "datasets" {
  description = "Dataset names: the transform role may write only the processed tables of these datasets."
  type        = set(string)
}

variable "athena_workgroup_name" {
  description = "The only Athena workgroup the analyst role may use."
  type        = string
}

variable "analyst_trusted_principal_arns" {
  description = "Principals that may assume the analyst role. Empty = IAM principals of this account that are allowed sts:AssumeRole on it."
  type        = list(string)
  default     = []
}

variable "key_administrator_arns" {
  description = "Principals that administer (not use) the KMS key. Empty = the account root, i.e. IAM policies of the account decide."
  type        = list(string)
  default     = []
}

variable "source_secret_arns" {
  description = "Secrets Manager secrets holding source API credentials that the ingest role may read."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every role."
  type        = map(string)
  default     = {}
}
