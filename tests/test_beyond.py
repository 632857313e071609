"""Beyond bucket configuration, end to end over HTTP against a moto server: object headers,
CloudWatch alarms (request metrics through tests/metricsshim.py, which moto lacks) and the
application's IAM role. Each control: pass on the seeded account, drift, and error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from botocore.stub import Stubber

from auditor.collect import AwsConfig, Clients, Collector, Target
from auditor.model import Facet, MetricsFilter, ObjectQuery, Unreadable
from tests.conftest import REGION, setup_clients
from tests.faultproxy import Fault, FaultProxy
from tests.test_cli import audit, not_passing

STORAGE = "amply-storage-prod"
ROLE = "amply-app"


def _result(report: dict[str, Any], control: str, bucket: str | None = None) -> dict[str, Any]:
    found = [r for r in report["results"] if r["control"] == control and r["bucket"] == bucket]
    assert len(found) == 1, found
    return found[0]


def _proxy(endpoint: str, *faults: Fault) -> FaultProxy:
    proxy = FaultProxy(int(endpoint.rsplit(":", 1)[1])).start()
    proxy.faults.extend(faults)
    return proxy


# --------------------------------------------------------------------------- objects


def test_index_html_redeployed_without_its_header_drifts(seeded_server: str, tmp_path: Path) -> None:
    s3 = setup_clients(seeded_server)["s3"]
    s3.put_object(Bucket="amply-frontend-prod", Key="index.html", Body=b"<html>", ContentType="text/html")
    code, report, _ = audit(seeded_server, tmp_path)
    assert code == 1
    assert not_passing(report) == [("amply-frontend-prod", "objects", "drift")]
    result = _result(report, "objects", "amply-frontend-prod")
    assert "index.html is served with Cache-Control (none)" in result["message"]
    assert "copy-object --bucket amply-frontend-prod --key index.html" in result["remediation"]


def test_a_sampled_checkpoint_with_the_wrong_type_drifts_and_a_missing_key_too(seeded_server: str, tmp_path: Path) -> None:
    s3 = setup_clients(seeded_server)["s3"]
    s3.put_object(Bucket="amply-public-data", Key="checkpoints/chk_2025_01_02.json", Body=b"{}",
                  CacheControl="public, max-age=31536000")  # no ContentType: moto stores its default
    s3.delete_object(Bucket="amply-frontend-prod", Key="index.html")
    _, report, _ = audit(seeded_server, tmp_path)
    assert not_passing(report) == [("amply-frontend-prod", "objects", "drift"), ("amply-public-data", "objects", "drift")]
    assert "checkpoints/chk_2025_01_02.json is served with Content-Type" in _result(report, "objects", "amply-public-data")["message"]
    assert "index.html does not exist" in _result(report, "objects", "amply-frontend-prod")["message"]


def test_head_object_denied_is_an_error(seeded_server: str, tmp_path: Path) -> None:
    proxy = _proxy(seeded_server, Fault("HEAD", "/amply-frontend-prod/index.html", None, 403, "AccessDenied"))
    try:
        code, report, _ = audit(proxy.url, tmp_path)
    finally:
        proxy.stop()
    assert code == 3
    assert not_passing(report) == [("amply-frontend-prod", "objects", "error")]
    assert _result(report, "objects", "amply-frontend-prod")["error"]["api"] == "HeadObject"


# --------------------------------------------------------------------------- alarms


def test_the_seeds_alarm_as_written_can_never_receive_data(seeded_server: str, tmp_path: Path) -> None:
    setup_clients(seeded_server)["cloudwatch"].put_metric_alarm(
        AlarmName="s3-amply-storage-errors", Namespace="AWS/S3", MetricName="5xxErrors",
        Dimensions=[{"Name": "BucketName", "Value": STORAGE}], Statistic="Sum", Period=300,
        EvaluationPeriods=1, Threshold=10.0, ComparisonOperator="GreaterThanOrEqualToThreshold")
    code, report, _ = audit(seeded_server, tmp_path)
    assert code == 1
    assert not_passing(report) == [(STORAGE, "alarms", "drift")]
    assert "can never receive data" in _result(report, "alarms", STORAGE)["message"]


def test_a_bucket_without_the_request_metrics_filter_drifts(seeded_server: str, tmp_path: Path) -> None:
    setup_clients(seeded_server)["s3"].delete_bucket_metrics_configuration(Bucket=STORAGE, Id="EntireBucket")
    _, report, _ = audit(seeded_server, tmp_path)
    assert not_passing(report) == [(STORAGE, "alarms", "drift")]
    assert "no request-metrics filter 'EntireBucket'" in _result(report, "alarms", STORAGE)["message"]


def test_describe_alarms_denied_is_an_error(seeded_server: str, tmp_path: Path) -> None:
    # CloudWatch speaks JSON (X-Amz-Target); only DescribeAlarms sends AlarmTypes.
    proxy = _proxy(seeded_server, Fault("POST", "/", None, 403, "AccessDenied", body_contains=b'"AlarmTypes"'))
    try:
        code, report, _ = audit(proxy.url, tmp_path)
    finally:
        proxy.stop()
    assert code == 3
    assert not_passing(report) == [(STORAGE, "alarms", "error")]
    assert _result(report, "alarms", STORAGE)["error"]["api"] == "DescribeAlarms"


def test_alarms_are_read_once_per_region_for_all_its_buckets() -> None:
    collector, stub = _stubbed("cloudwatch")
    alarm = {"AlarmName": "a", "Namespace": "AWS/S3", "MetricName": "5xxErrors", "Threshold": 1.0, "Period": 60,
             "Dimensions": [{"Name": "BucketName", "Value": "amply-public-data"}]}
    stub.add_response("describe_alarms", {"MetricAlarms": [alarm]}, {"AlarmTypes": ["MetricAlarm"]})
    with stub:  # a second DescribeAlarms would find no stubbed answer and fail
        first = collector.bucket(Target(STORAGE, True, REGION, frozenset({Facet.ALARMS})))
        second = collector.bucket(Target("amply-public-data", True, REGION, frozenset({Facet.ALARMS})))
    assert first.facet(Facet.ALARMS) == ()
    assert [a.name for a in second.facet(Facet.ALARMS)] == ["a"]  # type: ignore[union-attr]


# --------------------------------------------------------------------------- principals


def test_a_wide_managed_policy_on_the_role_drifts(seeded_server: str, tmp_path: Path) -> None:
    iam = setup_clients(seeded_server)["iam"]
    arn = iam.create_policy(PolicyName="s3-list", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]}))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=arn)
    code, report, _ = audit(seeded_server, tmp_path)
    assert code == 1
    assert not_passing(report) == [("<principal>", "principals", "drift")]
    result = _result(report, "principals")
    assert result["scope"] == "principal" and result["principal"].endswith(":role/amply-app")
    assert f"managed policy {arn} allows s3:ListAccessGrants" in result["message"]
    assert f"detach-role-policy --role-name amply-app --policy-arn {arn}" in result["remediation"]


def test_a_missing_role_drifts_and_an_unreadable_one_is_an_error(seeded_server: str, tmp_path: Path) -> None:
    proxy = _proxy(seeded_server, Fault("POST", "/", None, 403, "AccessDenied", body_contains=b"Action=GetRole"))
    try:
        code, report, _ = audit(proxy.url, tmp_path)
    finally:
        proxy.stop()
    assert code == 3
    assert not_passing(report) == [("<principal>", "principals", "error")]
    iam = setup_clients(seeded_server)["iam"]
    iam.delete_role_policy(RoleName=ROLE, PolicyName="s3-access")
    iam.delete_role(RoleName=ROLE)
    code, report, _ = audit(seeded_server, tmp_path)
    assert code == 1
    assert "role arn:aws:iam::123456789012:role/amply-app does not exist" in _result(report, "principals")["message"]


# --------------------------------------------------------------------------- recorded answers (Stubber)


def _stubbed(service: str) -> tuple[Collector, Stubber]:
    clients = Clients(AwsConfig(region=REGION))
    client = clients.client(service)
    return Collector(clients), Stubber(client)


def test_request_metrics_are_read_to_the_last_page_with_the_continuation_token() -> None:
    collector, stub = _stubbed("s3")
    stub.add_response("list_bucket_metrics_configurations", {
        "IsTruncated": True, "NextContinuationToken": "t2",
        "MetricsConfigurationList": [{"Id": "Documents", "Filter": {"And": {
            "Prefix": "documents/", "Tags": [{"Key": "team", "Value": "app"}]}}}]}, {"Bucket": STORAGE})
    stub.add_response("list_bucket_metrics_configurations", {
        "IsTruncated": False, "MetricsConfigurationList": [{"Id": "EntireBucket"}]},
        {"Bucket": STORAGE, "ContinuationToken": "t2"})
    with stub:
        state = collector.bucket(Target(STORAGE, True, REGION, frozenset({Facet.REQUEST_METRICS})))
    stub.assert_no_pending_responses()
    assert state.facet(Facet.REQUEST_METRICS) == (
        MetricsFilter("Documents", "documents/", (("team", "app"),)), MetricsFilter("EntireBucket"))


def test_request_metrics_denied_is_unreadable() -> None:
    collector, stub = _stubbed("s3")
    stub.add_client_error("list_bucket_metrics_configurations", "AccessDenied", http_status_code=403)
    with stub:
        state = collector.bucket(Target(STORAGE, True, REGION, frozenset({Facet.REQUEST_METRICS})))
    value = state.facet(Facet.REQUEST_METRICS)
    assert isinstance(value, Unreadable) and value.code == "AccessDenied"


def test_objects_list_pages_and_head_with_the_models_parameter_names() -> None:
    collector, stub = _stubbed("s3")
    stub.add_response("list_objects_v2", {"IsTruncated": True, "NextContinuationToken": "n2", "Contents": [
        {"Key": "checkpoints/a.json", "LastModified": "2025-01-01T00:00:00Z"}]}, {"Bucket": STORAGE, "Prefix": "checkpoints/"})
    stub.add_response("list_objects_v2", {"IsTruncated": False, "Contents": [
        {"Key": "checkpoints/b.json", "LastModified": "2025-01-02T00:00:00Z"}]},
        {"Bucket": STORAGE, "Prefix": "checkpoints/", "ContinuationToken": "n2"})
    stub.add_response("head_object", {"CacheControl": "public", "ContentType": "application/json"},
                      {"Bucket": STORAGE, "Key": "checkpoints/b.json"})
    query = ObjectQuery(prefix="checkpoints/", sample=1)
    with stub:
        state = collector.bucket(Target(STORAGE, True, REGION, frozenset({Facet.OBJECTS}), (), (query,)))
    stub.assert_no_pending_responses()
    objects = state.facet(Facet.OBJECTS)
    assert objects.sample("checkpoints/").keys == ("checkpoints/b.json",)  # type: ignore[union-attr]
    assert objects.head("checkpoints/b.json").content_type == "application/json"  # type: ignore[union-attr]
