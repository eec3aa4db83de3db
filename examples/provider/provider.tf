# Credentials, region and endpoint may also come from the environment:
# VOLCENGINE_ACCESS_KEY, VOLCENGINE_SECRET_KEY, VOLCENGINE_SESSION_TOKEN,
# VOLCENGINE_REGION and VOLCENGINE_ENDPOINT.
provider "volcengine" {
  region      = "cn-beijing"
  max_retries = 5
}
