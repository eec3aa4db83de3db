# Read the accounts an image is shared with, wherever the sharing was set up.
data "volcengine_image_share" "golden" {
  image_id = "image-ebgy1og99tfct0gw0001"
}

output "golden_image_shared_with" {
  value = data.volcengine_image_share.golden.account_ids
}
