# Quickstart: share one image with a set of accounts and read the result back.
#
# Credentials, region and endpoint come from the environment (VOLCENGINE_ACCESS_KEY,
# VOLCENGINE_SECRET_KEY, VOLCENGINE_REGION, VOLCENGINE_ENDPOINT), so the same
# configuration runs against Volcengine or against the local emulator
# (scripts/demo.sh does the latter).

terraform {
  required_providers {
    volcengine = {
      source = "volcengine/volcengine"
    }
  }
}

provider "volcengine" {}

variable "image_id" {
  description = "The custom image to share."
  type        = string
}

variable "account_ids" {
  description = "Every account the image should be shared with, and no other."
  type        = set(string)
}

resource "volcengine_image_share" "this" {
  image_id    = var.image_id
  account_ids = var.account_ids
}

# Read back through the data source; it is read after the share is applied
# because it refers to the resource.
data "volcengine_image_share" "this" {
  image_id = volcengine_image_share.this.id
}

output "shared_with" {
  description = "Accounts the image is shared with, as Volcengine reports them."
  value       = data.volcengine_image_share.this.account_ids
}
