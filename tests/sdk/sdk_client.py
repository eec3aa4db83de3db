"""Drives the emulator with Volcengine's official Python SDK (volcenginesdkecs).

Usage: sdk_client.py HOST:PORT ACCESS_KEY SECRET_KEY REGION IMAGE_ID ACCOUNT...

Calls ModifyImageSharePermission (adding ACCOUNTs) and then
DescribeImageSharePermission, and prints one JSON object per call on stdout:
{"action": ..., "ok": true, "result": {...}} or
{"action": ..., "ok": false, "status": N, "code": ..., "request_id": ...}.
"""

import json
import sys

import volcenginesdkcore
import volcenginesdkecs
from volcenginesdkcore.rest import ApiException


def client(host, access_key, secret_key, region):
    configuration = volcenginesdkcore.Configuration()
    configuration.ak = access_key
    configuration.sk = secret_key
    configuration.region = region
    configuration.host = host
    configuration.scheme = "http"
    # Each call must reach the emulator exactly once: the test counts them.
    configuration.auto_retry = False
    return volcenginesdkecs.ECSApi(volcenginesdkcore.ApiClient(configuration))


def call(action, fn, request):
    try:
        response = fn(request)
        # Actions with an empty Result come back as a plain dict.
        result = response.to_dict() if hasattr(response, "to_dict") else response
        return {"action": action, "ok": True, "result": result}
    except ApiException as error:
        body = json.loads(error.body)
        metadata = body["ResponseMetadata"]
        return {
            "action": action,
            "ok": False,
            "status": error.status,
            "code": metadata["Error"]["Code"],
            "request_id": metadata["RequestId"],
        }


def main():
    host, access_key, secret_key, region, image_id = sys.argv[1:6]
    accounts = sys.argv[6:]
    api = client(host, access_key, secret_key, region)
    outcomes = [
        call(
            "ModifyImageSharePermission",
            api.modify_image_share_permission,
            volcenginesdkecs.ModifyImageSharePermissionRequest(
                image_id=image_id, add_accounts=accounts
            ),
        ),
        call(
            "DescribeImageSharePermission",
            api.describe_image_share_permission,
            volcenginesdkecs.DescribeImageSharePermissionRequest(
                image_id=image_id, max_results=2
            ),
        ),
    ]
    for outcome in outcomes:
        print(json.dumps(outcome, sort_keys=True))


if __name__ == "__main__":
    main()
