"""Spec-side values -> the JSON that `aws s3api put-*` commands take (for remediations)."""

from __future__ import annotations

from typing import Any

from auditor.model import CorsRule, LifecycleRule


def _filter(rule: LifecycleRule) -> dict[str, Any]:
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


def lifecycle_rule(rule: LifecycleRule) -> dict[str, Any]:
    """One LifecycleRule in the shape of put-bucket-lifecycle-configuration."""
    out: dict[str, Any] = {"ID": rule.id, "Status": rule.status, "Filter": _filter(rule)}
    if rule.transitions:
        out["Transitions"] = [
            {"Days": t.days, "StorageClass": t.storage_class} if t.days is not None
            else {"Date": t.date, "StorageClass": t.storage_class}
            for t in rule.transitions
        ]
    expiration: dict[str, Any] = {}
    if rule.expiration_days is not None:
        expiration["Days"] = rule.expiration_days
    if rule.expiration_date is not None:
        expiration["Date"] = rule.expiration_date
    if rule.expired_object_delete_marker is not None:
        expiration["ExpiredObjectDeleteMarker"] = rule.expired_object_delete_marker
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


def cors_rule(rule: CorsRule) -> dict[str, Any]:
    """One CorsRule in the shape of put-bucket-cors."""
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
