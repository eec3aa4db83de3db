# Share a custom image with exactly these accounts. The set is authoritative:
# accounts added outside Terraform are removed by the next apply.
resource "volcengine_image_share" "golden" {
  image_id = "image-ebgy1og99tfct0gw0001"
  account_ids = [
    "2100050001",
    "2100050002",
    "2100050003",
  ]

  timeouts {
    create = "10m"
    update = "10m"
    delete = "10m"
  }
}
