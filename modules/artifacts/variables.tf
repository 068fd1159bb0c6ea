variable "bucket_name" {
  description = "Artifacts bucket (data_lake module)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key the objects are encrypted with."
  type        = string
}

variable "objects" {
  description = "Files to upload, by object key (artifacts/<package>/<version>/<sha256 prefix>/<file>): local source path and its sha256 (re-uploaded when it changes)."
  type = map(object({
    source       = string
    sha256       = string
    content_type = optional(string, "application/octet-stream")
  }))

  validation {
    condition     = alltrue([for k in keys(var.objects) : startswith(k, "artifacts/")])
    error_message = "Every object key must start with artifacts/ (the artifacts zone prefix)."
  }
  validation {
    condition     = alltrue([for o in values(var.objects) : can(regex("^[0-9a-f]{64}$", o.sha256))])
    error_message = "sha256 must be 64 lowercase hex characters (from dist/manifest.json)."
  }
}

variable "tags" {
  description = "Tags added to every object."
  type        = map(string)
  default     = {}
}
