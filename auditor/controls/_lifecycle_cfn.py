"""LifecycleConfiguration as CloudFormation (and the S3 API, in seed documents) writes it -> spec.

Two spellings are accepted wherever they differ: CloudFormation's (`ExpirationInDays`,
`TransitionInDays`, `TagFilters`) and the S3 API's (`Expiration: {Days}`, `Days`,
`Filter: {Prefix, Tag, And}`). All or nothing: the control compares the exact set of rules,
field by field, so one rule that cannot be imported leaves the whole key out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.cfn.values import (
    Invalid,
    Origin,
    as_bool,
    as_date,
    as_int,
    as_list,
    as_map,
    as_str,
    either,
    plain,
)

_RULE_KEYS = frozenset({
    "Id", "ID", "Status", "Prefix", "Filter", "TagFilters", "ObjectSizeGreaterThan",
    "ObjectSizeLessThan", "Transitions", "Transition", "ExpirationInDays", "ExpirationDate",
    "Expiration", "ExpiredObjectDeleteMarker", "NoncurrentVersionExpiration",
    "NoncurrentVersionExpirationInDays", "NoncurrentVersionTransitions",
    "NoncurrentVersionTransition", "AbortIncompleteMultipartUpload",
})


def _tags(items: list[Any], path: str) -> dict[str, str]:
    pairs = [as_map(t, f"{path}[{i}]") for i, t in enumerate(items)]
    return {as_str(p.get("Key"), f"{path}[{i}].Key"):
            str(plain(p.get("Value", ""), f"{path}[{i}].Value"))
            for i, p in enumerate(pairs)}


def _rule_filter(rule: Mapping[str, Any], path: str) -> dict[str, Any]:
    # CloudFormation puts Prefix/TagFilters/ObjectSize* on the rule; the S3 API nests them in
    # Filter, with And for several. Both may appear; they describe one filter.
    flt = as_map(rule.get("Filter") or {}, f"{path}.Filter")
    conj = as_map(flt["And"], f"{path}.Filter.And") if flt.get("And") else flt
    out: dict[str, Any] = {}
    prefix = either(rule, "Prefix") or either(conj, "Prefix")
    if prefix:
        out["prefix"] = as_str(prefix, f"{path}.Prefix")
    tags = as_list(rule.get("TagFilters") or [], f"{path}.TagFilters") + as_list(
        conj.get("Tags") or conj.get("TagFilters") or [], f"{path}.Filter.Tags")
    if flt.get("Tag") is not None:
        tags.append(flt["Tag"])
    if tags:
        out["tags"] = _tags(tags, f"{path}.TagFilters")
    for cfn_key, spec_key in (("ObjectSizeGreaterThan", "object_size_greater_than"),
                              ("ObjectSizeLessThan", "object_size_less_than")):
        value = rule[cfn_key] if cfn_key in rule else conj.get(cfn_key)
        if value is not None:
            out[spec_key] = as_int(value, f"{path}.{cfn_key}")
    return out


def _transition(raw: Any, path: str, noncurrent: bool) -> dict[str, Any]:
    item = as_map(raw, path)
    out: dict[str, Any] = {}
    days = either(item, "TransitionInDays", "NoncurrentDays" if noncurrent else "Days")
    date = None if noncurrent else either(item, "TransitionDate", "Date")
    if days is not None:
        out["days"] = as_int(days, f"{path}.TransitionInDays")
    elif date is not None:
        out["date"] = as_date(date, f"{path}.TransitionDate")
    out["storage_class"] = as_str(item.get("StorageClass"), f"{path}.StorageClass")
    if noncurrent and item.get("NewerNoncurrentVersions") is not None:
        out["newer_versions"] = as_int(item["NewerNoncurrentVersions"],
                                       f"{path}.NewerNoncurrentVersions")
    return out


def _transitions(rule: Mapping[str, Any], path: str, many: str, one: str,
                 noncurrent: bool) -> list[Any]:
    items = list(as_list(rule.get(many) or [], f"{path}.{many}"))
    if rule.get(one) is not None:
        items.append(rule[one])  # the deprecated single-transition property
    return [_transition(t, f"{path}.{many}[{i}]", noncurrent) for i, t in enumerate(items)]


def _expiration(rule: Mapping[str, Any], path: str) -> dict[str, Any]:
    api = as_map(rule.get("Expiration") or {}, f"{path}.Expiration")
    out: dict[str, Any] = {}
    days = either(rule, "ExpirationInDays") or either(api, "Days")
    if days is not None:
        out["expiration_days"] = as_int(days, f"{path}.ExpirationInDays")
    date = either(rule, "ExpirationDate") or either(api, "Date")
    if date is not None:
        out["expiration_date"] = as_date(date, f"{path}.ExpirationDate")
    marker = either(rule, "ExpiredObjectDeleteMarker")
    marker = marker if marker is not None else either(api, "ExpiredObjectDeleteMarker")
    if marker is not None:
        out["expired_object_delete_marker"] = as_bool(marker, f"{path}.ExpiredObjectDeleteMarker")
    return out


def _noncurrent(rule: Mapping[str, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    where = f"{path}.NoncurrentVersionExpiration"
    conf = as_map(rule.get("NoncurrentVersionExpiration") or {}, where)
    days = either(conf, "NoncurrentDays") or either(rule, "NoncurrentVersionExpirationInDays")
    if days is not None:
        out["noncurrent_expiration_days"] = as_int(days, f"{where}.NoncurrentDays")
    if conf.get("NewerNoncurrentVersions") is not None:
        out["noncurrent_newer_versions"] = as_int(conf["NewerNoncurrentVersions"],
                                                  f"{where}.NewerNoncurrentVersions")
    moves = _transitions(rule, path, "NoncurrentVersionTransitions",
                         "NoncurrentVersionTransition", True)
    if moves:
        out["noncurrent_transitions"] = moves
    return out


def _lifecycle_rule(raw: Any, path: str) -> dict[str, Any]:
    rule = as_map(raw, path)
    unknown = sorted(set(rule) - _RULE_KEYS)
    if unknown:
        raise Invalid(f"{path}.{unknown[0]}", "not a lifecycle rule property s3audit knows")
    rule_id = either(rule, "Id", "ID")
    if rule_id is None:
        # The audit matches rules by id; CloudFormation would make one up at deploy time.
        raise Invalid(f"{path}.Id", "a rule without Id cannot be matched by the audit")
    status = as_str(rule.get("Status", "Enabled"), f"{path}.Status")
    out: dict[str, Any] = {"id": as_str(rule_id, f"{path}.Id"), "status": status}
    out.update(_rule_filter(rule, path))
    transitions = _transitions(rule, path, "Transitions", "Transition", False)
    if transitions:
        out["transitions"] = transitions
    out.update(_expiration(rule, path))
    out.update(_noncurrent(rule, path))
    where = f"{path}.AbortIncompleteMultipartUpload"
    abort = as_map(rule.get("AbortIncompleteMultipartUpload") or {}, where)
    if abort.get("DaysAfterInitiation") is not None:
        out["abort_incomplete_multipart_upload_days"] = as_int(
            abort["DaysAfterInitiation"], f"{where}.DaysAfterInitiation")
    return out


def rules(raw: Any, path: str, origin: Origin) -> list[dict[str, Any]]:
    """The spec's `lifecycle:` list for a LifecycleConfiguration (CloudFormation or S3 API)."""
    # All or nothing: the control compares the exact set of rules, field by field.
    items = as_list(as_map(raw, path).get("Rules"), f"{path}.Rules")
    return [_lifecycle_rule(r, f"{path}.Rules[{i}]") for i, r in enumerate(items)]
