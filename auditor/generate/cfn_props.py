"""Bucket properties as CloudFormation (and the seed document) write them -> spec values.

Input is a bucket's properties with intrinsic functions already resolved (`Unresolved`
leaves where a value is only known at deploy time). Two spellings are accepted wherever they
differ: CloudFormation's (`ExpirationInDays`, `TransitionInDays`, `MaxAge`, `ExposedHeaders`,
`TagFilters`) and the S3 API's that the seed document uses (`Expiration: {Days}`, `Days`,
`MaxAgeSeconds`, `ExposeHeaders`, `Filter: {Prefix, Tag, And}`).

What cannot be imported is left out with a warning, never guessed, at the smallest unit
that keeps the spec true: a single flag or key (a public access block flag, the KMS key, the
index document) where leaving it out only means "not checked"; the whole lifecycle or CORS
configuration where leaving out one field would make the exact-set comparison wrong.

Access level rule (also in `s3audit import --help`): a template states
`public_access: none` only through a public access block with both IgnorePublicAcls and
RestrictPublicBuckets true (or, for ACLs, BucketOwnerEnforced ownership): those are what
neutralise public ACLs and public policies, so such a bucket cannot be public whatever else is
set. `public_access: read` comes from a bucket policy granting anonymous s3:GetObject and
nothing beyond, and `tls_only: true` from a policy that denies plain HTTP; both are judged by
the audit's own policy evaluator. Absence of a policy states nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from auditor.policy.document import parse_policy
from auditor.generate.cfn_values import (
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
from auditor.model import SPEC_CONTROLS, PolicyDocument
from auditor.policy.evaluate import PolicyTooComplexError, public_actions, tls_only_gaps

__all__ = ["Origin", "bucket_entry", "policy_document"]

_FLAGS = (("BlockPublicAcls", "block_public_acls"), ("IgnorePublicAcls", "ignore_public_acls"),
          ("BlockPublicPolicy", "block_public_policy"),
          ("RestrictPublicBuckets", "restrict_public_buckets"))


# --------------------------------------------------------------------------- simple properties


def _versioning(raw: Any, path: str, origin: Origin) -> str | None:
    status = as_str(as_map(raw, path).get("Status"), f"{path}.Status")
    if status not in ("Enabled", "Suspended"):
        raise Invalid(f"{path}.Status", f"{status!r} is not Enabled or Suspended")
    return status


def _encryption(raw: Any, path: str, origin: Origin) -> dict[str, Any] | None:
    rules = as_list(as_map(raw, path).get("ServerSideEncryptionConfiguration"),
                  f"{path}.ServerSideEncryptionConfiguration")
    if len(rules) != 1:
        raise Invalid(f"{path}.ServerSideEncryptionConfiguration", "S3 takes exactly one rule")
    rule_path = f"{path}.ServerSideEncryptionConfiguration[0]"
    rule = as_map(rules[0], rule_path)
    name = "ServerSideEncryptionByDefault"
    if name not in rule:
        name = "ApplyServerSideEncryptionByDefault"  # the S3 API's spelling
    where = f"{rule_path}.{name}"
    default = as_map(rule.get(name), where)
    algorithm = as_str(default.get("SSEAlgorithm"), f"{where}.SSEAlgorithm")
    out: dict[str, Any] = {"algorithm": algorithm}
    # The key and the Bucket Key are single values: one that cannot be imported is left
    # unchecked, the algorithm still is.
    if default.get("KMSMasterKeyID") is not None:
        key = origin.attempt(as_str, default["KMSMasterKeyID"], f"{where}.KMSMasterKeyID")
        if key is not None:
            out["kms_key"] = key
    if rule.get("BucketKeyEnabled") is not None:
        bucket_key = origin.attempt(as_bool, rule["BucketKeyEnabled"],
                                    f"{rule_path}.BucketKeyEnabled")
        if bucket_key is not None:
            out["bucket_key"] = bucket_key
    return out


def _public_access_block(raw: Any, path: str, origin: Origin) -> dict[str, bool] | None:
    conf = as_map(raw, path)
    out: dict[str, bool] = {}
    for cfn_key, spec_key in _FLAGS:
        if conf.get(cfn_key) is not None:
            flag = origin.attempt(as_bool, conf[cfn_key], f"{path}.{cfn_key}")
            if flag is not None:
                out[spec_key] = flag
    return out or None  # a block stating no flag checks nothing


def _website(raw: Any, path: str, origin: Origin) -> dict[str, Any]:
    conf = as_map(raw, path)
    out: dict[str, Any] = {}
    # CloudFormation writes documents as strings, the S3 API as {Suffix} / {Key}.
    for cfn_key, api_key, spec_key in (("IndexDocument", "Suffix", "index_document"),
                                       ("ErrorDocument", "Key", "error_document")):
        value = conf.get(cfn_key)
        if isinstance(value, Mapping):
            value = value.get(api_key)
        if value is not None:
            found = origin.attempt(as_str, value, f"{path}.{cfn_key}")
            if found is not None:
                out[spec_key] = found
    if conf.get("RedirectAllRequestsTo") is not None:
        redirect = origin.attempt(_redirect, conf["RedirectAllRequestsTo"],
                                  f"{path}.RedirectAllRequestsTo")
        if redirect is not None:
            out["redirect_all_requests_to"] = redirect
    if conf.get("RoutingRules"):
        origin.skip(Invalid(f"{path}.RoutingRules",
                            "routing rules are not part of the spec format"))
    return out  # even `{}` says something true: the bucket must be a website


def _redirect(raw: Any, path: str) -> dict[str, str]:
    conf = plain(as_map(raw, path), path)
    out = {"host_name": as_str(conf.get("HostName"), f"{path}.HostName")}
    if conf.get("Protocol") is not None:
        out["protocol"] = as_str(conf["Protocol"], f"{path}.Protocol")
    return out


# --------------------------------------------------------------------------- lifecycle

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


def _lifecycle(raw: Any, path: str, origin: Origin) -> list[dict[str, Any]]:
    # All or nothing: the control compares the exact set of rules, field by field.
    rules = as_list(as_map(raw, path).get("Rules"), f"{path}.Rules")
    return [_lifecycle_rule(r, f"{path}.Rules[{i}]") for i, r in enumerate(rules)]


# --------------------------------------------------------------------------- CORS

_CORS_KEYS = {
    "Id": "id", "ID": "id", "AllowedOrigins": "allowed_origins",
    "AllowedMethods": "allowed_methods", "AllowedHeaders": "allowed_headers",
    "ExposedHeaders": "expose_headers", "ExposeHeaders": "expose_headers",
    "MaxAge": "max_age_seconds", "MaxAgeSeconds": "max_age_seconds",
}
_CORS_ORDER = ("allowed_origins", "allowed_methods", "allowed_headers", "expose_headers",
               "max_age_seconds", "id")


def _cors_rule(raw: Any, path: str) -> dict[str, Any]:
    rule = as_map(raw, path)
    out: dict[str, Any] = {}
    for key, value in rule.items():
        spec_key = _CORS_KEYS.get(key)
        where = f"{path}.{key}"
        if spec_key is None:
            raise Invalid(where, "not a CORS rule property s3audit knows")
        if spec_key == "max_age_seconds":
            out[spec_key] = as_int(value, where)
        elif spec_key == "id":
            out[spec_key] = as_str(value, where)
        else:
            items = [as_str(v, f"{where}[{i}]") for i, v in enumerate(as_list(value, where))]
            out[spec_key] = [v.upper() for v in items] if spec_key == "allowed_methods" else items
    return {k: out[k] for k in _CORS_ORDER if k in out and out[k] != []}


def _cors(raw: Any, path: str, origin: Origin) -> list[dict[str, Any]]:
    conf = as_map(raw, path)
    key = "CorsRules" if "CorsRules" in conf else "CORSRules"  # CloudFormation / S3 API
    rules = as_list(conf.get(key), f"{path}.{key}")
    return [_cors_rule(r, f"{path}.{key}[{i}]") for i, r in enumerate(rules)]


# --------------------------------------------------------------------------- policy and access


def policy_document(raw: Any, path: str) -> PolicyDocument:
    """A policy document (mapping or JSON text) parsed as the audit parses a live policy."""
    raw = plain(raw, path)
    text = raw if isinstance(raw, str) else json.dumps(as_map(raw, path), default=str)
    try:
        return parse_policy(text)
    except ValueError as exc:
        raise Invalid(path, str(exc)) from exc


def _bucket_owner_enforced(props: Mapping[str, Any]) -> bool:
    conf = props.get("OwnershipControls")
    rules = conf.get("Rules") if isinstance(conf, Mapping) else None
    return isinstance(rules, list) and any(
        isinstance(r, Mapping) and r.get("ObjectOwnership") == "BucketOwnerEnforced" for r in rules)


def _policy_access(entry: dict[str, Any], doc: PolicyDocument, path: str, origin: Origin,
                   restricted: bool) -> bool:
    """Set tls_only/public_access from the policy; True when it decided the access level."""
    name = str(entry["name"])
    try:
        if not tls_only_gaps(doc, name):
            entry["tls_only"] = True
        acts = public_actions(doc, name, "")
    except PolicyTooComplexError as exc:
        origin.skip(Invalid(path, f"the policy could not be evaluated ({exc})"))
        return True
    if not acts.public:
        return False
    if restricted:
        origin.warn(f"{origin.label}: {path}: the public statements are neutralised by "
                    "RestrictPublicBuckets")
        return False
    if acts.read_objects and not acts.beyond_read:
        entry["public_access"] = "read"
    else:
        beyond = ", ".join(acts.beyond_read) or "access other than reading objects"
        origin.warn(f"{origin.label}: {path}: the policy makes the bucket public beyond reading "
                    f"({beyond}); public_access not imported (a spec states only none or read)")
    return True


def _access(entry: dict[str, Any], props: Mapping[str, Any], policy: Any, origin: Origin) -> None:
    block = entry.get("public_access_block") or {}
    restricted = block.get("restrict_public_buckets") is True
    acls_off = block.get("ignore_public_acls") is True or _bucket_owner_enforced(props)
    if policy is not None:
        doc = origin.attempt(policy_document, policy, "PolicyDocument")
        if doc is None or _policy_access(entry, doc, "PolicyDocument", origin, restricted):
            return
    if restricted and acls_off:
        entry["public_access"] = "none"  # public ACLs ignored, public policies restricted


# --------------------------------------------------------------------------- the entry

_PROPERTIES: tuple[tuple[str, str, Callable[[Any, str, Origin], Any]], ...] = (
    ("versioning", "VersioningConfiguration", _versioning),
    ("encryption", "BucketEncryption", _encryption),
    ("public_access_block", "PublicAccessBlockConfiguration", _public_access_block),
    ("lifecycle", "LifecycleConfiguration", _lifecycle),
    ("cors", "CorsConfiguration", _cors),
    ("website", "WebsiteConfiguration", _website),
)


def bucket_entry(name: str, props: Mapping[str, Any], policy: Any, region: Any,
                 origin: Origin) -> dict[str, Any]:
    """The spec entry for one bucket: what its properties (and policy, if any) state."""
    entry: dict[str, Any] = {"name": name}
    if region is not None:
        found = origin.attempt(as_str, region, "Region")
        if found is not None:
            entry["region"] = found
    for key, prop, convert in _PROPERTIES:
        if props.get(prop) is not None:
            value = origin.attempt(convert, props[prop], prop, origin)
            if value is not None:
                entry[key] = value
    _access(entry, props, policy, origin)
    return {k: entry[k] for k in ("name", *SPEC_CONTROLS) if k in entry}
