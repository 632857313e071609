"""`s3audit demo`: the seed's buckets in an in-process moto account, with realistic drift.

`provision` builds a bucket exactly as its spec describes; the tests reuse it to set up a
compliant account. This module writes to (simulated) AWS; the auditor itself never does.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from auditor.model import BucketSpec, Report, SpecSet
from auditor.rules._aws_json import cors_rule, lifecycle_rule
from auditor.rules.transport import tls_statement

DEMO_REGION = "eu-central-1"
UNMANAGED = "amply-scratch-tmp"


def _create(s3: Any, name: str, region: str) -> None:
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def _kms_key(kms: Any, ref: str) -> str:
    """Make sure the alias exists (creating key and alias), return the key reference to use."""
    if not ref.startswith("alias/") or ref == "alias/aws/s3":
        return ref
    aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    if ref not in aliases:
        key = kms.create_key(Description=f"s3audit demo key for {ref}")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=ref, TargetKeyId=key)
    return ref


def _policy(spec: BucketSpec, name: str) -> dict[str, Any] | None:
    statements: list[dict[str, Any]] = []
    if spec.tls_only:
        statements.append(tls_statement(name))
    if spec.public_access == "read":
        statements.append({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                           "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"})
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def provision(s3: Any, kms: Any, spec: BucketSpec, name: str) -> None:
    """Create bucket `name` configured exactly as `spec` (an effective spec) says."""
    _create(s3, name, spec.region or DEMO_REGION)
    if spec.versioning in ("Enabled", "Suspended"):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": spec.versioning})
    if spec.encryption:
        default: dict[str, str] = {"SSEAlgorithm": spec.encryption.algorithm}
        if spec.encryption.kms_key:
            default["KMSMasterKeyID"] = _kms_key(kms, spec.encryption.kms_key)
        rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": default}
        if spec.encryption.bucket_key is not None:
            rule["BucketKeyEnabled"] = spec.encryption.bucket_key
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [rule]})
    if spec.public_access_block:
        flags = {k: bool(v) for k, v in dataclasses.asdict(spec.public_access_block).items()}
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": flags["block_public_acls"], "IgnorePublicAcls": flags["ignore_public_acls"],
            "BlockPublicPolicy": flags["block_public_policy"],
            "RestrictPublicBuckets": flags["restrict_public_buckets"]})
    policy = _policy(spec, name)
    if policy:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    if spec.lifecycle:
        s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration={"Rules": [lifecycle_rule(r) for r in spec.lifecycle]})
    if spec.cors:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [cors_rule(r) for r in spec.cors]})
    if spec.website:
        conf: dict[str, Any] = {"IndexDocument": {"Suffix": spec.website.index_document or "index.html"}}
        if spec.website.error_document:
            conf["ErrorDocument"] = {"Key": spec.website.error_document}
        s3.put_bucket_website(Bucket=name, WebsiteConfiguration=conf)


def provision_all(s3: Any, kms: Any, specs: SpecSet) -> list[str]:
    """Provision every exact-named bucket of the specs; returns their names."""
    from auditor.spec.build import effective_spec

    names = sorted({b.name for b in specs.buckets if b.name})
    for name in names:
        spec = effective_spec(specs, name)
        assert spec is not None
        provision(s3, kms, spec, name)
    return names


def introduce_drift(s3: Any, names: list[str]) -> list[str]:
    """Break a few things the way people do; returns a line per drift introduced."""
    done = []
    if "amply-storage-prod" in names:
        s3.put_bucket_versioning(Bucket="amply-storage-prod", VersioningConfiguration={"Status": "Suspended"})
        done.append("amply-storage-prod: versioning suspended")
    if "amply-frontend-prod" in names:
        s3.put_bucket_cors(Bucket="amply-frontend-prod", CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"],
            "MaxAgeSeconds": 3600}]})
        done.append("amply-frontend-prod: CORS origin widened to '*'")
    if "amply-backups-prod" in names:
        s3.delete_bucket_policy(Bucket="amply-backups-prod")
        s3.put_bucket_acl(Bucket="amply-backups-prod", ACL="public-read")
        done.append("amply-backups-prod: TLS-only policy deleted, ACL set to public-read")
    _create(s3, UNMANAGED, DEMO_REGION)
    done.append(f"{UNMANAGED}: a bucket no spec describes")
    return done


def run_demo(specs: SpecSet) -> tuple[Report, list[str]]:
    """Provision the specs' buckets in moto, add drift, audit; returns the report and the drifts."""
    from moto import mock_aws

    from auditor.run.audit import run_audit
    from auditor.collect import AwsConfig

    for var, value in (("AWS_ACCESS_KEY_ID", "demo"), ("AWS_SECRET_ACCESS_KEY", "demo"),
                       ("AWS_SESSION_TOKEN", "demo"), ("AWS_DEFAULT_REGION", DEMO_REGION)):
        os.environ.setdefault(var, value)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    with mock_aws():
        import boto3

        s3 = boto3.client("s3", region_name=DEMO_REGION)
        kms = boto3.client("kms", region_name=DEMO_REGION)
        names = provision_all(s3, kms, specs)
        drifts = introduce_drift(s3, names)
        report = run_audit(specs, AwsConfig(region=DEMO_REGION))
    return report, drifts
