"""S3 API JSON <-> model values, both directions, one pair of functions per shape.

The collector parses what AWS answers with `*_from_api`; remediation, `demo` and `import`
build what AWS takes with `*_to_api`. Keeping both directions of a shape side by side is what
keeps them inverse to each other (a test round-trips every shape). Pure: no boto3.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from auditor.model import (
    CorsRule,
    LifecycleRule,
    NoncurrentTransition,
    PublicAccessBlock,
    RedirectAll,
    Transition,
    Website,
)

Api = Mapping[str, Any]

_KMS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):")


def kms_region(ref: str) -> str | None:
    """The region a KMS key or alias ARN names; None for an alias name or key id."""
    found = _KMS_ARN.match(ref)
    return found.group(1) if found else None

# The public access block's flags: model field -> API name.
PAB_FLAGS: tuple[tuple[str, str], ...] = (
    ("block_public_acls", "BlockPublicAcls"),
    ("ignore_public_acls", "IgnorePublicAcls"),
    ("block_public_policy", "BlockPublicPolicy"),
    ("restrict_public_buckets", "RestrictPublicBuckets"),
)


# --------------------------------------------------------------------------- public access block


def pab_from_api(conf: Api) -> PublicAccessBlock:
    """A PublicAccessBlockConfiguration; a flag AWS leaves out is off."""
    return PublicAccessBlock(**{name: bool(conf.get(api, False)) for name, api in PAB_FLAGS})


def pab_to_api(block: PublicAccessBlock) -> dict[str, bool]:
    return {api: bool(getattr(block, name)) for name, api in PAB_FLAGS}


# --------------------------------------------------------------------------- lifecycle


def _date(value: object) -> str | None:
    if value is None:
        return None
    iso = getattr(value, "isoformat", None)
    text = iso() if callable(iso) else str(value)
    return str(text)[:10]


def transition_key(transition: Transition) -> tuple[int, str, str]:
    """Sort key of transitions: (days or 0, date or "", storage class)."""
    return (transition.days or 0, transition.date or "", transition.storage_class)


def noncurrent_key(transition: NoncurrentTransition) -> tuple[int, str, int]:
    return (transition.days, transition.storage_class, transition.newer_versions or 0)


def _filter_from_api(rule: Api) -> tuple[str, tuple[tuple[str, str], ...], int | None, int | None]:
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


def lifecycle_rule_from_api(rule: Api) -> LifecycleRule:
    """One rule of GetBucketLifecycleConfiguration, normalised (tuples sorted)."""
    prefix, tags, larger, smaller = _filter_from_api(rule)
    expiration = rule.get("Expiration", {})
    noncurrent = rule.get("NoncurrentVersionExpiration", {})
    transitions = (Transition(str(t["StorageClass"]), t.get("Days"), _date(t.get("Date")))
                   for t in rule.get("Transitions", []))
    moves = (NoncurrentTransition(str(t["StorageClass"]), int(t.get("NoncurrentDays", 0)),
                                  t.get("NewerNoncurrentVersions"))
             for t in rule.get("NoncurrentVersionTransitions", []))
    return LifecycleRule(
        id=str(rule.get("ID", "")),
        status="Enabled" if rule.get("Status") == "Enabled" else "Disabled",
        prefix=prefix,
        tags=tags,
        object_size_greater_than=larger,
        object_size_less_than=smaller,
        transitions=tuple(sorted(transitions, key=transition_key)),
        expiration_days=expiration.get("Days"),
        expiration_date=_date(expiration.get("Date")),
        expired_object_delete_marker=expiration.get("ExpiredObjectDeleteMarker"),
        noncurrent_expiration_days=noncurrent.get("NoncurrentDays"),
        noncurrent_newer_versions=noncurrent.get("NewerNoncurrentVersions"),
        noncurrent_transitions=tuple(sorted(moves, key=noncurrent_key)),
        abort_incomplete_multipart_upload_days=rule.get("AbortIncompleteMultipartUpload", {}).get(
            "DaysAfterInitiation"
        ),
    )


def _filter_to_api(rule: LifecycleRule) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    if rule.prefix:
        parts["Prefix"] = rule.prefix
    if rule.tags:
        parts["Tags"] = [{"Key": k, "Value": v} for k, v in rule.tags]
    if rule.object_size_greater_than is not None:
        parts["ObjectSizeGreaterThan"] = rule.object_size_greater_than
    if rule.object_size_less_than is not None:
        parts["ObjectSizeLessThan"] = rule.object_size_less_than
    if len(parts) > 1 or "Tags" in parts:
        return {"And": parts}
    return parts


def _expiration_to_api(rule: LifecycleRule) -> dict[str, Any]:
    expiration: dict[str, Any] = {}
    if rule.expiration_days is not None:
        expiration["Days"] = rule.expiration_days
    if rule.expiration_date is not None:
        expiration["Date"] = rule.expiration_date
    if rule.expired_object_delete_marker is not None:
        expiration["ExpiredObjectDeleteMarker"] = rule.expired_object_delete_marker
    return expiration


def lifecycle_rule_to_api(rule: LifecycleRule) -> dict[str, Any]:
    """One LifecycleRule in the shape of PutBucketLifecycleConfiguration."""
    out: dict[str, Any] = {"ID": rule.id, "Status": rule.status, "Filter": _filter_to_api(rule)}
    if rule.transitions:
        out["Transitions"] = [
            {"Days": t.days, "StorageClass": t.storage_class} if t.days is not None
            else {"Date": t.date, "StorageClass": t.storage_class}
            for t in rule.transitions
        ]
    expiration = _expiration_to_api(rule)
    if expiration:
        out["Expiration"] = expiration
    if rule.noncurrent_expiration_days is not None:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule.noncurrent_expiration_days}
        if rule.noncurrent_newer_versions is not None:
            out["NoncurrentVersionExpiration"]["NewerNoncurrentVersions"] = rule.noncurrent_newer_versions
    if rule.noncurrent_transitions:
        out["NoncurrentVersionTransitions"] = [
            {"NoncurrentDays": t.days, "StorageClass": t.storage_class}
            | ({"NewerNoncurrentVersions": t.newer_versions} if t.newer_versions is not None else {})
            for t in rule.noncurrent_transitions
        ]
    if rule.abort_incomplete_multipart_upload_days is not None:
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": rule.abort_incomplete_multipart_upload_days
        }
    return out


# --------------------------------------------------------------------------- CORS


def _sorted(values: object, upper: bool = False) -> tuple[str, ...]:
    items = [str(v).upper() if upper else str(v) for v in (values or [])]  # type: ignore[attr-defined]
    return tuple(sorted(set(items)))


def cors_rule_from_api(rule: Api) -> CorsRule:
    """One CORSRule, its lists turned into sorted tuples (AWS gives them no order)."""
    return CorsRule(
        allowed_origins=_sorted(rule.get("AllowedOrigins")),
        allowed_methods=_sorted(rule.get("AllowedMethods"), upper=True),
        allowed_headers=_sorted(rule.get("AllowedHeaders")),
        expose_headers=_sorted(rule.get("ExposeHeaders")),
        max_age_seconds=rule.get("MaxAgeSeconds"),
        id=rule.get("ID"),
    )


def cors_rule_to_api(rule: CorsRule) -> dict[str, Any]:
    """One CorsRule in the shape of PutBucketCors."""
    out: dict[str, Any] = {
        "AllowedOrigins": list(rule.allowed_origins),
        "AllowedMethods": list(rule.allowed_methods),
    }
    if rule.allowed_headers:
        out["AllowedHeaders"] = list(rule.allowed_headers)
    if rule.expose_headers:
        out["ExposeHeaders"] = list(rule.expose_headers)
    if rule.max_age_seconds is not None:
        out["MaxAgeSeconds"] = rule.max_age_seconds
    if rule.id is not None:
        out["ID"] = rule.id
    return out


# --------------------------------------------------------------------------- website


def website_from_api(raw: Api) -> Website:
    """A GetBucketWebsite answer."""
    redirect = raw.get("RedirectAllRequestsTo")
    return Website(
        index_document=(raw.get("IndexDocument") or {}).get("Suffix"),
        error_document=(raw.get("ErrorDocument") or {}).get("Key"),
        redirect_all_requests_to=(
            RedirectAll(host_name=str(redirect["HostName"]), protocol=redirect.get("Protocol"))
            if redirect else None
        ),
        routing_rules=len(raw.get("RoutingRules", [])),
    )


def website_to_api(index: str | None, error: str | None,
                   redirect: RedirectAll | None) -> dict[str, Any]:
    """A WebsiteConfiguration for PutBucketWebsite."""
    if redirect is not None:
        target: dict[str, str] = {"HostName": redirect.host_name}
        if redirect.protocol:
            target["Protocol"] = redirect.protocol
        return {"RedirectAllRequestsTo": target}
    conf: dict[str, Any] = {"IndexDocument": {"Suffix": index or "index.html"}}
    if error:
        conf["ErrorDocument"] = {"Key": error}
    return conf
