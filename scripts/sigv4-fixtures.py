#!/usr/bin/env python3
"""Capture boto3 pre-signed URLs for fixed inputs into a JSON fixture.

The Swift SigV4 tests recompute every URL from the same inputs and must get the
same signature; they also feed each URL to the verifier, which must accept it.
Run once and commit the output (the clock is frozen, so reruns are identical):

    python3 scripts/sigv4-fixtures.py > Tests/ClassyTests/Fixtures/boto3-presign.json
"""
import datetime
import json
import sys
from unittest import mock
from urllib.parse import urlsplit, parse_qsl

import boto3
import botocore
import botocore.auth
from botocore.config import Config

ACCESS_KEY = "AKIDEXAMPLESANDBOX01"
SECRET_KEY = "sandbox/secret+Key0123456789abcdefEXAMPLE"

CASES = [
    # (name, endpoint, region, method, bucket, key, extra params, expires, frozen time)
    ("put-png-content-type", "http://127.0.0.1:9000", "us-east-1", "put_object", "assets", "uploads/1.png",
     {"ContentType": "image/png"}, 900, datetime.datetime(2016, 3, 31, 22, 49, 18)),
    ("put-jpeg-content-md5", "http://127.0.0.1:4566", "us-east-1", "put_object", "assets", "uploads/photo 2.jpeg",
     {"ContentType": "image/jpeg", "ContentMD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}, 900, datetime.datetime(2026, 11, 23, 4, 5, 6)),
    ("put-gif-unicode-key", "http://localhost:5000", "eu-west-3", "put_object", "my-bucket", "dir/ünï cødé+&=.gif",
     {"ContentType": "image/gif"}, 60, datetime.datetime(2024, 2, 29, 23, 59, 59)),
    ("get-object-no-headers", "https://s3.amazonaws.com", "us-east-1", "get_object", "examplebucket", "test.txt",
     {}, 86400, datetime.datetime(2013, 5, 24, 0, 0, 0)),
]


def capture(name, endpoint, region, op, bucket, key, extra, expires, when):
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name=region,
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    params = {"Bucket": bucket, "Key": key, **extra}
    method = "PUT" if op == "put_object" else "GET"
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        url = client.generate_presigned_url(op, Params=params, ExpiresIn=expires, HttpMethod=method)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    headers = {}
    if "ContentType" in extra:
        headers["content-type"] = extra["ContentType"]
    if "ContentMD5" in extra:
        headers["content-md5"] = extra["ContentMD5"]
    return {
        "name": name,
        "method": method,
        "host": parts.netloc,
        "path": "/" + bucket + "/" + key,
        "encodedPath": parts.path,
        "extraQuery": {k: v for k, v in query.items() if not k.startswith("X-Amz-")},
        "headers": headers,
        "region": region,
        "amzDate": when.strftime("%Y%m%dT%H%M%SZ"),
        "expires": expires,
        "signedHeaders": query["X-Amz-SignedHeaders"],
        "signature": query["X-Amz-Signature"],
        "url": url,
    }


def main():
    out = {
        "generator": f"boto3 {boto3.__version__} / botocore {botocore.__version__}",
        "accessKeyID": ACCESS_KEY,
        "secretAccessKey": SECRET_KEY,
        "cases": [capture(*c) for c in CASES],
    }
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
