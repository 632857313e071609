"""`alarms`: CloudWatch alarms on the bucket's S3 metrics, and whether they can ever fire."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from auditor.controls.registry import Control, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.model import Difference, Facet, MetricAlarm, MetricsFilter, Outcome, Severity

NAMESPACE = "AWS/S3"
# Request metrics: published per request-metrics filter, with dimensions BucketName and
# FilterId, only for buckets that have such a filter. Storage metrics: daily, with BucketName
# and StorageType. https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html
REQUEST_METRICS = (
    "AllRequests", "GetRequests", "PutRequests", "DeleteRequests", "HeadRequests", "PostRequests",
    "SelectRequests", "SelectBytesScanned", "SelectBytesReturned", "ListRequests", "BytesDownloaded",
    "BytesUploaded", "4xxErrors", "5xxErrors", "FirstByteLatency", "TotalRequestLatency",
)
STORAGE_METRICS = ("BucketSizeBytes", "NumberOfObjects")
_DAY = 86400
_STATISTICS = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
_COMPARISONS = ["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
                "LessThanOrEqualToThreshold"]

SCHEMA = {
    "description": "CloudWatch alarms that must watch this bucket's S3 metrics (each stated alarm must exist; other alarms are not judged).",
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["metric"],
        "properties": {
            "name": {"description": "The alarm's name; when left out, any alarm on the metric can match.",
                     "$ref": "#/$defs/non_empty_string"},
            "metric": {"description": "The S3 metric (namespace AWS/S3).",
                       "enum": [*REQUEST_METRICS, *STORAGE_METRICS]},
            "threshold": {"description": "The alarm threshold.", "type": "number"},
            "period": {"description": "The period in seconds.", "type": "integer", "minimum": 60},
            "statistic": {"description": "The statistic (optional).", "enum": _STATISTICS},
            "comparison": {"description": "The comparison operator (optional).", "enum": _COMPARISONS},
            "filter_id": {"description": "Request metrics: the request-metrics filter (dimension FilterId) the bucket must have.",
                          "$ref": "#/$defs/non_empty_string"},
            "storage_type": {"description": "Storage metrics: the StorageType dimension (BucketSizeBytes: e.g. StandardStorage; NumberOfObjects: AllStorageTypes).",
                             "$ref": "#/$defs/non_empty_string"},
        },
    },
}


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    metric: str
    name: str | None = None
    threshold: float | None = None
    period: int | None = None
    statistic: str | None = None
    comparison: str | None = None
    filter_id: str | None = None
    storage_type: str | None = None


def _build(raw: list[Mapping[str, Any]]) -> tuple[AlarmSpec, ...]:
    return tuple(AlarmSpec(
        metric=str(r["metric"]), name=r.get("name"),
        threshold=None if r.get("threshold") is None else float(r["threshold"]),
        period=r.get("period"), statistic=r.get("statistic"), comparison=r.get("comparison"),
        filter_id=r.get("filter_id"),
        storage_type=r.get("storage_type") or ("AllStorageTypes" if r["metric"] == "NumberOfObjects" else None),
    ) for r in raw)


def dimensions(want: AlarmSpec, bucket: str) -> tuple[tuple[str, str], ...]:
    """The dimensions an alarm on this metric of this bucket must name."""
    dims = {"BucketName": bucket}
    if want.filter_id is not None:
        dims["FilterId"] = want.filter_id
    if want.storage_type is not None:
        dims["StorageType"] = want.storage_type
    return tuple(sorted(dims.items()))


def _field_differences(want: AlarmSpec, path: str, bucket: str, have: MetricAlarm) -> list[Difference]:
    expected = {"namespace": NAMESPACE, "metric": want.metric, "dimensions": dict(dimensions(want, bucket)),
                "threshold": want.threshold, "period": want.period, "statistic": want.statistic,
                "comparison": want.comparison}
    actual = {"namespace": have.namespace, "metric": have.metric, "dimensions": dict(have.dimensions),
              "threshold": have.threshold, "period": have.period, "statistic": have.statistic,
              "comparison": have.comparison}
    return [Difference(f"{path}.{field}", value, actual[field],
                       f"alarm {have.name}: {field} is {actual[field]!r}; the spec requires {value!r}")
            for field, value in expected.items() if value is not None and actual[field] != value]


def _silent(want: AlarmSpec, path: str, have: MetricAlarm | None,
            filters: tuple[MetricsFilter, ...]) -> list[Difference]:
    """Why an alarm on a request metric can never receive data."""
    if want.metric not in REQUEST_METRICS:
        return []
    name = have.name if have is not None else "the alarm"
    out = []
    if have is not None and have.dimension("FilterId") is None:
        out.append(Difference(f"{path}.dimensions", want.filter_id, None,
                              f"alarm {name} can never receive data: S3 publishes {want.metric} only per "
                              "request-metrics filter (dimension FilterId), and the alarm names none"))
    ids = {f.id for f in filters}
    live_filter = have.dimension("FilterId") if have is not None else None
    for wanted in dict.fromkeys(x for x in (want.filter_id, live_filter) if x is not None):
        if wanted not in ids:
            out.append(Difference(f"{path}.filter_id", wanted, sorted(ids),
                                  f"{name} can never receive data: the bucket has no request-metrics "
                                  f"filter {wanted!r} (it has {sorted(ids) or 'none'})"))
    return out


def alarms(want: tuple[AlarmSpec, ...], ref: Ref, have: tuple[MetricAlarm, ...],
           filters: tuple[MetricsFilter, ...]) -> Outcome:
    """An alarm the spec names on the bucket's S3 metrics is missing, differs, or can never fire.

    Why it matters: an alarm that cannot receive data sits in INSUFFICIENT_DATA forever and
    never pages anyone; S3's request metrics (4xxErrors, 5xxErrors, AllRequests ...) exist
    only for buckets with a request-metrics configuration, and then carry a FilterId dimension.
    An alarm that names only BucketName for a request metric, or a bucket without the filter
    it names, can never fire, and no console shows that as an error.
    Notes: alarms are read once per account and region (DescribeAlarms, metric alarms, every
    page) and matched to the bucket by their BucketName dimension; each stated alarm must
    exist (by `name` when given, else by metric; the closest match is reported), with
    namespace AWS/S3, the metric, exactly the dimensions BucketName (+ FilterId for request
    metrics, + StorageType for storage metrics), and the threshold, period, statistic and
    comparison the spec states. Other alarms on the bucket are not judged. Metric-math
    alarms are not matched.
    Example: `alarms: [{metric: 5xxErrors, threshold: 10, period: 300, filter_id: EntireBucket}]`
    """
    differences: list[Difference] = []
    actual = []
    for i, spec in enumerate(want):
        path = f"alarms[{i}]"
        found = [a for a in have if a.name == spec.name] if spec.name else [a for a in have if a.metric == spec.metric]
        if not found:
            what = f"named {spec.name}" if spec.name else f"on {spec.metric}"
            differences.append(Difference(path, spec.metric, None,
                                          f"no CloudWatch alarm {what} watches bucket {ref.name}"))
            differences += [d for d in _silent(spec, path, None, filters) if d.path.endswith("filter_id")]
            continue
        best = min(found, key=lambda a: len(_field_differences(spec, path, ref.name, a) +
                                           _silent(spec, path, a, filters)))
        actual.append(best)
        silent = _silent(spec, path, best, filters)
        differences += [d for d in _field_differences(spec, path, ref.name, best)
                        if not (silent and d.path.endswith(".dimensions"))] + silent
    return Outcome(actual=actual, differences=tuple(differences))


def _alarm_name(ref: Ref, spec: AlarmSpec) -> str:
    return spec.name or f"{ref.name}-{spec.metric}"


def _put(ref: Ref, want: tuple[AlarmSpec, ...]) -> tuple[Request, ...]:
    out = []
    for spec in want:
        if spec.filter_id is not None:
            out.append(Request("s3", "PutBucketMetricsConfiguration", {
                "Bucket": ref.name, "Id": spec.filter_id, "MetricsConfiguration": {"Id": spec.filter_id}}))
        out.append(Request("cloudwatch", "PutMetricAlarm", {
            "AlarmName": _alarm_name(ref, spec), "Namespace": NAMESPACE, "MetricName": spec.metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions(spec, ref.name)],
            "Statistic": spec.statistic or "Sum", "Period": spec.period or (_DAY if spec.metric in STORAGE_METRICS else 300),
            "EvaluationPeriods": 1, "Threshold": spec.threshold if spec.threshold is not None else 0.0,
            "ComparisonOperator": spec.comparison or "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching"}))
    return tuple(out)


def _lint(at: Locator, raw: list[Mapping[str, Any]], entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    names: dict[str, int] = {}
    for i, item in enumerate(raw):
        metric = item.get("metric")
        if metric in REQUEST_METRICS and "filter_id" not in item:
            yield at.problem(("alarms", i, "metric"),
                             f"{metric} is a request metric: S3 publishes it only per request-metrics filter; "
                             "state the filter as 'filter_id' (an alarm on BucketName alone never receives data)")
        if metric in STORAGE_METRICS:
            if "filter_id" in item:
                yield at.problem(("alarms", i, "filter_id"), f"{metric} is a storage metric; it has no FilterId")
            if "period" in item and int(item["period"]) < _DAY:
                yield at.problem(("alarms", i, "period"),
                                 f"{metric} is published once a day; a period under {_DAY} s leaves the alarm without data")
            if metric == "BucketSizeBytes" and "storage_type" not in item:
                yield at.problem(("alarms", i, "metric"),
                                 "BucketSizeBytes is published per storage class: state 'storage_type' (e.g. StandardStorage)")
        elif "storage_type" in item:
            yield at.problem(("alarms", i, "storage_type"), f"{metric} is a request metric; it has no StorageType")
        if "period" in item and int(item["period"]) % 60:
            yield at.problem(("alarms", i, "period"), "S3 metrics have 60-second resolution: the period must be a multiple of 60")
        name = item.get("name")
        if isinstance(name, str):
            if name in names:
                yield at.problem(("alarms", i, "name"), f"alarm {name!r} is already given in alarms[{names[name]}]")
            names.setdefault(name, i)


CONTROL = Control(
    key="alarms",
    id="S3-MON-001",
    title="CloudWatch alarms watch the bucket's S3 metrics and can receive data",
    severity=Severity.MEDIUM,
    check=alarms,
    reads=(Facet.ALARMS, Facet.REQUEST_METRICS),
    schema=SCHEMA,
    build=_build,
    lint=_lint,
    put_requests=_put,
    example=[{"name": "s3-amply-storage-errors", "metric": "5xxErrors", "threshold": 10, "period": 300,
              "filter_id": "EntireBucket"}],
    references=(
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-configurations.html",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html",
    ),
    why_not={"derive": "init describes bucket configuration; alarms live in CloudWatch",
             "cfn": "alarms are AWS::CloudWatch::Alarm resources, not bucket properties",
             "kms_refs": "names no KMS key"},
)
