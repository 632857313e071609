"""FACETS: each readable piece of S3 configuration, the call that reads it, the IAM action it
needs and the error codes that mean "not configured". Data, not code: the collector and
`s3audit permissions` both read this table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from auditor.collect import parse
from auditor.model import Facet, FacetValue


@dataclass(frozen=True, slots=True)
class FacetSpec:
    facet: Facet
    service: str
    api: str  # the API operation name, as AWS and CloudTrail spell it
    method: str  # the boto3 client method
    iam_action: str
    absent_codes: frozenset[str]  # error codes that mean "not configured", not "unreadable"
    parse: Callable[[Mapping[str, Any] | None], FacetValue]
    scope: Literal["bucket", "account"] = "bucket"


def _row(
    facet: Facet,
    api: str,
    iam_action: str,
    parser: Callable[[Mapping[str, Any] | None], FacetValue],
    absent: tuple[str, ...] = (),
    service: Literal["s3", "s3control", "kms"] = "s3",
    scope: Literal["bucket", "account"] = "bucket",
) -> FacetSpec:
    method = "".join("_" + c.lower() if c.isupper() else c for c in api).lstrip("_")
    return FacetSpec(facet, service, api, method, iam_action, frozenset(absent), parser, scope)


FACETS: dict[Facet, FacetSpec] = {
    f.facet: f
    for f in (
        _row(Facet.LOCATION, "GetBucketLocation", "s3:GetBucketLocation", parse.location),
        _row(Facet.VERSIONING, "GetBucketVersioning", "s3:GetBucketVersioning", parse.versioning),
        _row(
            Facet.ENCRYPTION,
            "GetBucketEncryption",
            "s3:GetEncryptionConfiguration",
            parse.encryption,
            # Rare since 2023-01-05, when SSE-S3 became every bucket's base level:
            # https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html
            absent=("ServerSideEncryptionConfigurationNotFoundError",),
        ),
        _row(
            Facet.KMS_KEYS, "DescribeKey", "kms:DescribeKey", parse.kms_keys, service="kms",
            absent=("NotFoundException",),
        ),
        _row(
            Facet.PUBLIC_ACCESS_BLOCK,
            "GetPublicAccessBlock",
            "s3:GetBucketPublicAccessBlock",
            parse.public_access_block,
            absent=("NoSuchPublicAccessBlockConfiguration",),
        ),
        _row(
            Facet.ACCOUNT_PUBLIC_ACCESS_BLOCK,
            "GetPublicAccessBlock",
            "s3:GetAccountPublicAccessBlock",
            parse.public_access_block,
            absent=("NoSuchPublicAccessBlockConfiguration",),
            service="s3control",
            scope="account",
        ),
        _row(Facet.POLICY, "GetBucketPolicy", "s3:GetBucketPolicy", parse.policy,
             absent=("NoSuchBucketPolicy",)),
        _row(Facet.ACL, "GetBucketAcl", "s3:GetBucketAcl", parse.acl),
        _row(
            Facet.OWNERSHIP,
            "GetBucketOwnershipControls",
            "s3:GetBucketOwnershipControls",
            parse.ownership,
            absent=("OwnershipControlsNotFoundError",),
        ),
        _row(
            Facet.LIFECYCLE,
            "GetBucketLifecycleConfiguration",
            "s3:GetLifecycleConfiguration",
            parse.lifecycle,
            absent=("NoSuchLifecycleConfiguration",),
        ),
        _row(Facet.CORS, "GetBucketCors", "s3:GetBucketCORS", parse.cors,
             absent=("NoSuchCORSConfiguration",)),
        _row(Facet.WEBSITE, "GetBucketWebsite", "s3:GetBucketWebsite", parse.website,
             absent=("NoSuchWebsiteConfiguration",)),
    )
}

@dataclass(frozen=True, slots=True)
class RunCall:
    """A call made once per run or account rather than per bucket facet."""

    service: str
    api: str
    method: str
    iam_action: str
    absent_codes: frozenset[str] = frozenset()


LIST_BUCKETS = RunCall("s3", "ListBuckets", "list_buckets", "s3:ListAllMyBuckets")
CALLER_IDENTITY = RunCall("sts", "GetCallerIdentity", "get_caller_identity", "sts:GetCallerIdentity")
ASSUME_ROLE = RunCall("sts", "AssumeRole", "assume_role", "sts:AssumeRole")
LIST_ACCOUNTS = RunCall("organizations", "ListAccounts", "list_accounts", "organizations:ListAccounts")
# A spec'd bucket in none of the audited accounts: 404 = no such bucket, 403 = someone else's.
# HeadBucket answers 404 without any permission; s3:ListBucket is only needed to get a 200.
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html
HEAD_BUCKET = RunCall("s3", "HeadBucket", "head_bucket", "s3:ListBucket")
# The alias names of a KMS key, to name keys as people know them (messages, `init`).
LIST_ALIASES = RunCall("kms", "ListAliases", "list_aliases", "kms:ListAliases")
# What every audit needs besides the facets of its controls (AssumeRole and ListAccounts
# only with --role-arn / --org-role, and they are the caller's permissions, not the role's).
RUN_CALLS: tuple[RunCall, ...] = (LIST_BUCKETS, CALLER_IDENTITY)
ACCOUNT_CALLS: tuple[RunCall, ...] = (ASSUME_ROLE, LIST_ACCOUNTS)
# Reads that only sharpen a message: denied, the message says less and nothing else changes.
MESSAGE_CALLS: tuple[RunCall, ...] = (HEAD_BUCKET, LIST_ALIASES)

# Every operation the auditor may call, derived from the tables above; nothing else.
READ_ONLY_OPERATIONS = frozenset(
    {f.api for f in FACETS.values()} | {c.api for c in (*RUN_CALLS, *ACCOUNT_CALLS, *MESSAGE_CALLS)}
)
