"""Raw boto3 responses -> model values. Pure: no AWS calls, reused by the rule-case tests.

Each parser takes the response dict, or None when AWS answered "not configured".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import unquote

from auditor.model import (
    AccessPoint,
    Acl,
    CorsRule,
    Encryption,
    EventSelector,
    FieldSelector,
    Grant,
    KmsKeys,
    LifecycleRule,
    Logging,
    MetricAlarm,
    MetricsFilter,
    NamedPolicy,
    Notifications,
    NotificationTarget,
    ObjectHead,
    ObjectLock,
    Objects,
    Ownership,
    PolicyDocument,
    PrefixSample,
    PublicAccessBlock,
    ReplicationRule,
    Role,
    Trail,
    Versioning,
    VersioningStatus,
    Website,
)
from auditor.policy.document import parse_policy
from auditor.policy.identity import parse_identity_policy
from auditor.shapes import (
    cors_rule_from_api,
    lifecycle_rule_from_api,
    pab_from_api,
    website_from_api,
)

Raw = Mapping[str, Any] | None


def location(raw: Raw) -> str:
    """GetBucketLocation's LocationConstraint, normalised to a region name."""
    constraint = (raw or {}).get("LocationConstraint")
    # Buckets in us-east-1 report no constraint; very old eu-west-1 buckets report "EU".
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
    if not constraint:
        return "us-east-1"
    if constraint == "EU":
        return "eu-west-1"
    return str(constraint)


def versioning(raw: Raw) -> Versioning:
    """A bucket that was never versioned has no Status: that is Disabled, not Suspended."""
    raw = raw or {}
    status = cast(VersioningStatus, raw.get("Status") or "Disabled")
    return Versioning(status=status, mfa_delete=raw.get("MFADelete") == "Enabled")


def encryption(raw: Raw) -> Encryption | None:
    """The first default-encryption rule (S3 allows exactly one)."""
    if raw is None:
        return None
    rules = raw.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    if not rules:
        return None
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
    return Encryption(
        algorithm=str(default.get("SSEAlgorithm", "")),
        kms_key=default.get("KMSMasterKeyID") or None,
        bucket_key=bool(rules[0].get("BucketKeyEnabled", False)),
    )


def kms_keys(raw: Raw) -> KmsKeys:
    """KMS resolutions are assembled by the collector itself; this parser only marks absence."""
    return KmsKeys()


def public_access_block(raw: Raw) -> PublicAccessBlock | None:
    """None when no block is configured at this level."""
    if raw is None:
        return None
    return pab_from_api(raw.get("PublicAccessBlockConfiguration", {}))


def policy(raw: Raw) -> PolicyDocument | None:
    """The bucket policy, normalised; None when the bucket has none."""
    if raw is None:
        return None
    return parse_policy(str(raw.get("Policy", "")))


def acl(raw: Raw) -> Acl:
    """Owner and grants of the bucket ACL."""
    raw = raw or {}
    grants = []
    for g in raw.get("Grants", []):
        grantee = g.get("Grantee", {})
        kind = str(grantee.get("Type", ""))
        who = grantee.get("URI") or grantee.get("ID") or grantee.get("EmailAddress") or ""
        grants.append(Grant(grantee_type=kind, grantee=str(who), permission=str(g.get("Permission"))))
    owner = raw.get("Owner", {}).get("ID", "")
    return Acl(owner=str(owner), grants=tuple(sorted(grants, key=lambda g: (g.grantee, g.permission))))


def ownership(raw: Raw) -> Ownership:
    """Buckets without ownership controls behave as ObjectWriter (ACLs in force)."""
    if raw is None:
        return Ownership()
    rules = raw.get("OwnershipControls", {}).get("Rules", [])
    return Ownership(rule=str(rules[0]["ObjectOwnership"])) if rules else Ownership()


def lifecycle(raw: Raw) -> tuple[LifecycleRule, ...]:
    """Lifecycle rules sorted by id; () when the bucket has no lifecycle configuration."""
    if raw is None:
        return ()
    return tuple(sorted((lifecycle_rule_from_api(r) for r in raw.get("Rules", [])),
                        key=lambda r: r.id))


