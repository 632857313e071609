"""FACETS: each readable piece of S3 configuration, the call that reads it, the IAM action it
needs and the error codes that mean "not configured". Data, not code: the collector and
`s3audit permissions` both read this table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from auditor.collect import parse
from auditor.model import Facet, FacetValue


def _method(api: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in api).lstrip("_")


@dataclass(frozen=True, slots=True)
class RunCall:
    """A call made once per run or account rather than per bucket facet, or one of the further
    calls a facet assembled from several reads makes (`FacetSpec.also`)."""

    service: str
    api: str
    method: str
    iam_action: str
    absent_codes: frozenset[str] = frozenset()


def call(service: str, api: str, iam_action: str, absent: tuple[str, ...] = ()) -> RunCall:
    return RunCall(service, api, _method(api), iam_action, frozenset(absent))


@dataclass(frozen=True, slots=True)
class Pages:
    """How a listing pages: the request's token parameter, the answer's next-token key and the
    key of the items to concatenate."""

    token: str
    next_token: str
    items: str


@dataclass(frozen=True, slots=True)
class FacetSpec:
    facet: Facet
    service: str
    api: str  # the API operation name, as AWS and CloudTrail spell it
    method: str  # the boto3 client method
    iam_action: str
    absent_codes: frozenset[str]  # error codes that mean "not configured", not "unreadable"
    parse: Callable[[Mapping[str, Any] | None], FacetValue]
    # "region": read once per account and region and shared by its buckets (CloudWatch alarms)
    scope: Literal["bucket", "account", "region", "principal"] = "bucket"
    pages: Pages | None = None  # a listing read to its last page
    also: tuple[RunCall, ...] = ()  # the further calls of a facet assembled from several reads
    data_plane: bool = False  # reads object data or metadata, not bucket configuration
    params: tuple[tuple[str, Any], ...] = ()  # fixed request parameters
    # The root element of the operation's XML answer: any other body is not its document.
    document: str | None = None

    @property
    def calls(self) -> tuple[RunCall, ...]:
        """Every call reading this facet makes: its own, then `also`."""
        own = RunCall(self.service, self.api, self.method, self.iam_action, self.absent_codes)
        return (own, *self.also)

    @property
    def iam_actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.iam_action for c in self.calls))


# https://docs.aws.amazon.com/AmazonS3/latest/API/ (each operation's "Response Syntax")
DOCUMENTS = {
    "GetBucketLocation": "LocationConstraint",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketEncryption": "ServerSideEncryptionConfiguration",
    "GetPublicAccessBlock": "PublicAccessBlockConfiguration",
    "GetBucketAcl": "AccessControlPolicy",
    "GetBucketOwnershipControls": "OwnershipControls",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetObjectLockConfiguration": "ObjectLockConfiguration",
    "GetBucketReplication": "ReplicationConfiguration",
    "GetBucketTagging": "Tagging",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "ListBuckets": "ListAllMyBucketsResult",
    "GetCallerIdentity": "GetCallerIdentityResponse",
}


def _row(
    facet: Facet,
    api: str,
    iam_action: str,
    parser: Callable[[Mapping[str, Any] | None], FacetValue],
    absent: tuple[str, ...] = (),
    service: Literal["s3", "s3control", "kms", "cloudwatch", "iam", "cloudtrail"] = "s3",
    scope: Literal["bucket", "account", "region", "principal"] = "bucket",
    pages: Pages | None = None,
    also: tuple[RunCall, ...] = (),
    data_plane: bool = False,
    params: tuple[tuple[str, Any], ...] = (),
) -> FacetSpec:
    return FacetSpec(facet, service, api, _method(api), iam_action, frozenset(absent), parser, scope,
                     pages, also, data_plane, params, DOCUMENTS.get(api) if service == "s3" else None)


# Reads assembled from several calls (auditor/collect/composite.py): the calls besides the row's own.
LIST_OBJECTS = call("s3", "ListObjectsV2", "s3:ListBucket", ("NoSuchKey",))
IAM_ROLE_CALLS = (
    call("iam", "ListRolePolicies", "iam:ListRolePolicies"),
    call("iam", "GetRolePolicy", "iam:GetRolePolicy"),
    call("iam", "ListAttachedRolePolicies", "iam:ListAttachedRolePolicies"),
    call("iam", "GetPolicy", "iam:GetPolicy"),
    call("iam", "GetPolicyVersion", "iam:GetPolicyVersion"),
)
GET_ACCESS_POINT = call("s3control", "GetAccessPoint", "s3:GetAccessPoint")
TRAIL_CALLS = (
    call("cloudtrail", "GetTrailStatus", "cloudtrail:GetTrailStatus"),
    call("cloudtrail", "GetEventSelectors", "cloudtrail:GetEventSelectors"),
)


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
        # Request metrics (CloudWatch 4xxErrors, 5xxErrors, AllRequests ...) exist only for
        # the filters listed here; at most 1,000 per bucket, paged with a continuation token.
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBucketMetricsConfigurations.html
        _row(Facet.REQUEST_METRICS, "ListBucketMetricsConfigurations", "s3:GetMetricsConfiguration",
             parse.request_metrics,
             pages=Pages("ContinuationToken", "NextContinuationToken", "MetricsConfigurationList")),
        # HeadObject answers 404 for a missing key only to a caller allowed s3:ListBucket;
        # without it S3 answers 403, which is (rightly) an error, not "no such key".
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
        _row(Facet.OBJECTS, "HeadObject", "s3:GetObject", parse.objects, absent=("404", "NoSuchKey"),
             also=(LIST_OBJECTS,), data_plane=True),
        _row(Facet.ALARMS, "DescribeAlarms", "cloudwatch:DescribeAlarms", parse.alarms,
             service="cloudwatch", scope="region", params=(("AlarmTypes", ["MetricAlarm"]),),
             pages=Pages("NextToken", "NextToken", "MetricAlarms")),
        _row(Facet.ROLE, "GetRole", "iam:GetRole", parse.role, absent=("NoSuchEntity",),
             service="iam", scope="principal", also=IAM_ROLE_CALLS),
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
             service="s3control", pages=Pages("NextToken", "NextToken", "AccessPointList"),
             also=(GET_ACCESS_POINT,)),
        # Only a multi-region trail can record a bucket's data events wherever it is, and
        # DescribeTrails with shadow trails lists every one of them from any region: the
        # trails are read once per account, whatever the number of buckets and regions.
        _row(Facet.TRAILS, "DescribeTrails", "cloudtrail:DescribeTrails", parse.trails,
             service="cloudtrail", scope="account", params=(("includeShadowTrails", True),),
             also=TRAIL_CALLS),
    )
}


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
    {c.api for f in FACETS.values() for c in f.calls}
    | {c.api for c in (*RUN_CALLS, *ACCOUNT_CALLS, *MESSAGE_CALLS)}
)
