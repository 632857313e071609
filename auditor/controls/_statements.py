"""Bucket-policy statements the policy controls write, and how to add one to a live policy."""

from __future__ import annotations

import json

from auditor.controls._commands import quote
from auditor.controls.registry import Request
from auditor.model import PolicyDocument


def resources(bucket: str) -> list[str]:
    """The bucket and all its objects."""
    return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def deny_everyone(sid: str, bucket: str, condition: dict[str, dict[str, str]]) -> dict[str, object]:
    """A Deny of every S3 action to everyone on the bucket and its objects, under `condition`."""
    return {"Sid": sid, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": resources(bucket), "Condition": condition}


def put_policy(bucket: str, statement: dict[str, object]) -> Request:
    """PutBucketPolicy with the statement as the whole policy (a bucket without one)."""
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    return Request("s3", "PutBucketPolicy", {"Bucket": bucket, "Policy": json.dumps(policy)})


def add_statement(bucket: str, statement: dict[str, object], have: PolicyDocument | None) -> str | None:
    """A command that adds the statement to the bucket's live policy; None when it has none
    (the plain put then says it all). A policy is replaced whole, so it is merged with jq."""
    if have is None:
        return None
    quoted = quote(bucket)
    program = quote(f".Statement += [{json.dumps(statement, separators=(',', ':'))}]")
    return (f"aws s3api get-bucket-policy --bucket {quoted} --query Policy --output text "
            f"| jq -c {program} | xargs -0 aws s3api put-bucket-policy --bucket {quoted} --policy")
