"""`request_metrics`: request-metrics filters (CloudWatch request metrics), an exact set by id."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from auditor.cfn.values import CfnBucket, as_list, as_map, as_str
from auditor.controls._commands import commands
from auditor.controls._diff import field_differences
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.jsonable import to_jsonable
from auditor.model import Difference, Facet, MetricsFilter, Outcome, Severity

REQUEST_METRICS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-configurations.html"
_MAX = 1000  # metrics configurations per bucket

SCHEMA = {
    "description": "The exact set of request-metrics filters, matched by id; [] means none is allowed.",
    "type": "array",
    "items": {"$ref": "#/$defs/metrics_filter"},
}
DEFS = {
    "metrics_filter": {
        "description": "One request-metrics configuration; a filter part left out means none.",
        "type": "object",
        "additionalProperties": False,
        "required": ["id"],
        "errorMessage": {"type": "a request-metrics filter must be a mapping"},
        "properties": {
            "id": {"description": "Configuration id (the FilterId dimension of its metrics).",
                   "type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$",
                   "errorMessage": {"pattern": "{value} is not a metrics configuration id "
                                               "(1-64 letters, digits, '.', '_', '-')"}},
            "prefix": {"description": "Only objects under this key prefix.", "type": "string"},
            "tags": {"description": "Only objects with every one of these tags.", "type": "object",
                     "additionalProperties": {"type": "string"},
                     "propertyNames": {"minLength": 1, "maxLength": 128}},
            "access_point": {"description": "Only requests through this access point (its ARN).",
                             "type": "string", "pattern": "^arn:aws[a-z-]*:s3:[a-z0-9-]+:[0-9]{12}:accesspoint/"},
        },
    },
}


def _filter(raw: Mapping[str, Any]) -> MetricsFilter:
    return MetricsFilter(raw["id"], raw.get("prefix"),
                         tuple(sorted((str(k), str(v)) for k, v in (raw.get("tags") or {}).items())),
                         raw.get("access_point"))


def _build(raw: Sequence[Mapping[str, Any]]) -> tuple[MetricsFilter, ...]:
    return tuple(_filter(r) for r in raw)


def request_metrics(want: tuple[MetricsFilter, ...], ref: Ref, have: tuple[MetricsFilter, ...]) -> Outcome:
    """A request-metrics filter is missing, extra, or filters other objects than the spec says.

    Why it matters: S3 publishes request metrics (4xx/5xxErrors, latency) to CloudWatch
    only for the filters configured, with the filter's id as the FilterId dimension; an
    alarm on a filter that does not exist can never fire.
    Notes: filters are matched by id; a prefix, tags or access point left out means that
    filter part is empty. `request_metrics: []` allows none.
    Example: `request_metrics: [{id: EntireBucket}]`
    """
    live = {m.id: m for m in have}
    wanted = {m.id for m in want}
    diffs: list[Difference] = []
    for index, expected in enumerate(want):
        path, actual = f"request_metrics[{index}]", live.get(expected.id)
        if actual is None:
            diffs.append(Difference(path, expected, None, f"Request-metrics filter {expected.id} is missing"))
        else:
            diffs.extend(field_differences(path, f"request-metrics filter {expected.id}", expected, actual))
    diffs.extend(Difference(f"request_metrics[id={mid}]", None, actual,
                            f"Request-metrics filter {mid} is not in the spec")
                 for mid, actual in live.items() if mid not in wanted)
    return Outcome(actual=have, differences=tuple(diffs))


def _filter_to_api(m: MetricsFilter) -> dict[str, Any] | None:
    parts: dict[str, Any] = {}
    if m.prefix is not None:
        parts["Prefix"] = m.prefix
    if m.tags:
        parts["Tags"] = [{"Key": k, "Value": v} for k, v in m.tags]
    if m.access_point is not None:
        parts["AccessPointArn"] = m.access_point
    if not parts:
        return None
    if len(parts) == 1 and "Tags" in parts and len(m.tags) == 1:
        return {"Tag": parts["Tags"][0]}
    # One filter part stands alone; several are an And (the API's MetricsFilter shape).
    return parts if len(parts) == 1 and "Tags" not in parts else {"And": parts}


def _put_one(ref: Ref, m: MetricsFilter) -> Request:
    conf: dict[str, Any] = {"Id": m.id}
    flt = _filter_to_api(m)
    if flt is not None:
        conf["Filter"] = flt
    return Request("s3", "PutBucketMetricsConfiguration", {"Bucket": ref.name, "Id": m.id,
                                                           "MetricsConfiguration": conf})


def _put(ref: Ref, want: tuple[MetricsFilter, ...]) -> tuple[Request, ...]:
    return tuple(_put_one(ref, m) for m in want)


def _fix(ref: Ref, want: tuple[MetricsFilter, ...], have: tuple[MetricsFilter, ...] | None) -> str | None:
    live = {m.id: m for m in have or ()}
    wanted = {m.id for m in want}
    requests = [Request("s3", "DeleteBucketMetricsConfiguration", {"Bucket": ref.name, "Id": mid})
                for mid in live if mid not in wanted]
    requests += [_put_one(ref, m) for m in want if live.get(m.id) != m]
    return commands(tuple(requests))


def _derive(ref: Ref, have: tuple[MetricsFilter, ...]) -> Derived:
    return to_jsonable(have), None


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    if len(value) > _MAX:
        yield at.problem(("request_metrics",), f"{len(value)} filters; S3 allows at most {_MAX}")
    first: dict[str, int] = {}
    for index, item in enumerate(value):
        if item["id"] in first:
            yield at.problem(("request_metrics", index, "id"),
                             f"duplicate request-metrics id {item['id']!r} (first at line "
                             f"{at.position(('request_metrics', first[item['id']]))[0]})")
        first.setdefault(item["id"], index)


def _cfn_filter(raw: Any, path: str) -> dict[str, Any]:
    conf = as_map(raw, path)
    out: dict[str, Any] = {"id": as_str(conf.get("Id"), f"{path}.Id")}
    if conf.get("Prefix") is not None:
        out["prefix"] = as_str(conf["Prefix"], f"{path}.Prefix")
    tags = {}
    for index, tag in enumerate(as_list(conf.get("TagFilters") or [], f"{path}.TagFilters")):
        item = as_map(tag, f"{path}.TagFilters[{index}]")
        tags[as_str(item.get("Key"), f"{path}.TagFilters[{index}].Key")] = as_str(
            item.get("Value"), f"{path}.TagFilters[{index}].Value")
    if tags:
        out["tags"] = tags
    if conf.get("AccessPointArn") is not None:
        out["access_point"] = as_str(conf["AccessPointArn"], f"{path}.AccessPointArn")
    return out


def _cfn(bucket: CfnBucket, entry: Mapping[str, Any]) -> object | None:
    raw = bucket.prop("MetricsConfigurations")
    if raw is None:
        return None

    def filters(value: Any, path: str) -> list[dict[str, Any]]:
        return [_cfn_filter(m, f"{path}[{i}]") for i, m in enumerate(as_list(value, path))]

    return bucket.origin.attempt(filters, raw, "MetricsConfigurations")


CONTROL = Control(
    key="request_metrics",
    id="S3-MET-001",
    title="Request-metrics filters are exactly the set the spec lists",
    severity=Severity.LOW,
    check=request_metrics,
    reads=(Facet.REQUEST_METRICS,),
    schema=SCHEMA,
    defs=DEFS,
    build=_build,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport(_cfn, ("MetricsConfigurations",)),
    put_requests=_put,
    fix=_fix,
    example=[{"id": "EntireBucket"}],
    references=(REQUEST_METRICS,
                "https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudwatch-monitoring.html"),
    why_not={"kms_refs": "names no KMS key"},
)
