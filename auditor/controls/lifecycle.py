"""`lifecycle`: lifecycle rules, compared as an exact set matched by rule id."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from auditor.controls import _lifecycle_cfn, _lifecycle_lint
from auditor.controls._diff import field_differences
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.jsonable import to_jsonable
from auditor.model import (
    Difference,
    Facet,
    LifecycleRule,
    NoncurrentTransition,
    Outcome,
    Severity,
    Transition,
)
from auditor.shapes import lifecycle_rule_to_api, noncurrent_key, transition_key

SCHEMA = {
    "description": "The exact set of lifecycle rules, matched by id; [] means no lifecycle rules are "
    "allowed.",
    "type": "array",
    "items": {"$ref": "#/$defs/lifecycle_rule"},
}
DEFS = {
    "lifecycle_rule": {
        "description": "One lifecycle rule: a filter (prefix, tags, object size) and "
        "at least one action.",
        "type": "object",
        "additionalProperties": False,
        "required": ["id"],
        "anyOf": [
            {"required": ["transitions"]},
            {"required": ["expiration_days"]},
            {"required": ["expiration_date"]},
            {"required": ["expired_object_delete_marker"]},
            {"required": ["noncurrent_expiration_days"]},
            {"required": ["noncurrent_transitions"]},
            {"required": ["abort_incomplete_multipart_upload_days"]},
        ],
        "dependentRequired": {"noncurrent_newer_versions": ["noncurrent_expiration_days"]},
        "errorMessage": {
            "type": "a lifecycle rule must be a mapping",
            "anyOf": "a lifecycle rule needs at least one action "
            "(transitions, expiration_days, expiration_date, "
            "expired_object_delete_marker, "
            "noncurrent_expiration_days, noncurrent_transitions "
            "or abort_incomplete_multipart_upload_days)",
            "dependentRequired": "'noncurrent_newer_versions' belongs to "
            "the noncurrent expiration: state "
            "'noncurrent_expiration_days' too",
        },
        "properties": {
            "id": {
                "description": "Rule id, unique within the bucket; rules are matched by it.",
                "type": "string",
                "minLength": 1,
                "maxLength": 255,
            },
            "status": {
                "description": "Enabled (default) or Disabled.",
                "enum": ["Enabled", "Disabled"],
                "default": "Enabled",
            },
            "prefix": {
                "description": "Key prefix filter; left out = the whole bucket.",
                "type": "string",
            },
            "tags": {
                "description": "Tag filter: every tag must be present with this value.",
                "type": "object",
                "additionalProperties": {"type": "string"},
                "propertyNames": {"minLength": 1, "maxLength": 128},
            },
            "object_size_greater_than": {
                "description": "Only objects larger than this many bytes.",
                "type": "integer",
                "minimum": 0,
            },
            "object_size_less_than": {
                "description": "Only objects smaller than this many bytes.",
                "type": "integer",
                "minimum": 0,
            },
            "transitions": {
                "description": "Storage class transitions of current versions.",
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/transition"},
            },
            "expiration_days": {
                "description": "Expire current versions this many days after creation.",
                "type": "integer",
                "minimum": 1,
            },
            "expiration_date": {
                "description": "Expire current versions on this date.",
                "$ref": "#/$defs/date",
            },
            "expired_object_delete_marker": {
                "description": "Remove delete markers that have no noncurrent versions left.",
                "type": "boolean",
            },
            "noncurrent_expiration_days": {
                "description": "Expire "
                "noncurrent "
                "versions this "
                "many days after "
                "they become "
                "noncurrent.",
                "type": "integer",
                "minimum": 1,
            },
            "noncurrent_newer_versions": {
                "description": "Keep this many "
                "newer noncurrent "
                "versions from "
                "noncurrent "
                "expiration.",
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
            },
            "noncurrent_transitions": {
                "description": "Storage class transitions of noncurrent versions.",
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/noncurrent_transition"},
            },
            "abort_incomplete_multipart_upload_days": {
                "description": "Abort multipart uploads not completed after this many days.",
                "type": "integer",
                "minimum": 1,
            },
        },
    },
    "transition": {
        "description": "Move current versions to `storage_class` after `days` days or on `date`.",
        "type": "object",
        "additionalProperties": False,
        "required": ["storage_class"],
        "oneOf": [{"required": ["days"]}, {"required": ["date"]}],
        "errorMessage": {
            "type": "a transition must be a mapping",
            "oneOf": "a transition needs exactly one of 'days' or 'date'",
        },
        "properties": {
            "days": {"description": "Days after object creation.", "type": "integer", "minimum": 0},
            "date": {"description": "Date of the transition (YYYY-MM-DD).", "$ref": "#/$defs/date"},
            "storage_class": {"$ref": "#/$defs/storage_class"},
        },
    },
    "noncurrent_transition": {
        "description": "Move noncurrent versions to `storage_class` `days` days "
        "after they become noncurrent.",
        "type": "object",
        "additionalProperties": False,
        "required": ["days", "storage_class"],
        "errorMessage": {"type": "a noncurrent transition must be a mapping"},
        "properties": {
            "days": {
                "description": "Days after the version became noncurrent.",
                "type": "integer",
                "minimum": 1,
            },
            "storage_class": {"$ref": "#/$defs/storage_class"},
            "newer_versions": {
                "description": "Keep this many newer noncurrent versions from this transition.",
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
            },
        },
    },
    "storage_class": {
        "description": "The S3 storage class objects move to.",
        "enum": [
            "STANDARD_IA",
            "ONEZONE_IA",
            "INTELLIGENT_TIERING",
            "GLACIER",
            "GLACIER_IR",
            "DEEP_ARCHIVE",
        ],
    },
}


def build_rule(raw: Mapping[str, Any]) -> LifecycleRule:
    """One schema-valid lifecycle rule mapping as a normalised `LifecycleRule`."""
    transitions = (
        Transition(t["storage_class"], t.get("days"), t.get("date"))
        for t in raw.get("transitions", ())
    )
    noncurrent = (
        NoncurrentTransition(t["storage_class"], t["days"], t.get("newer_versions"))
        for t in raw.get("noncurrent_transitions", ())
    )
    return LifecycleRule(
        id=raw["id"],
        status=raw.get("status", "Enabled"),
        prefix=raw.get("prefix", ""),
        tags=tuple(sorted((str(k), str(v)) for k, v in raw.get("tags", {}).items())),
        object_size_greater_than=raw.get("object_size_greater_than"),
        object_size_less_than=raw.get("object_size_less_than"),
        transitions=tuple(sorted(transitions, key=transition_key)),
        expiration_days=raw.get("expiration_days"),
        expiration_date=raw.get("expiration_date"),
        expired_object_delete_marker=raw.get("expired_object_delete_marker"),
        noncurrent_expiration_days=raw.get("noncurrent_expiration_days"),
        noncurrent_newer_versions=raw.get("noncurrent_newer_versions"),
        noncurrent_transitions=tuple(sorted(noncurrent, key=noncurrent_key)),
        abort_incomplete_multipart_upload_days=raw.get("abort_incomplete_multipart_upload_days"),
    )


def _build(raw: Sequence[Mapping[str, Any]]) -> tuple[LifecycleRule, ...]:
    # Spec order is kept, so a difference's path `lifecycle[i]` is the i-th rule as written.
    return tuple(build_rule(r) for r in raw)


def lifecycle(
    want: tuple[LifecycleRule, ...], ref: Ref, have: tuple[LifecycleRule, ...]
) -> Outcome:
    """A lifecycle rule is missing, extra, or differs in a field from the spec.

    Why it matters: lifecycle rules carry retention and cost decisions: a missing expiration
    keeps personal data in temp/ forever; a missing transition costs money.
    Notes: rules are matched by `id`; their order carries no meaning. Each difference names
    the rule and the field. `lifecycle: []` means no rules are allowed.
    Example: `lifecycle: [{id: cleanup-temp, prefix: temp/, expiration_days: 7}]`
    """
    live = {r.id: r for r in have}
    wanted = {r.id for r in want}
    diffs: list[Difference] = []
    for index, expected in enumerate(want):
        path, actual = f"lifecycle[{index}]", live.get(expected.id)
        if actual is None:
            diffs.append(Difference(path, expected, None, f"Lifecycle rule {expected.id} is missing"))
        else:
            diffs.extend(field_differences(path, f"rule {expected.id}", expected, actual))
    for rid, actual in live.items():
        if rid not in wanted:
            diffs.append(Difference(f"lifecycle[id={rid}]", None, actual,
                                    f"Lifecycle rule {rid} is not in the spec"))
    return Outcome(actual=have, differences=tuple(diffs))


def _put(ref: Ref, want: tuple[LifecycleRule, ...]) -> tuple[Request, ...]:
    if not want:
        return (Request("s3", "DeleteBucketLifecycle", {"Bucket": ref.name}),)
    return (Request("s3", "PutBucketLifecycleConfiguration", {
        "Bucket": ref.name,
        "LifecycleConfiguration": {"Rules": [lifecycle_rule_to_api(r) for r in want]}}),)


def _derive(ref: Ref, have: tuple[LifecycleRule, ...]) -> Derived:
    # The exact set: `[]` when none, so an audit also catches rules added later.
    return to_jsonable(have), None


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    return _lifecycle_lint.problems(at, value)


CONTROL = Control(
    key="lifecycle",
    id="S3-LCY-001",
    title="Lifecycle rules are exactly the set the spec lists",
    severity=Severity.LOW,
    check=lifecycle,
    reads=(Facet.LIFECYCLE,),
    schema=SCHEMA,
    defs=DEFS,
    build=_build,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport.prop("LifecycleConfiguration", _lifecycle_cfn.rules),
    put_requests=_put,
    example=[{"id": "cleanup-temp", "prefix": "temp/", "expiration_days": 7}],
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html",),
    why_not={"kms_refs": "names no KMS key"},
)
