"""`replication`: replication rules, an exact set matched by id; replica keys by identity."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.cfn.values import CfnBucket, Invalid, as_list, as_map, as_str, either
from auditor.controls._commands import commands
from auditor.controls.encryption import DEFS as ENCRYPTION_DEFS
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.jsonable import to_jsonable
from auditor.model import Difference, Facet, KmsKeys, Outcome, ReplicationRule, Severity
from auditor.shapes import kms_region

REPLICATION = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html"
ROLE_PLACEHOLDER = "arn:aws:iam::ACCOUNT-ID:role/REPLICATION-ROLE"
_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
_CLASSES = ["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
            "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS"]
_OPTIONAL = ("destination_account", "storage_class", "delete_marker_replication", "prefix")

SCHEMA = {
    "description": "The exact set of replication rules, matched by id; [] means no replication "
    "is allowed.",
    "type": "array",
    "items": {"$ref": "#/$defs/replication_rule"},
}
DEFS = {
    "replication_rule": {
        "description": "One replication rule; an optional field left out is not checked.",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "destination_bucket"],
        "errorMessage": {"type": "a replication rule must be a mapping"},
        "properties": {
            "id": {"description": "Rule id; rules are matched by it.", "type": "string",
                   "minLength": 1, "maxLength": 255},
            "status": {"description": "Enabled (default) or Disabled.", "enum": ["Enabled", "Disabled"]},
            "destination_bucket": {
                "description": "Destination bucket, by name or ARN.",
                "type": "string",
                "pattern": f"^({_BUCKET}|arn:aws[a-z-]*:s3:::{_BUCKET})$",
                "errorMessage": {"pattern": "{value} is not a bucket name or bucket ARN"},
            },
            "destination_account": {"description": "Account that owns the destination bucket.",
                                    "type": "string", "pattern": "^[0-9]{12}$"},
            "storage_class": {"description": "Storage class of the replicas.", "enum": _CLASSES},
            "replica_kms_key": {"$ref": "#/$defs/kms_key"},
            "delete_marker_replication": {"description": "Whether delete markers are replicated.",
                                          "type": "boolean"},
            "prefix": {"description": "Key prefix filter ('' = the whole bucket).", "type": "string"},
        },
    },
    "kms_key": ENCRYPTION_DEFS["kms_key"],
}


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A wanted rule: id, status and destination always compared, the rest when stated."""

    id: str
    destination_bucket: str
    status: str = "Enabled"
    destination_account: str | None = None
    storage_class: str | None = None
    replica_kms_key: str | None = None
    delete_marker_replication: bool | None = None
    prefix: str | None = None


def _name(bucket: str) -> str:
    return bucket.split(":::", 1)[1] if bucket.startswith("arn:") else bucket


def _build(raw: Sequence[Mapping[str, Any]]) -> tuple[RuleSpec, ...]:
    return tuple(RuleSpec(
        id=r["id"], destination_bucket=_name(r["destination_bucket"]), status=r.get("status", "Enabled"),
        destination_account=r.get("destination_account"), storage_class=r.get("storage_class"),
        replica_kms_key=r.get("replica_kms_key"),
        delete_marker_replication=r.get("delete_marker_replication"), prefix=r.get("prefix"),
    ) for r in raw)


def _same_key(want: str, have: str | None, ref: Ref, keys: KmsKeys) -> bool:
    if have is None or want == have:
        return want == have
    where = kms_region(have)
    region = None if where in (None, ref.region) else where
    wanted = keys.arn(want, region)
    return wanted is not None and wanted == (keys.arn(have, region) or have)


