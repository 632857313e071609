"""`s3audit demo`: the seed's buckets in an in-process moto account, with realistic drift.

`provision` builds a bucket exactly as its spec describes by performing every stated
control's `put_requests` (the same data remediation renders as commands); the tests reuse it
to set up a compliant account. This module writes to (simulated) AWS; the auditor itself
never does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from auditor.controls import Ref, Request, control, requests
from auditor.model import Report, SpecEntry, SpecSet

DEMO_REGION = "eu-central-1"
UNMANAGED = "amply-scratch-tmp"
# Clients for one region ({"s3": ..., "kms": ..., "s3control": ...}), or a way to get them
# for any region: a bucket is created, and its KMS aliases made, in its own region.
ClientsFor = Mapping[str, Any] | Callable[[str], Mapping[str, Any]]


def packaged_specs() -> Path:
    """The seed's five bucket specs shipped in the package, for `demo` outside a checkout."""
    return Path(str(resources.files("auditor").joinpath("demo_specs")))


def _kms_key(kms: Any, ref: str) -> None:
    """Make sure an alias the spec names exists (creating a key for it)."""
    if not ref.startswith("alias/") or ref == "alias/aws/s3":
        return
    aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    if ref not in aliases:
        key = kms.create_key(Description=f"s3audit demo key for {ref}")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=ref, TargetKeyId=key)


def _merge_policy(pending: dict[str, Any] | None, request: Request) -> dict[str, Any]:
    # Several controls (tls_only, public_access) each contribute statements to the one
    # bucket policy S3 keeps; their statements are put together.
    policy: dict[str, Any] = json.loads(str(request.params["Policy"]))
    if pending is None:
        return policy
    pending["Statement"] = [*pending["Statement"], *policy["Statement"]]
    return pending


def _perform(clients: Mapping[str, Any], request: Request) -> None:
    getattr(clients[request.service], request.method)(**request.params)


def provision(clients: Mapping[str, Any], spec: SpecEntry, name: str) -> None:
    """Create bucket `name` configured exactly as `spec` (an effective spec) says.

    `clients` maps a service name ("s3", "kms", "s3control") to a boto3 client.
    """
    region = spec.want("region")
    ref = Ref(name, "", region if isinstance(region, str) else DEMO_REGION)
    stated = [(control(key, spec.scope), want) for key, want in spec.wants]
    for c, want in stated:
        for key in c.kms_refs(want) if c.kms_refs is not None else ():
            _kms_key(clients["kms"], key)
    for request in requests(control("exists"), ref, True):
        _perform(clients, request)
    policy: dict[str, Any] | None = None
    for c, want in stated:
        for request in requests(c, ref, want):
            if request.operation == "PutBucketPolicy":
                policy = _merge_policy(policy, request)
            else:
                _perform(clients, request)
    if policy is not None:
        _perform(clients, Request("s3", "PutBucketPolicy", {"Bucket": name, "Policy": json.dumps(policy)}))


def provision_principal(clients: Mapping[str, Any], spec: SpecEntry) -> None:
    """Create the role a principal entry names, with exactly the access it states."""
    ref = Ref(spec.name or "", "", None)
    for key, want in spec.wants:
        for request in requests(control(key, spec.scope), ref, want):
            _perform(clients, request)


def provision_all(clients: ClientsFor, specs: SpecSet) -> list[str]:
    """Provision every exact-named bucket (in its region) and every principal of the specs;
    returns the bucket names. `clients` needs "iam" and "cloudwatch" when the specs state
    principals or alarms."""
    pick = clients if callable(clients) else (lambda region: clients)
    from auditor.spec.build import effective_spec

    names = sorted({b.name for b in specs.buckets if b.name})
    for name in names:
        spec = effective_spec(specs, name)
        assert spec is not None
        region = spec.want("region")
        provision(pick(region if isinstance(region, str) else DEMO_REGION), spec, name)
    for principal in specs.principals:
        provision_principal(pick(DEMO_REGION), principal)
    return names