def cors(raw: Raw) -> tuple[CorsRule, ...]:
    """CORS rules; () when the bucket has no CORS configuration."""
    if raw is None:
        return ()
    return tuple(cors_rule_from_api(r) for r in raw.get("CORSRules", []))


def website(raw: Raw) -> Website | None:
    """The website configuration; None when the bucket is not a website."""
    return None if raw is None else website_from_api(raw)


def logging(raw: Raw) -> Logging | None:
    """None when server access logging is off (GetBucketLogging without LoggingEnabled)."""
    enabled = (raw or {}).get("LoggingEnabled")
    if not enabled:
        return None
    return Logging(str(enabled["TargetBucket"]), str(enabled.get("TargetPrefix") or ""))


def object_lock(raw: Raw) -> ObjectLock | None:
    """None when Object Lock is not enabled (ObjectLockConfigurationNotFoundError)."""
    conf = (raw or {}).get("ObjectLockConfiguration") or {}
    if conf.get("ObjectLockEnabled") != "Enabled":
        return None
    retention = (conf.get("Rule") or {}).get("DefaultRetention") or {}
    # A period is at least 1; a 0 (moto sends the unset one as 0) is no period at all.
    return ObjectLock(retention.get("Mode"), retention.get("Days") or None,
                      retention.get("Years") or None)


def _bucket_name(arn: str) -> str:
    return arn.split(":::", 1)[1] if arn.startswith("arn:") and ":::" in arn else arn


def _tag_pairs(tags: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(t["Key"]), str(t["Value"])) for t in tags or ()))


def _delete_markers(rule: Mapping[str, Any]) -> bool | None:
    status = (rule.get("DeleteMarkerReplication") or {}).get("Status")
    if status is not None:
        return bool(status == "Enabled")
    # A rule without Filter is the V1 schema, which replicates delete markers; a V2 rule
    # always states it. https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-add-config.html
    return True if "Filter" not in rule else None


