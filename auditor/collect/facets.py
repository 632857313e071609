"""FACETS: each readable piece of S3 configuration, the call that reads it, the IAM action it
needs and the error codes that mean "not configured". Data, not code: the collector and
`s3audit permissions` both read this table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from auditor.collect import parse, readers
from auditor.collect.readers import Reader, RunCall
from auditor.model import Facet, FacetValue

# What the facet's call takes: the bucket name, the account id, both, or nothing.
Params = Literal["bucket", "account", "bucket_account", "none"]


@dataclass(frozen=True, slots=True)
class FacetSpec:
    facet: Facet
    service: str
    api: str  # the API operation name, as AWS and CloudTrail spell it
    method: str  # the boto3 client method
    iam_action: str
    absent_codes: frozenset[str]  # error codes that mean "not configured", not "unreadable"
    parse: Callable[[Mapping[str, Any] | None], FacetValue]
    scope: Literal["bucket", "account"] = "bucket"  # account: read once per account and run
    params: Params = "bucket"
    # A facet assembled from several calls (pages, per-item details): the reader makes
    # them, `more` lists the calls beyond the first (for the allow-list and permissions).
    reader: Reader | None = None
    more: tuple[RunCall, ...] = ()

    @property
    def iam_actions(self) -> tuple[str, ...]:
        return (self.iam_action, *(c.iam_action for c in self.more))


def _method(api: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in api).lstrip("_")


def _row(
    facet: Facet,
    api: str,
    iam_action: str,
    parser: Callable[[Mapping[str, Any] | None], FacetValue],
    absent: tuple[str, ...] = (),
    service: Literal["s3", "s3control", "kms", "cloudtrail"] = "s3",
    scope: Literal["bucket", "account"] = "bucket",
    params: Params | None = None,
    reader: Reader | None = None,
    more: tuple[RunCall, ...] = (),
) -> FacetSpec:
    if params is None:
        params = "bucket" if scope == "bucket" else "account"
    return FacetSpec(facet, service, api, _method(api), iam_action, frozenset(absent), parser,
                     scope, params, reader, more)


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
        _row(Facet.LOGGING, "GetBucketLogging", "s3:GetBucketLogging", parse.logging),
        _row(Facet.OBJECT_LOCK, "GetObjectLockConfiguration",
             "s3:GetBucketObjectLockConfiguration", parse.object_lock,
             absent=("ObjectLockConfigurationNotFoundError",)),
        _row(Facet.REPLICATION, "GetBucketReplication", "s3:GetReplicationConfiguration",
             parse.replication, absent=("ReplicationConfigurationNotFoundError",)),
        _row(Facet.TAGS, "GetBucketTagging", "s3:GetBucketTagging", parse.tags,
             absent=("NoSuchTagSet",)),
        _row(Facet.NOTIFICATIONS, "GetBucketNotificationConfiguration", "s3:GetBucketNotification",
             parse.notifications),
        # Access points are regional S3 Control resources: listed per bucket in its region,
        # then each read for its own public access block (ListAccessPoints omits it).
        _row(Facet.ACCESS_POINTS, "ListAccessPoints", "s3:ListAccessPoints", parse.access_points,
             service="s3control", params="bucket_account", reader=readers.access_points,
             more=(readers.GET_ACCESS_POINT,)),
        _row(Facet.REQUEST_METRICS, "ListBucketMetricsConfigurations", "s3:GetMetricsConfiguration",
             parse.request_metrics, reader=readers.metrics_configurations),
        # Only a multi-region trail can record a bucket's data events wherever it is, and
        # DescribeTrails with shadow trails lists every one of them from any region: the
        # trails are read once per account, whatever the number of buckets and regions.
        _row(Facet.TRAILS, "DescribeTrails", "cloudtrail:DescribeTrails", parse.trails,
             service="cloudtrail", scope="account", params="none", reader=readers.trails,
             more=(readers.GET_TRAIL_STATUS, readers.GET_EVENT_SELECTORS)),
    )
}

LIST_BUCKETS = RunCall("s3", "ListBuckets", "list_buckets", "s3:ListAllMyBuckets")
CALLER_IDENTITY = RunCall("sts", "GetCallerIdentity", "get_caller_identity", "sts:GetCallerIdentity")
ASSUME_ROLE = RunCall("sts", "AssumeRole", "assume_role", "sts:AssumeRole")
LIST_ACCOUNTS = RunCall("organizations", "ListAccounts", "list_accounts", "organizations:ListAccounts")
# What every audit needs besides the facets of its controls (AssumeRole and ListAccounts
# only with --role-arn / --org-role, and they are the caller's permissions, not the role's).
RUN_CALLS: tuple[RunCall, ...] = (LIST_BUCKETS, CALLER_IDENTITY)
ACCOUNT_CALLS: tuple[RunCall, ...] = (ASSUME_ROLE, LIST_ACCOUNTS)

# Every operation the auditor may call, derived from the tables above; nothing else.
READ_ONLY_OPERATIONS = frozenset(
    {f.api for f in FACETS.values()} | {c.api for f in FACETS.values() for c in f.more}
    | {c.api for c in (*RUN_CALLS, *ACCOUNT_CALLS)}
)
