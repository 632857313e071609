"""`objects`: the headers S3 serves for named keys and for the newest keys under a prefix."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from auditor.controls._commands import commands
from auditor.controls.registry import Control, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.model import Difference, Facet, ObjectHead, ObjectQuery, Objects, Outcome, Severity

DEFAULT_SAMPLE = 5
_NUMERIC = frozenset({"max-age", "s-maxage", "stale-while-revalidate", "stale-if-error"})
# Parameter values that are case-insensitive tokens (RFC 9110 8.3.2: charset is).
_TOKEN_PARAMETERS = frozenset({"charset"})

SCHEMA = {
    "description": "Object headers: each item names one `key` (HeadObject; it must exist) or a `prefix` whose newest `sample` keys are read. A key named on its own is judged by its own item, never by a prefix sample.",
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "oneOf": [{"required": ["key"]}, {"required": ["prefix"]}],
        "errorMessage": {"oneOf": "an objects item needs exactly one of 'key' or 'prefix'"},
        "properties": {
            "key": {"description": "An object key; it must exist.", "$ref": "#/$defs/non_empty_string"},
            "prefix": {"description": "A key prefix ('' = the whole bucket).", "type": "string"},
            "sample": {"description": "How many of the newest keys under the prefix to read (default 5).",
                       "type": "integer", "minimum": 1, "maximum": 1000},
            "cache_control": {"description": "Cache-Control, compared as a set of directives (case- and order-insensitive).",
                              "type": "string"},
            "content_type": {"description": "Content-Type: type/subtype case-insensitive, parameters as a set.",
                             "type": "string"},
        },
    },
}


@dataclass(frozen=True, slots=True)
class ObjectRule:
    key: str | None = None
    prefix: str | None = None
    sample: int | None = None
    cache_control: str | None = None
    content_type: str | None = None


ObjectsSpec = tuple[ObjectRule, ...]


def _build(raw: list[Mapping[str, Any]]) -> ObjectsSpec:
    return tuple(ObjectRule(key=r.get("key"), prefix=r.get("prefix"),
                            sample=(r.get("sample") or DEFAULT_SAMPLE) if "prefix" in r else None,
                            cache_control=r.get("cache_control"), content_type=r.get("content_type"))
                 for r in raw)


def cache_directives(value: str | None) -> frozenset[tuple[str, str | None]]:
    """Cache-Control as a set of (directive, value): names lower-cased, values unquoted, numeric
    values compared as numbers (`max-age=031536000` is `max-age=31536000`)."""
    out = set()
    for part in (value or "").split(","):
        name, eq, arg = part.strip().partition("=")
        name = name.strip().lower()
        if not name:
            continue  # "public,, max-age=1" and trailing commas: nothing there
        text = arg.strip().strip('"') if eq else None
        if text is not None and name in _NUMERIC and text.isdigit():
            text = str(int(text))
        out.add((name, text))
    return frozenset(out)


def media_type(value: str | None) -> tuple[str, frozenset[tuple[str, str]]] | None:
    """Content-Type as (type/subtype lower-cased, parameters as a set); None when absent."""
    if value is None or not value.strip():
        return None
    kind, *params = value.split(";")
    parsed = set()
    for param in params:
        name, _, arg = param.strip().partition("=")
        if not name.strip():
            continue
        name = name.strip().lower()
        arg = arg.strip().strip('"')
        parsed.add((name, arg.lower() if name in _TOKEN_PARAMETERS else arg))
    return kind.strip().lower(), frozenset(parsed)


def _header_differences(rule: ObjectRule, path: str, head: ObjectHead) -> Iterator[Difference]:
    if rule.cache_control is not None and cache_directives(rule.cache_control) != cache_directives(head.cache_control):
        yield Difference(f"{path}.cache_control", rule.cache_control, head.cache_control,
                         f"{head.key} is served with Cache-Control {_shown(head.cache_control)}; "
                         f"the spec requires {rule.cache_control!r}")
    if rule.content_type is not None and media_type(rule.content_type) != media_type(head.content_type):
        yield Difference(f"{path}.content_type", rule.content_type, head.content_type,
                         f"{head.key} is served with Content-Type {_shown(head.content_type)}; "
                         f"the spec requires {rule.content_type!r}")


def _shown(value: str | None) -> str:
    return "(none)" if value is None else repr(value)


def objects(want: ObjectsSpec, ref: Ref, have: Objects) -> Outcome:
    """An object is missing, or S3 serves it with other Cache-Control or Content-Type headers.

    Why it matters: a deploy that forgets the header on `index.html` strands users on an old
    build behind a CDN for as long as the wrong max-age says; a checkpoint served without
    `application/json` breaks the clients that verify it.
    Notes: a `key` is read with HeadObject and must exist (no such key is drift); a `prefix`
    is listed (ListObjectsV2, every page) and its `sample` most recently modified keys are
    read, leaving out keys named by their own item. Cache-Control is compared as a set of
    directives: case, order and spacing do not matter, `max-age=N` values must be equal.
    Content-Type compares type/subtype case-insensitively and its parameters as a set
    (charset case-insensitive). This is data-plane read: the audit needs s3:GetObject on the
    keys and s3:ListBucket on the bucket; without s3:ListBucket S3 answers 403 rather than
    404 for a missing key, which is an `error`, never a pass.
    Example: `objects: [{key: index.html, cache_control: "no-cache, no-store, must-revalidate"}]`
    """
    differences: list[Difference] = []
    notes: list[str] = []
    actual: list[dict[str, object]] = []
    for i, rule in enumerate(want):
        path = f"objects[{i}]"
        if rule.key is not None:
            head = have.head(rule.key)
            if head is None or not head.exists:
                differences.append(Difference(path, rule.key, None, f"{rule.key} does not exist"))
                actual.append({"key": rule.key, "exists": False})
                continue
            actual.append(_seen(head))
            differences += _header_differences(rule, path, head)
            continue
        sample = have.sample(rule.prefix or "")
        keys = sample.keys if sample is not None else ()
        if not keys:
            notes.append(f"no objects under {rule.prefix!r} to judge")
        for key in keys:
            head = have.head(key)
            if head is not None and head.exists:
                actual.append(_seen(head))
                differences += _header_differences(rule, path, head)
        if sample is not None and sample.listed > len(keys) and keys:
            notes.append(f"sampled the newest {len(keys)} of {sample.listed} keys under {rule.prefix!r}")
    return Outcome(actual=actual, differences=tuple(differences), notes=tuple(notes))


def _seen(head: ObjectHead) -> dict[str, object]:
    return {"key": head.key, "cache_control": head.cache_control, "content_type": head.content_type}


def _queries(want: ObjectsSpec) -> tuple[ObjectQuery, ...]:
    named = tuple(r.key for r in want if r.key is not None)
    return tuple(ObjectQuery(key=r.key) if r.key is not None else
                 ObjectQuery(prefix=r.prefix or "", sample=r.sample or DEFAULT_SAMPLE, skip=named)
                 for r in want)


def _headers(rule: ObjectRule, content_type: str | None) -> dict[str, str]:
    out = {}
    if rule.cache_control is not None:
        out["CacheControl"] = rule.cache_control
    if rule.content_type is not None or content_type is not None:
        out["ContentType"] = rule.content_type or str(content_type)
    return out


def _put(ref: Ref, want: ObjectsSpec) -> tuple[Request, ...]:
    # On a new bucket: each named key, and one example object under each prefix, uploaded
    # empty with the headers the spec requires (what `demo` does; the app's real objects
    # come from its own deploys).
    out = []
    for rule in want:
        key = rule.key if rule.key is not None else f"{rule.prefix or ''}s3audit-example"
        out.append(Request("s3", "PutObject", {"Bucket": ref.name, "Key": key, **_headers(rule, None)}))
    return tuple(out)


def _fix(ref: Ref, want: ObjectsSpec, have: Objects | None) -> str | None:
    if have is None:
        return None
    out = []
    for rule in want:
        keys = [rule.key] if rule.key is not None else list(getattr(have.sample(rule.prefix or ""), "keys", ()))
        for key in keys:
            head = have.head(key)
            if head is None or not head.exists:
                out.append(Request("s3", "PutObject", {"Bucket": ref.name, "Key": key, "Body": "FILE",
                                                      **_headers(rule, None)}))
            elif any(_header_differences(rule, "", head)):
                # REPLACE rewrites all metadata: the live Content-Type is carried over when the
                # spec does not state one (user metadata would have to be restated too).
                out.append(Request("s3", "CopyObject", {
                    "Bucket": ref.name, "Key": key, "CopySource": f"{ref.name}/{key}",
                    "MetadataDirective": "REPLACE", **_headers(rule, head.content_type)}))
    return commands(tuple(out))


def _lint(at: Locator, raw: list[Mapping[str, Any]], entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    keys: dict[str, int] = {}
    for i, rule in enumerate(raw):
        if "sample" in rule and "key" in rule:
            yield at.problem(("objects", i, "sample"), "'sample' applies to a 'prefix', not to a named key")
        if "prefix" in rule and "cache_control" not in rule and "content_type" not in rule:
            yield at.problem(("objects", i, "prefix"), "a prefix item needs 'cache_control' or 'content_type' to check")
        key = rule.get("key")
        if isinstance(key, str):
            if key in keys:
                yield at.problem(("objects", i, "key"), f"key {key!r} is already given in objects[{keys[key]}]")
            keys.setdefault(key, i)
        for field in ("cache_control", "content_type"):
            if field in rule and not str(rule[field]).strip():
                yield at.problem(("objects", i, field), f"'{field}' must not be blank")
        if "content_type" in rule and "/" not in str(rule["content_type"]).split(";")[0]:
            yield at.problem(("objects", i, "content_type"),
                             f"{rule['content_type']!r} is not a media type (type/subtype)")


CONTROL = Control(
    key="objects",
    id="S3-OBJ-001",
    title="Objects exist and are served with the headers the spec names",
    severity=Severity.MEDIUM,
    check=objects,
    reads=(Facet.OBJECTS,),
    schema=SCHEMA,
    build=_build,
    lint=_lint,
    put_requests=_put,
    fix=_fix,
    object_queries=_queries,
    example=[{"key": "index.html", "cache_control": "no-cache, no-store, must-revalidate"},
             {"prefix": "checkpoints/", "sample": 5, "cache_control": "public, max-age=31536000",
              "content_type": "application/json"}],
    references=(
        "https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html",
        "https://www.rfc-editor.org/rfc/rfc9111#section-5.2",
    ),
    why_not={"derive": "object headers are the application's data, not bucket configuration; "
                       "init does not sample them",
             "cfn": "CloudFormation does not create objects",
             "kms_refs": "names no KMS key"},
)
