"""Raw boto3 responses -> model values. Pure: no AWS calls, reused by the rule-case tests.

Each parser takes the response dict, or None when AWS answered "not configured".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from auditor.policy.document import parse_policy
from auditor.model import (
    Acl,
    CorsRule,
    Encryption,
    Grant,
    KmsKeys,
    LifecycleRule,
    NoncurrentTransition,
    Ownership,
    PolicyDocument,
    PublicAccessBlock,
    RedirectAll,
    Transition,
    Versioning,
    VersioningStatus,
    Website,
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
    conf = raw.get("PublicAccessBlockConfiguration", {})
    return PublicAccessBlock(
        block_public_acls=bool(conf.get("BlockPublicAcls", False)),
        ignore_public_acls=bool(conf.get("IgnorePublicAcls", False)),
        block_public_policy=bool(conf.get("BlockPublicPolicy", False)),
        restrict_public_buckets=bool(conf.get("RestrictPublicBuckets", False)),
    )


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


def _transitions(items: list[Mapping[str, Any]]) -> tuple[Transition, ...]:
    out = [
        Transition(
            storage_class=str(t["StorageClass"]),
            days=t.get("Days"),
            date=_date(t.get("Date")),
        )
        for t in items
    ]
    return tuple(sorted(out, key=lambda t: (t.days or 0, t.date or "", t.storage_class)))


def _date(value: object) -> str | None:
    if value is None:
        return None
    iso = getattr(value, "isoformat", None)
    text = iso() if callable(iso) else str(value)
    return str(text)[:10]


def _filter(rule: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str], ...], int | None, int | None]:
    # A rule scopes objects by the legacy top-level Prefix, or by Filter with Prefix, Tag,
    # ObjectSize* or an And of them: https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRuleFilter.html
    flt = rule.get("Filter") or {}
    conj = flt.get("And") or flt
    tags = list(conj.get("Tags", []))
    if "Tag" in flt:
        tags.append(flt["Tag"])
    prefix = conj.get("Prefix", rule.get("Prefix", "")) or ""
    pairs = tuple(sorted((str(t["Key"]), str(t["Value"])) for t in tags))
    return str(prefix), pairs, conj.get("ObjectSizeGreaterThan"), conj.get("ObjectSizeLessThan")


def _lifecycle_rule(rule: Mapping[str, Any]) -> LifecycleRule:
    prefix, tags, larger, smaller = _filter(rule)
    expiration = rule.get("Expiration", {})
    noncurrent = rule.get("NoncurrentVersionExpiration", {})
    noncurrent_transitions = sorted(
        (
            NoncurrentTransition(
                storage_class=str(t["StorageClass"]),
                days=int(t.get("NoncurrentDays", 0)),
                newer_versions=t.get("NewerNoncurrentVersions"),
            )
            for t in rule.get("NoncurrentVersionTransitions", [])
        ),
        key=lambda t: (t.days, t.storage_class),
    )
    return LifecycleRule(
        id=str(rule.get("ID", "")),
        status="Enabled" if rule.get("Status") == "Enabled" else "Disabled",
        prefix=prefix,
        tags=tags,
        object_size_greater_than=larger,
        object_size_less_than=smaller,
        transitions=_transitions(rule.get("Transitions", [])),
        expiration_days=expiration.get("Days"),
        expiration_date=_date(expiration.get("Date")),
        expired_object_delete_marker=expiration.get("ExpiredObjectDeleteMarker"),
        noncurrent_expiration_days=noncurrent.get("NoncurrentDays"),
        noncurrent_newer_versions=noncurrent.get("NewerNoncurrentVersions"),
        noncurrent_transitions=tuple(noncurrent_transitions),
        abort_incomplete_multipart_upload_days=rule.get("AbortIncompleteMultipartUpload", {}).get(
            "DaysAfterInitiation"
        ),
    )


def lifecycle(raw: Raw) -> tuple[LifecycleRule, ...]:
    """Lifecycle rules sorted by id; () when the bucket has no lifecycle configuration."""
    if raw is None:
        return ()
    return tuple(sorted((_lifecycle_rule(r) for r in raw.get("Rules", [])), key=lambda r: r.id))


def _sorted(values: object, upper: bool = False) -> tuple[str, ...]:
    items = [str(v).upper() if upper else str(v) for v in (values or [])]  # type: ignore[attr-defined]
    return tuple(sorted(set(items)))


def cors_rule(rule: Mapping[str, Any]) -> CorsRule:
    """One CORSRule, its lists turned into sorted tuples."""
    return CorsRule(
        allowed_origins=_sorted(rule.get("AllowedOrigins")),
        allowed_methods=_sorted(rule.get("AllowedMethods"), upper=True),
        allowed_headers=_sorted(rule.get("AllowedHeaders")),
        expose_headers=_sorted(rule.get("ExposeHeaders")),
        max_age_seconds=rule.get("MaxAgeSeconds"),
        id=rule.get("ID"),
    )


def cors(raw: Raw) -> tuple[CorsRule, ...]:
    """CORS rules; () when the bucket has no CORS configuration."""
    if raw is None:
        return ()
    return tuple(cors_rule(r) for r in raw.get("CORSRules", []))


def website(raw: Raw) -> Website | None:
    """The website configuration; None when the bucket is not a website."""
    if raw is None:
        return None
    redirect = raw.get("RedirectAllRequestsTo")
    return Website(
        index_document=(raw.get("IndexDocument") or {}).get("Suffix"),
        error_document=(raw.get("ErrorDocument") or {}).get("Key"),
        redirect_all_requests_to=(
            RedirectAll(host_name=str(redirect["HostName"]), protocol=redirect.get("Protocol"))
            if redirect
            else None
        ),
        routing_rules=len(raw.get("RoutingRules", [])),
    )