def _rule_differences(path: str, want: RuleSpec, have: ReplicationRule, ref: Ref,
                      keys: KmsKeys) -> Iterator[Difference]:
    label = f"Replication rule {want.id}"
    for field in ("status", "destination_bucket", *_OPTIONAL):
        expected, actual = getattr(want, field), getattr(have, field)
        if (field in _OPTIONAL and expected is None) or expected == actual:
            continue
        yield Difference(f"{path}.{field}", expected, actual,
                         f"{label}: {field} is {actual if actual is not None else 'not set'}; "
                         f"the spec requires {expected}")
    if want.replica_kms_key is not None and not _same_key(want.replica_kms_key, have.replica_kms_key,
                                                          ref, keys):
        yield Difference(f"{path}.replica_kms_key", want.replica_kms_key, have.replica_kms_key,
                         f"{label}: replicas are encrypted with {have.replica_kms_key or 'no KMS key'}; "
                         f"the spec requires {want.replica_kms_key}")


def replication(want: tuple[RuleSpec, ...], ref: Ref, have: tuple[ReplicationRule, ...],
                keys: KmsKeys) -> Outcome:
    """A replication rule is missing, extra, or differs from the spec (destination, status,
    storage class, replica KMS key, delete-marker replication, prefix).

    Why it matters: replication is the copy that survives the loss of a region or an
    account (AWS FSBP S3.7); a rule that points elsewhere or is disabled is a recovery plan
    that fails on the day it is needed.
    Notes: rules are matched by id, in any order; `replication: []` allows none. The
    replica key may be spelled any way (alias name, alias ARN, key id, key ARN): it is
    resolved with KMS in the destination's region. A rule without a Filter is S3's first
    schema, which replicates delete markers.
    Example: `replication: [{id: to-dr, destination_bucket: amply-storage-dr, storage_class: STANDARD_IA}]`
    """
    live = {r.id: r for r in have}
    wanted = {r.id for r in want}
    diffs: list[Difference] = []
    for index, rule in enumerate(want):
        path, actual = f"replication[{index}]", live.get(rule.id)
        if actual is None:
            diffs.append(Difference(path, rule, None, f"Replication rule {rule.id} is missing"))
        else:
            diffs.extend(_rule_differences(path, rule, actual, ref, keys))
    diffs.extend(Difference(f"replication[id={rid}]", None, rule, f"Replication rule {rid} is not in the spec")
                 for rid, rule in live.items() if rid not in wanted)
    return Outcome(actual=have, differences=tuple(diffs))


