"""`tags`: tags the bucket must carry (any value, one value, or one of several) and must not."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from auditor.cfn.values import CfnBucket, as_list, as_map, as_str
from auditor.controls._commands import commands
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.model import Difference, Facet, Outcome, Severity

TAGGING = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/CostAllocTagging.html"
ANY = "*"
# What a tag the spec requires with any value is set to by `demo` and a suggested fix.
PLACEHOLDER = "CHANGE-ME"
# Tags AWS itself puts on resources (aws:cloudformation:stack-name ...); nobody can set them.
AWS_PREFIX = "aws:"

_TAG_KEY = {"type": "string", "minLength": 1, "maxLength": 128}
_TAG_VALUE = {"type": "string", "maxLength": 256}
SCHEMA = {
    "description": "Tags the bucket must carry and must not carry; other tags are not checked.",
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "required": {
            "description": "Tag key -> `\"*\"` (any value), a value, or a list of allowed values.",
            "type": "object",
            "minProperties": 1,
            "propertyNames": _TAG_KEY,
            "additionalProperties": {"anyOf": [
                _TAG_VALUE, {"type": "array", "minItems": 1, "items": _TAG_VALUE}]},
        },
        "forbidden": {
            "description": "Tag keys the bucket must not carry.",
            "type": "array",
            "minItems": 1,
            "items": _TAG_KEY,
        },
    },
    "errorMessage": {"minProperties": "names neither required nor forbidden tags"},
}


@dataclass(frozen=True, slots=True)
class TagsSpec:
    required: tuple[tuple[str, tuple[str, ...] | None], ...] = ()  # None: any value
    forbidden: tuple[str, ...] = ()


def _build(raw: Mapping[str, Any]) -> TagsSpec:
    required = []
    for key, value in (raw.get("required") or {}).items():
        allowed = None if value == ANY else tuple(value if isinstance(value, list) else [value])
        required.append((str(key), allowed))
    return TagsSpec(tuple(required), tuple(raw.get("forbidden") or ()))


def _allowed(values: tuple[str, ...]) -> str:
    return repr(values[0]) if len(values) == 1 else "one of " + ", ".join(values)


def tags(want: TagsSpec, ref: Ref, have: tuple[tuple[str, str], ...]) -> Outcome:
    """A required tag is missing or has a value the spec does not allow, or a forbidden tag
    is present.

    Why it matters: ownership, data classification and cost tags are how people and
    policies (ABAC conditions on aws:ResourceTag, backup plans, SCPs) find and treat a
    bucket; an untagged bucket has no owner to call and no class to protect it by.
    Notes: tag keys and values are case-sensitive; tags the spec names neither way are
    not checked. `"*"` accepts any value, a list accepts any of its values.
    Example: `tags: {required: {owner: "*", data-class: [public, internal, confidential]}, forbidden: [temp]}`
    """
    live = dict(have)
    diffs = []
    for key, allowed in want.required:
        if key not in live:
            diffs.append(Difference(f"tags.required.{key}", ANY if allowed is None else list(allowed),
                                    None, f"Tag {key} is missing; the spec requires it"))
        elif allowed is not None and live[key] not in allowed:
            diffs.append(Difference(f"tags.required.{key}", list(allowed), live[key],
                                    f"Tag {key} is {live[key]!r}; the spec requires {_allowed(allowed)}"))
    for key in want.forbidden:
        if key in live:
            diffs.append(Difference(f"tags.forbidden.{key}", None, live[key],
                                    f"Tag {key} is present; the spec forbids it"))
    return Outcome(actual=live, differences=tuple(diffs))


def _target(want: TagsSpec, live: Mapping[str, str]) -> dict[str, str]:
    """The tag set to put: live tags kept where allowed, required ones added, forbidden gone."""
    out = {k: v for k, v in live.items() if k not in want.forbidden and not k.startswith(AWS_PREFIX)}
    for key, allowed in want.required:
        if allowed is not None and out.get(key) not in allowed:
            out[key] = allowed[0]
        elif allowed is None and key not in out:
            out[key] = PLACEHOLDER
    return out


def _requests(ref: Ref, tagset: Mapping[str, str]) -> tuple[Request, ...]:
    if not tagset:
        return (Request("s3", "DeleteBucketTagging", {"Bucket": ref.name}),)
    # PutBucketTagging replaces the whole tag set, so the request carries every tag to keep.
    return (Request("s3", "PutBucketTagging", {"Bucket": ref.name, "Tagging": {
        "TagSet": [{"Key": k, "Value": v} for k, v in sorted(tagset.items())]}}),)


def _put(ref: Ref, want: TagsSpec) -> tuple[Request, ...]:
    tagset = _target(want, {})
    return _requests(ref, tagset) if tagset else ()


def _fix(ref: Ref, want: TagsSpec, have: tuple[tuple[str, str], ...] | None) -> str | None:
    text = commands(_requests(ref, _target(want, dict(have or ()))))
    if text is not None and PLACEHOLDER in text:
        text = f"# set the value of each {PLACEHOLDER} tag first\n{text}"
    return text


def _derive(ref: Ref, have: tuple[tuple[str, str], ...]) -> Derived:
    own = {k: v for k, v in have if not k.startswith(AWS_PREFIX)}
    if not own:
        return None, "tags: not stated: the bucket has no tags of its own"
    return {"required": own}, None


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    required = value.get("required") or {}
    for index, key in enumerate(value.get("forbidden") or ()):
        if key in required:
            yield at.problem(("tags", "forbidden", index),
                             f"tag {key!r} is both required and forbidden: no bucket can pass")
    for key in (*required, *(value.get("forbidden") or ())):
        if str(key).startswith(AWS_PREFIX):
            yield at.problem(("tags",), f"tag {key!r}: the aws: prefix is reserved for tags AWS "
                                        f"sets; nobody can add or remove it ({TAGGING})", "warning")


def _from_template(raw: Any, path: str) -> dict[str, Any] | None:
    found: dict[str, str] = {}
    for index, item in enumerate(as_list(raw, path)):
        tag = as_map(item, f"{path}[{index}]")
        key = as_str(tag.get("Key"), f"{path}[{index}].Key")
        value = tag.get("Value")
        found[key] = "" if value == "" else as_str(value, f"{path}[{index}].Value")
    return {"required": found} if found else None


def _cfn(bucket: CfnBucket, entry: Mapping[str, Any]) -> object | None:
    raw = bucket.prop("Tags")
    return None if raw is None else bucket.origin.attempt(_from_template, raw, "Tags")


CONTROL = Control(
    key="tags",
    id="S3-TAG-001",
    title="The bucket carries the tags the spec requires and none it forbids",
    severity=Severity.LOW,
    check=tags,
    reads=(Facet.TAGS,),
    schema=SCHEMA,
    build=_build,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport(_cfn, ("Tags",)),
    put_requests=_put,
    fix=_fix,
    example={"required": {"owner": "*", "data-class": ["public", "internal", "confidential"]},
             "forbidden": ["temp"]},
    references=(TAGGING, "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketTagging.html"),
    why_not={"kms_refs": "names no KMS key"},
)
