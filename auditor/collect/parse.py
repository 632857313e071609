"""Raw boto3 responses -> model values. Pure: no AWS calls, reused by the rule-case tests.

Each parser takes the response dict, or None when AWS answered "not configured".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from auditor.model import (
    Acl,
    CorsRule,
    Encryption,
    Grant,
    KmsKeys,
    LifecycleRule,
    Ownership,
    PolicyDocument,
    PublicAccessBlock,
    Versioning,
    VersioningStatus,
    Website,
)
from auditor.policy.document import parse_policy
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