def replication_rule(rule: Mapping[str, Any]) -> ReplicationRule:
    """One rule of GetBucketReplication, normalised (destination ARN -> bucket name)."""
    flt = rule.get("Filter") or {}
    conj = flt.get("And") or flt
    tags = list(conj.get("Tags", []))
    if "Tag" in flt:
        tags.append(flt["Tag"])
    prefix = conj.get("Prefix", rule.get("Prefix"))
    dest = rule.get("Destination") or {}
    key = (dest.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
    return ReplicationRule(
        id=str(rule.get("ID") or ""),
        status="Enabled" if rule.get("Status") == "Enabled" else "Disabled",
        destination_bucket=_bucket_name(str(dest.get("Bucket", ""))),
        destination_account=dest.get("Account"),
        storage_class=dest.get("StorageClass"),
        replica_kms_key=key or None,
        delete_marker_replication=_delete_markers(rule),
        prefix=None if prefix is None else str(prefix),
        tags=_tag_pairs(tags),
        priority=rule.get("Priority"),
    )


def replication(raw: Raw) -> tuple[ReplicationRule, ...]:
    """Replication rules sorted by id; () when the bucket replicates nothing."""
    if raw is None:
        return ()
    rules = (raw.get("ReplicationConfiguration") or {}).get("Rules", [])
    return tuple(sorted((replication_rule(r) for r in rules), key=lambda r: r.id))


def tags(raw: Raw) -> tuple[tuple[str, str], ...]:
    """The bucket's tags as sorted (key, value) pairs; () when it has none (NoSuchTagSet)."""
    return _tag_pairs((raw or {}).get("TagSet"))


def _target(item: Mapping[str, Any], arn_key: str) -> NotificationTarget:
    rules = ((item.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    found = {str(r.get("Name", "")).lower(): str(r.get("Value", "")) for r in rules}
    return NotificationTarget(str(item[arn_key]), tuple(sorted(item.get("Events") or ())),
                              found.get("prefix"), found.get("suffix"))


def notifications(raw: Raw) -> Notifications:
    """Event notification targets per kind, each sorted; EventBridge on or off."""
    raw = raw or {}

    def kind(key: str, arn_key: str) -> tuple[NotificationTarget, ...]:
        found = (_target(i, arn_key) for i in raw.get(key) or ())
        return tuple(sorted(found, key=lambda t: (t.arn, t.events, t.prefix or "", t.suffix or "")))

    return Notifications(
        # GetBucketNotificationConfiguration returns an (empty) EventBridgeConfiguration
        # element exactly when events go to EventBridge.
        event_bridge="EventBridgeConfiguration" in raw,
        queues=kind("QueueConfigurations", "QueueArn"),
        topics=kind("TopicConfigurations", "TopicArn"),
        lambdas=kind("LambdaFunctionConfigurations", "LambdaFunctionArn"),
    )


def access_points(raw: Raw) -> tuple[AccessPoint, ...]:
    """The bucket's access points by name, each with its own public access block."""
    out = []
    for item in (raw or {}).get("AccessPointList") or ():
        block = item.get("PublicAccessBlockConfiguration")
        out.append(AccessPoint(
            name=str(item["Name"]),
            network_origin=str(item.get("NetworkOrigin") or "Internet"),
            vpc_id=(item.get("VpcConfiguration") or {}).get("VpcId"),
            public_access_block=None if block is None else pab_from_api(block),
        ))
    return tuple(sorted(out, key=lambda a: a.name))


_OPERATORS = (("equals", "Equals"), ("starts_with", "StartsWith"), ("ends_with", "EndsWith"),
              ("not_equals", "NotEquals"), ("not_starts_with", "NotStartsWith"),
              ("not_ends_with", "NotEndsWith"))


def _field(raw: Mapping[str, Any]) -> FieldSelector:
    values = {name: tuple(str(v) for v in raw.get(api) or ()) for name, api in _OPERATORS}
    return FieldSelector(str(raw["Field"]), **values)


def _selector(raw: Mapping[str, Any]) -> EventSelector:
    resources = tuple((str(r["Type"]), tuple(str(v) for v in r.get("Values") or ()))
                      for r in raw.get("DataResources") or ())
    return EventSelector(str(raw.get("ReadWriteType") or "All"), resources)


def trail(raw: Mapping[str, Any]) -> Trail:
    """One trail of DescribeTrails, with its GetTrailStatus (`Status`) and
    GetEventSelectors (`EventSelectors`, `AdvancedEventSelectors`) merged in by the reader."""
    status = raw.get("Status")
    return Trail(
        name=str(raw["Name"]),
        arn=str(raw.get("TrailARN") or raw["Name"]),
        home_region=str(raw.get("HomeRegion") or ""),
        multi_region=bool(raw.get("IsMultiRegionTrail")),
        logging=None if status is None else bool(status.get("IsLogging")),
        organization=bool(raw.get("IsOrganizationTrail")),
        selectors=tuple(_selector(s) for s in raw.get("EventSelectors") or ()),
        advanced=tuple(tuple(_field(f) for f in s.get("FieldSelectors") or ())
                       for s in raw.get("AdvancedEventSelectors") or ()),
    )


def trails(raw: Raw) -> tuple[Trail, ...]:
    """Every trail the account's CloudTrail shows in the region read, sorted by ARN."""
    return tuple(sorted((trail(t) for t in (raw or {}).get("trailList") or ()), key=lambda t: t.arn))
def request_metrics(raw: Raw) -> tuple[MetricsFilter, ...]:
    """Request-metrics configurations (every page), sorted by id; () when there are none."""
    out = []
    for item in (raw or {}).get("MetricsConfigurationList", []) or []:
        out.append(_metrics_filter(item))
    return tuple(sorted(out, key=lambda f: f.id))


def _metrics_filter(item: Mapping[str, Any]) -> MetricsFilter:
    # A filter is a Prefix, a Tag, an AccessPointArn, or an And of several.
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_MetricsFilter.html
    raw_filter = item.get("Filter") or {}
    parts = raw_filter.get("And") or raw_filter
    tags = [*(parts.get("Tags") or []), *([parts["Tag"]] if parts.get("Tag") else [])]
    return MetricsFilter(
        id=str(item["Id"]),
        prefix=parts.get("Prefix") or None,
        tags=tuple(sorted((str(t["Key"]), str(t.get("Value", ""))) for t in tags)),
        access_point=parts.get("AccessPointArn") or None,
    )


def objects(raw: Raw) -> Objects:
    """Object metadata as assembled by the collector: {"Heads": {key: HeadObject answer or None},
    "Samples": {prefix: {"Keys": [...], "Listed": n}}}."""
    raw = raw or {}
    heads = tuple(_head(key, answer) for key, answer in (raw.get("Heads") or {}).items())
    samples = tuple(
        PrefixSample(str(prefix), tuple(str(k) for k in s.get("Keys", ())), int(s.get("Listed", 0)))
        for prefix, s in (raw.get("Samples") or {}).items()
    )
    return Objects(heads, samples)


def _head(key: str, answer: Mapping[str, Any] | None) -> ObjectHead:
    if answer is None:
        return ObjectHead(str(key), exists=False)
    modified: Any = answer.get("LastModified")
    if modified is not None:
        modified = modified.isoformat() if hasattr(modified, "isoformat") else str(modified)
    return ObjectHead(
        str(key),
        cache_control=answer.get("CacheControl"),
        content_type=answer.get("ContentType"),
        last_modified=modified,
    )


def alarms(raw: Raw) -> tuple[MetricAlarm, ...]:
    """Every metric alarm of DescribeAlarms (all pages), sorted by name."""
    out = [_alarm(a) for a in (raw or {}).get("MetricAlarms", []) or []]
    return tuple(sorted(out, key=lambda a: a.name))


def _alarm(a: Mapping[str, Any]) -> MetricAlarm:
    def number(key: str) -> float | None:
        value = a.get(key)
        return None if value is None else float(value)

    period = a.get("Period")
    periods = a.get("EvaluationPeriods")
    return MetricAlarm(
        name=str(a.get("AlarmName", "")),
        namespace=a.get("Namespace"),
        metric=a.get("MetricName"),
        dimensions=tuple(sorted((str(d["Name"]), str(d["Value"])) for d in a.get("Dimensions") or [])),
        threshold=number("Threshold"),
        period=None if period is None else int(period),
        statistic=a.get("Statistic") or a.get("ExtendedStatistic"),
        comparison=a.get("ComparisonOperator"),
        evaluation_periods=None if periods is None else int(periods),
        state=a.get("StateValue"),
        actions_enabled=bool(a.get("ActionsEnabled", True)),
    )


def bucket_alarms(region_alarms: tuple[MetricAlarm, ...], bucket: str) -> tuple[MetricAlarm, ...]:
    """The alarms of a region that watch a metric of this bucket (a BucketName dimension)."""
    return tuple(a for a in region_alarms if a.dimension("BucketName") == bucket)


def _document(raw: object) -> PolicyDocument:
    # boto3 decodes IAM's URL-encoded policy documents into dicts (botocore's
    # json_decode_policies handler); a recorded answer may hold the JSON text instead.
    if isinstance(raw, str):
        text = unquote(raw) if raw.lstrip().startswith("%7B") else raw
        return parse_identity_policy(text)
    return parse_identity_policy(json.dumps(raw))


def role(raw: Raw) -> Role | None:
    """A role as assembled by the collector: {"Role": GetRole's Role, "Inline": {name: document},
    "Attached": [{"PolicyName", "PolicyArn", "Document"}], "Boundary": the same or None};
    None when IAM says there is no such role."""
    if raw is None:
        return None
    info = raw.get("Role") or {}
    inline = tuple(NamedPolicy(str(name), _document(doc))
                   for name, doc in sorted((raw.get("Inline") or {}).items()))
    attached = tuple(NamedPolicy(str(p["PolicyName"]), _document(p["Document"]), str(p["PolicyArn"]))
                     for p in raw.get("Attached") or [])
    boundary = raw.get("Boundary")
    return Role(
        name=str(info.get("RoleName", "")),
        arn=str(info.get("Arn", "")),
        policies=inline + attached,
        boundary=None if not boundary else NamedPolicy(
            str(boundary["PolicyName"]), _document(boundary["Document"]), str(boundary["PolicyArn"])),
    )
