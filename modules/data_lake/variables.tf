variable "bucket_names" {
  description = "Name of each bucket. The zones keep their own prefix inside their bucket (raw/, state/, processed/, ...)."
  type = object({
    raw            = string
    processed      = string
    athena_results = string
    artifacts      = string
    access_logs    = string
  })

  validation {
    condition     = alltrue([for n in values(var.bucket_names) : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", n))])
    error_message = "Bucket names must be 3-63 characters of lowercase letters, digits, dots and hyphens."
  }
}

variable "kms_key_policy_json" {
  description = "Key policy of the lake's KMS key (the iam module renders it: it knows which roles use the key)."
  type        = string
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion completes."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30
    error_message = "kms_key_deletion_window_in_days must be between 7 and 30."
  }
}

variable "kms_key_alias" {
  description = "Alias of the KMS key, without the alias/ prefix."
  type        = string
}

variable "raw_transition_to_ia_after_days" {
  description = "Raw objects move to STANDARD_IA after this many days."
  type        = number
  default     = 30
}

variable "raw_transition_to_glacier_after_days" {
  description = "Raw objects move to GLACIER (flexible retrieval) after this many days."
  type        = number
  default     = 180

  validation {
    condition     = var.raw_transition_to_glacier_after_days > 30
    error_message = "raw_transition_to_glacier_after_days must be more than 30 (STANDARD_IA has a 30 day minimum)."
  }
}

variable "athena_results_expiration_in_days" {
  description = "Query results in the Athena results bucket are deleted after this many days."
  type        = number
  default     = 30
}

variable "noncurrent_version_expiration_in_days" {
  description = "Overwritten or deleted object versions are kept this many days (undo window) in every bucket."
  type        = number
  default     = 90
}

variable "access_logs_expiration_in_days" {
  description = "S3 server access logs are kept this many days."
  type        = number
  default     = 365
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete non-empty buckets. Only for throw-away workspaces."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