def _rule_to_api(index: int, rule: RuleSpec) -> dict[str, Any]:
    dest: dict[str, Any] = {"Bucket": f"arn:aws:s3:::{rule.destination_bucket}"}
    if rule.destination_account:
        dest["Account"] = rule.destination_account
    if rule.storage_class:
        dest["StorageClass"] = rule.storage_class
    out: dict[str, Any] = {"ID": rule.id, "Priority": index + 1, "Status": rule.status,
                           "Filter": {"Prefix": rule.prefix or ""},
                           "DeleteMarkerReplication": {
                               "Status": "Enabled" if rule.delete_marker_replication else "Disabled"},
                           "Destination": dest}
    if rule.replica_kms_key:
        dest["EncryptionConfiguration"] = {"ReplicaKmsKeyID": rule.replica_kms_key}
        out["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    return out


def _put(ref: Ref, want: tuple[RuleSpec, ...]) -> tuple[Request, ...]:
    if not want:
        return (Request("s3", "DeleteBucketReplication", {"Bucket": ref.name}),)
    role = ROLE_PLACEHOLDER.replace("ACCOUNT-ID", ref.account_id or "ACCOUNT-ID")
    return (Request("s3", "PutBucketReplication", {"Bucket": ref.name, "ReplicationConfiguration": {
        "Role": role, "Rules": [_rule_to_api(i, r) for i, r in enumerate(want)]}}),)


def _fix(ref: Ref, want: tuple[RuleSpec, ...], have: Any, keys: Any) -> str | None:
    text = commands(_put(ref, want))
    return f"# name the role S3 replicates as (REPLICATION-ROLE)\n{text}" if want and text else None


def _derive(ref: Ref, have: tuple[ReplicationRule, ...], keys: KmsKeys) -> Derived:
    out = []
    for rule in have:
        item = to_jsonable(RuleSpec(rule.id, rule.destination_bucket, rule.status,
                                    rule.destination_account, rule.storage_class,
                                    rule.replica_kms_key, rule.delete_marker_replication, rule.prefix))
        out.append(item)
    note = None
    if any(rule.tags for rule in have):
        note = "replication: tag filters of the live rules are not part of the spec format"
    return out, note


def _kms_refs(want: tuple[RuleSpec, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.replica_kms_key for r in want if r.replica_kms_key))


def _lint(at: Locator, rules: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    if rules and entry.get("versioning") in ("Suspended", "Disabled"):
        yield at.problem(("replication",), "replication needs versioning Enabled on the source, and "
                                           f"the spec says versioning: {entry['versioning']} ({REPLICATION})")
    first: dict[str, int] = {}
    for index, rule in enumerate(rules):
        if rule["id"] in first:
            yield at.problem(("replication", index, "id"),
                             f"duplicate replication rule id {rule['id']!r} (first at line "
                             f"{at.position(('replication', first[rule['id']]))[0]})")
        first.setdefault(rule["id"], index)
        if _name(rule["destination_bucket"]) == entry.get("name"):
            yield at.problem(("replication", index, "destination_bucket"),
                             "a bucket cannot replicate into itself")


def _cfn_rule(raw: Any, path: str) -> dict[str, Any]:
    rule = as_map(raw, path)
    dest = as_map(rule.get("Destination"), f"{path}.Destination")
    out: dict[str, Any] = {"id": as_str(either(rule, "Id", "ID"), f"{path}.Id"),
                           "status": as_str(rule.get("Status"), f"{path}.Status"),
                           "destination_bucket": _name(as_str(dest.get("Bucket"), f"{path}.Destination.Bucket"))}
    for key, spec_key in (("Account", "destination_account"), ("StorageClass", "storage_class")):
        if dest.get(key) is not None:
            out[spec_key] = as_str(dest[key], f"{path}.Destination.{key}")
    key_id = (dest.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
    if key_id is not None:
        out["replica_kms_key"] = as_str(key_id, f"{path}.Destination.EncryptionConfiguration.ReplicaKmsKeyID")
    flt = rule.get("Filter")
    prefix = rule.get("Prefix") if flt is None else (as_map(flt, f"{path}.Filter").get("Prefix"))
    if isinstance(prefix, str):
        out["prefix"] = prefix
    marker = (rule.get("DeleteMarkerReplication") or {}).get("Status")
    if marker is not None:
        out["delete_marker_replication"] = as_str(marker, f"{path}.DeleteMarkerReplication.Status") == "Enabled"
    if out["status"] not in ("Enabled", "Disabled"):
        raise Invalid(f"{path}.Status", f"{out['status']!r} is not Enabled or Disabled")
    return out


def _cfn(bucket: CfnBucket, entry: Mapping[str, Any]) -> object | None:
    raw = bucket.prop("ReplicationConfiguration")
    if raw is None:
        return None

    def rules(value: Any, path: str) -> list[dict[str, Any]]:
        items = as_list(as_map(value, path).get("Rules"), f"{path}.Rules")
        return [_cfn_rule(r, f"{path}.Rules[{i}]") for i, r in enumerate(items)]

    return bucket.origin.attempt(rules, raw, "ReplicationConfiguration")


CONTROL = Control(
    key="replication",
    id="S3-REP-001",
    title="Replication rules are exactly the set the spec lists",
    severity=Severity.MEDIUM,
    check=replication,
    reads=(Facet.REPLICATION, Facet.KMS_KEYS),
    schema=SCHEMA,
    defs=DEFS,
    build=_build,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport(_cfn, ("ReplicationConfiguration",)),
    put_requests=_put,
    fix=_fix,
    kms_refs=_kms_refs,
    example=[{"id": "to-dr", "destination_bucket": "amply-storage-dr", "storage_class": "STANDARD_IA"}],
    references=(REPLICATION, "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-add-config.html"),
)
