# The import ID is the image ID; the accounts the image is shared with are read
# from Volcengine and become the resource's account_ids.
terraform import volcengine_image_share.golden image-ebgy1og99tfct0gw0001