class RequestMetricsStore:
    """Request-metrics configurations for an in-process moto account, which has none.

    moto does not implement PutBucketMetricsConfiguration (it takes the PUT for CreateBucket)
    and answers ListBucketMetricsConfigurations with an empty list whatever was put. While
    `installed`, `before-call` handlers on every new botocore session (the way moto's own
    mock hooks in) answer both from this store, in the shapes S3 gives, so the alarms control
    sees what was configured.
    """

    def __init__(self) -> None:
        self.configs: dict[str, dict[str, Any]] = {}

    def _handlers(self) -> list[tuple[str, Any]]:
        ops = ("PutBucketMetricsConfiguration", "ListBucketMetricsConfigurations")
        return [*((f"before-parameter-build.s3.{op}", self._remember) for op in ops),
                ("before-call.s3.PutBucketMetricsConfiguration", self._put),
                ("before-call.s3.ListBucketMetricsConfigurations", self._list)]

    @contextmanager
    def installed(self) -> Iterator[RequestMetricsStore]:
        from botocore.handlers import BUILTIN_HANDLERS

        handlers = self._handlers()
        BUILTIN_HANDLERS.extend(handlers)
        try:
            yield self
        finally:
            for handler in handlers:
                BUILTIN_HANDLERS.remove(handler)

    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["demo_api_params"] = dict(params)

    def _put(self, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        params = context["demo_api_params"]
        config = dict(params["MetricsConfiguration"])
        self.configs.setdefault(params["Bucket"], {})[str(config["Id"])] = config
        return _ok(), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def _list(self, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        bucket = context["demo_api_params"]["Bucket"]
        found = sorted(self.configs.get(bucket, {}).values(), key=lambda c: str(c["Id"]))
        return _ok(), {"IsTruncated": False, "MetricsConfigurationList": found,
                       "ResponseMetadata": {"HTTPStatusCode": 200}}


def _ok() -> Any:
    from botocore.awsrequest import AWSResponse

    return AWSResponse("", 200, {}, None)


def introduce_drift(s3: Any, names: list[str], cloudwatch: Any = None) -> list[str]:
    """Break a few things the way people do; returns a line per drift introduced."""
    done = []
    if cloudwatch is not None and "amply-storage-prod" in names:
        # The seed's alarm exactly as written: BucketName only, so 5xxErrors never arrives.
        cloudwatch.put_metric_alarm(
            AlarmName="s3-amply-storage-errors", Namespace="AWS/S3", MetricName="5xxErrors",
            Dimensions=[{"Name": "BucketName", "Value": "amply-storage-prod"}], Statistic="Sum",
            Period=300, EvaluationPeriods=1, Threshold=10.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold")
        done.append("amply-storage-prod: 5xx alarm re-created as the seed writes it (no FilterId)")
    if "amply-storage-prod" in names:
        s3.put_bucket_versioning(Bucket="amply-storage-prod", VersioningConfiguration={"Status": "Suspended"})
        done.append("amply-storage-prod: versioning suspended")
    if "amply-frontend-prod" in names:
        s3.put_bucket_cors(Bucket="amply-frontend-prod", CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"],
            "MaxAgeSeconds": 3600}]})
        done.append("amply-frontend-prod: CORS origin widened to '*'")
    if "amply-frontend-prod" in names:
        s3.put_object(Bucket="amply-frontend-prod", Key="index.html", Body=b"<!doctype html>",
                      ContentType="text/html")
        done.append("amply-frontend-prod: index.html re-deployed without its no-cache header")
    if "amply-backups-prod" in names:
        s3.delete_bucket_policy(Bucket="amply-backups-prod")
        s3.put_bucket_acl(Bucket="amply-backups-prod", ACL="public-read")
        done.append("amply-backups-prod: TLS-only policy deleted, ACL set to public-read")
    s3.create_bucket(Bucket=UNMANAGED, CreateBucketConfiguration={"LocationConstraint": DEMO_REGION})
    done.append(f"{UNMANAGED}: a bucket no spec describes")
    return done


def run_demo(specs: SpecSet) -> tuple[Report, list[str]]:
    """Provision the specs' buckets in moto, add drift, audit; returns the report and the drifts."""
    from moto import mock_aws

    from auditor.collect import AwsConfig
    from auditor.run.audit import run_audit
    from auditor.run.options import AuditOptions

    for var, value in (("AWS_ACCESS_KEY_ID", "demo"), ("AWS_SECRET_ACCESS_KEY", "demo"),
                       ("AWS_SESSION_TOKEN", "demo"), ("AWS_DEFAULT_REGION", DEMO_REGION)):
        os.environ.setdefault(var, value)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    with mock_aws(), RequestMetricsStore().installed():
        import boto3

        made: dict[str, dict[str, Any]] = {}

        def regional(region: str) -> dict[str, Any]:
            if region not in made:
                services = ("s3", "kms", "s3control", "cloudwatch", "iam")
                made[region] = {s: boto3.client(s, region_name=region) for s in services}
            return made[region]

        names = provision_all(regional, specs)
        home = regional(DEMO_REGION)
        drifts = introduce_drift(home["s3"], names, home["cloudwatch"])
        report = run_audit(AuditOptions(aws=AwsConfig(region=DEMO_REGION)), specs)
    return report, drifts
