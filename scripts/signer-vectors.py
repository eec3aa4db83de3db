#!/usr/bin/env python3
"""Signature test vectors from the official Volcengine Python SDK.

Runs `volcenginesdkcore.signv4.SignerV4.sign` (volcenginesdk-core, the
independent oracle) with its clock pinned to each case's time, and prints
JSON: every case's inputs and the headers the SDK produced. The committed
copy lives in tests/vectors/signer.json; tests/signer_vectors.rs checks our
signer against it and re-runs this script to check the file is current.

Usage: .tools/venv/bin/python scripts/signer-vectors.py [--out FILE]
"""

import argparse
import datetime as real_datetime
import json
import sys
import types
from urllib.parse import urlencode

from volcenginesdkcore import signv4
from volcenginesdkcore.signv4 import SignerV4

AK = "AKLTEXAMPLEACCESSKEY"
SK = "WmpFeE1qRXhNV0UzTlRFd05EZ3pZMkZoTlRVME1EY3lNV0l6T1RZek1qVQ=="
IMAGE = "image-ebgy1og99tfct0gw1234"
FORM = "application/x-www-form-urlencoded"


def base_query(action, **extra):
    query = [("Action", action), ("Version", "2020-04-01")]
    query.extend(extra.items())
    return query


def case(name, now, query, *, method="GET", host="open.volcengineapi.com", path="/",
         content_type=None, post_params=None, session_token=None, extra_headers=None,
         region="cn-beijing", service="ecs", ak=AK, sk=SK):
    return dict(name=name, now=now, query=query, method=method, host=host, path=path,
                content_type=content_type, post_params=post_params,
                session_token=session_token, extra_headers=extra_headers or [],
                region=region, service=service, access_key=ak, secret_key=sk)


def cases():
    many = [(f"AddAccounts.{i}", f"2100{i:06d}") for i in range(1, 51)]
    return [
        case("get_describe_plain", "20240521T102616Z",
             base_query("DescribeImageSharePermission", ImageId=IMAGE, MaxResults="100")),
        case("get_modify_one_account", "20220701T092400Z",
             base_query("ModifyImageSharePermission", ImageId=IMAGE,
                        **{"AddAccounts.1": "2100051234"})),
        case("post_form_body", "20240521T235959Z",
             base_query("ModifyImageSharePermission"),
             method="POST", content_type=FORM,
             post_params=[("ImageId", IMAGE), ("AddAccounts.1", "2100051234"),
                          ("RemoveAccounts.1", "2100001234"), ("Note", "a b+c")]),
        case("post_form_with_charset", "20240101T000000Z", [],
             method="POST", content_type=FORM + "; charset=utf-8",
             post_params=[("Action", "DescribeImageSharePermission"),
                          ("Version", "2020-04-01"), ("ImageId", IMAGE)]),
        case("special_characters", "20240521T102616Z",
             base_query("DescribeImageSharePermission", ImageId=IMAGE,
                        NextToken="a b+c*d~e/f=g&h%i",
                        **{"Key With Space": "x y", "k~*": "~*'()!"})),
        case("unicode_values", "20240521T102616Z",
             base_query("DescribeImageSharePermission", ImageId=IMAGE,
                        Description="共享镜像 ✓ 🚀", **{"Tag.键": "值"})),
        case("empty_values", "20240521T102616Z",
             base_query("DescribeImageSharePermission", ImageId=IMAGE, NextToken="",
                        MaxResults="")),
        case("many_add_accounts", "20240521T102616Z",
             base_query("ModifyImageSharePermission", ImageId=IMAGE, **dict(many))),
        case("add_and_remove_accounts", "20240521T102616Z",
             base_query("ModifyImageSharePermission", ImageId=IMAGE,
                        **dict(many[:12]),
                        **{f"RemoveAccounts.{i}": f"2200{i:06d}" for i in range(1, 12)})),
        case("session_token", "20240521T102616Z",
             base_query("DescribeImageSharePermission", ImageId=IMAGE),
             session_token="STSeyJleGFtcGxlIjoidG9rZW4ifQ==/+token"),
        case("host_port_443_dropped", "20240521T102616Z",
             base_query("DescribeImageSharePermission", ImageId=IMAGE),
             host="open.volcengineapi.com:443"),
        case("host_port_80_dropped", "20240521T102616Z",
             base_query("DescribeImageSharePermission", ImageId=IMAGE),
             host="open.volcengineapi.com:80"),
        case("host_nondefault_port", "20240521T102616Z",
             base_query("DescribeImageSharePermission", ImageId=IMAGE),
             host="127.0.0.1:18443"),
        case("regional_host_other_region", "20231231T235959Z",
             base_query("DescribeImageSharePermission", ImageId=IMAGE),
             host="ecs.ap-southeast-1.volcengineapi.com", region="ap-southeast-1"),
        case("empty_path", "20240521T102616Z",
             base_query("DescribeImageSharePermission", ImageId=IMAGE), path=""),
        case("extra_x_header_signed", "20240521T102616Z",
             base_query("DescribeImageSharePermission", ImageId=IMAGE),
             extra_headers=[("X-Custom-Trace", "trace-1")]),
    ]


class FixedClock(object):
    """Stands in for the `datetime` module inside signv4: utcnow() is pinned."""

    def __init__(self, when):
        fixed = real_datetime.datetime.strptime(when, "%Y%m%dT%H%M%SZ")
        self.datetime = types.SimpleNamespace(utcnow=lambda: fixed)


def run_case(c):
    headers = {"Host": c["host"]}
    if c["content_type"] is not None:
        headers["Content-Type"] = c["content_type"]
    for name, value in c["extra_headers"]:
        headers[name] = value
    body = ""
    if c["post_params"]:
        # What the SDK sends (and hashes) for a form POST.
        body = urlencode(c["post_params"])
    saved = signv4.datetime
    signv4.datetime = FixedClock(c["now"])
    try:
        SignerV4.sign(c["path"], c["method"], headers, "", c["post_params"], c["query"],
                      c["access_key"], c["secret_key"], c["region"], c["service"],
                      session_token=c["session_token"])
    finally:
        signv4.datetime = saved
    out = {k: c[k] for k in ("name", "now", "method", "host", "path", "content_type",
                             "session_token", "region", "service", "access_key",
                             "secret_key")}
    out["query"] = [list(pair) for pair in c["query"]]
    out["body"] = body
    out["extra_headers"] = [list(pair) for pair in c["extra_headers"]]
    # Every header the SDK put on the request, as sent.
    out["sdk_headers"] = sorted([k, v] for k, v in headers.items())
    out["expected"] = {
        "X-Date": headers["X-Date"],
        "X-Content-Sha256": headers["X-Content-Sha256"],
        "Authorization": headers["Authorization"],
    }
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write here instead of stdout")
    args = parser.parse_args()
    try:
        from importlib.metadata import version
        sdk = "volcenginesdk-core " + version("volcenginesdk-core")
    except Exception:  # pragma: no cover - metadata is always there from pip
        sdk = "volcenginesdk-core"
    doc = {
        "generator": "scripts/signer-vectors.py using " + sdk
                     + " volcenginesdkcore.signv4.SignerV4.sign",
        "cases": [run_case(c) for c in cases()],
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
