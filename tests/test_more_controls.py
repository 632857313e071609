"""The framework controls end to end: the CLI against a moto server on 127.0.0.1 over HTTP.

Only what moto implements faithfully is tested here. MFA delete (never returned by moto),
request metrics and EventBridge notifications (faked as empty successes) and replication
filters (dropped) are tested with recorded answers in tests/controls/cases/ and
tests/collect/test_readers.py instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from auditor.cli import main
from auditor.collect import AwsConfig, Clients
from auditor.report.json_report import validate_report
from tests.conftest import REGION

ACCOUNT = "123456789012"  # moto's account
LOCATION = {"LocationConstraint": REGION}


def client(endpoint: str, service: str, region: str = REGION) -> Any:
    """A client that may write (setup only; the auditor's own clients never do)."""
    return Clients(AwsConfig(region=REGION, endpoint_url=endpoint, read_only=False)).client(service, region)


def audit(endpoint: str, tmp_path: Path, spec: str, *extra: str) -> tuple[int, dict[str, Any]]:
    specs = tmp_path / "specs.yaml"
    specs.write_text(spec)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["audit", "--specs", str(specs), "--endpoint-url", endpoint,
                                       "--json", str(out), "--quiet", *extra])
    assert out.exists(), result.output
    text = out.read_text()
    validate_report(text)
    return result.exit_code, json.loads(text)


def results(report: dict[str, Any], control: str) -> dict[str, dict[str, Any]]:
    return {r["bucket"]: r for r in report["results"] if r["control"] == control}


def test_logging_end_to_end(server: str, tmp_path: Path) -> None:
    s3 = client(server, "s3")
    for name in ("amply-logs", "amply-logged", "amply-unlogged"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration=LOCATION)
    s3.put_bucket_acl(Bucket="amply-logs", ACL="log-delivery-write")
    s3.put_bucket_logging(Bucket="amply-logged", BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "amply-logs", "TargetPrefix": "s3/amply-logged/"}})
    code, report = audit(server, tmp_path, """\
version: 1
buckets:
  - name: amply-logged
    logging: {target_bucket: amply-logs, target_prefix: s3/amply-logged/}
  - name: amply-unlogged
    logging: true
  - name: amply-logs
    logging: false
""")
    found = results(report, "logging")
    assert {b: r["status"] for b, r in found.items()} == {
        "amply-logged": "pass", "amply-unlogged": "drift", "amply-logs": "pass"}
    assert found["amply-logged"]["actual"] == {"target_bucket": "amply-logs",
                                               "target_prefix": "s3/amply-logged/"}
    assert "choose a log bucket" in found["amply-unlogged"]["remediation"]
    assert code == 1


def test_object_lock_end_to_end(server: str, tmp_path: Path) -> None:
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="amply-vault", CreateBucketConfiguration=LOCATION,
                     ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket="amply-vault", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}}})
    s3.create_bucket(Bucket="amply-plain", CreateBucketConfiguration=LOCATION)
    code, report = audit(server, tmp_path, """\
version: 1
buckets:
  - {name: amply-vault, object_lock: {mode: COMPLIANCE, days: 30}}
  - {name: amply-plain, object_lock: false}
""")
    found = results(report, "object_lock")
    assert found["amply-plain"]["status"] == "pass"
    vault = found["amply-vault"]
    assert vault["status"] == "drift" and vault["actual"] == {"mode": "GOVERNANCE", "days": 30}
    assert [d["path"] for d in vault["differences"]] == ["object_lock.mode"]
    assert code == 1


def test_tags_end_to_end(server: str, tmp_path: Path) -> None:
    s3 = client(server, "s3")
    for name in ("amply-tagged", "amply-bare"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration=LOCATION)
    s3.put_bucket_tagging(Bucket="amply-tagged", Tagging={"TagSet": [
        {"Key": "owner", "Value": "platform"}, {"Key": "data-class", "Value": "internal"},
        {"Key": "temp", "Value": "yes"}]})
    code, report = audit(server, tmp_path, """\
version: 1
buckets:
  - match: "amply-*"
    tags: {required: {owner: "*", data-class: [public, internal]}, forbidden: [temp]}
""")
    found = results(report, "tags")
    assert [d["path"] for d in found["amply-tagged"]["differences"]] == ["tags.forbidden.temp"]
    assert {d["path"] for d in found["amply-bare"]["differences"]} == {
        "tags.required.owner", "tags.required.data-class"}
    assert found["amply-tagged"]["actual"]["owner"] == "platform"
    assert code == 1


def test_replication_end_to_end_without_filters(server: str, tmp_path: Path) -> None:
    # Only what moto keeps: id, status and destination (it drops filters and delete-marker
    # settings, which the case files cover with recorded answers).
    s3 = client(server, "s3")
    for name in ("amply-src", "amply-dr", "amply-other"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration=LOCATION)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket="amply-src", ReplicationConfiguration={
        "Role": f"arn:aws:iam::{ACCOUNT}:role/replication",
        "Rules": [{"ID": "to-dr", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
                   "DeleteMarkerReplication": {"Status": "Disabled"},
                   "Destination": {"Bucket": "arn:aws:s3:::amply-dr", "StorageClass": "STANDARD_IA"}}]})
    code, report = audit(server, tmp_path, """\
version: 1
buckets:
  - name: amply-src
    replication: [{id: to-dr, destination_bucket: amply-dr, storage_class: STANDARD_IA}]
  - name: amply-other
    replication: [{id: to-dr, destination_bucket: amply-dr}]
  - {name: amply-dr, replication: []}
""")
    found = results(report, "replication")
    assert {b: r["status"] for b, r in found.items()} == {
        "amply-src": "pass", "amply-other": "drift", "amply-dr": "pass"}
    assert "Replication rule to-dr is missing" in found["amply-other"]["message"]
    assert code == 1


def test_queue_notifications_end_to_end(server: str, tmp_path: Path) -> None:
    # Queues only: moto keeps them, but never reports EventBridge (case files cover it).
    s3 = client(server, "s3")
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:uploads"
    for name in ("amply-in", "amply-quiet"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration=LOCATION)
    s3.put_bucket_notification_configuration(Bucket="amply-in", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}]})
    code, report = audit(server, tmp_path, f"""\
version: 1
buckets:
  - name: amply-in
    notifications: {{queues: [{{arn: "{queue}", events: ["s3:ObjectCreated:*"], prefix: in/}}]}}
  - name: amply-quiet
    notifications: {{queues: [{{arn: "{queue}", events: ["s3:ObjectCreated:*"]}}], topics: []}}
""")
    found = results(report, "notifications")
    assert found["amply-in"]["status"] == "pass", found["amply-in"]["message"]
    assert [d["path"] for d in found["amply-quiet"]["differences"]] == ["notifications.queues[0]"]
    assert code == 1


def test_access_points_end_to_end(server: str, tmp_path: Path) -> None:
    s3, s3control = client(server, "s3"), client(server, "s3control")
    s3.create_bucket(Bucket="amply-shared", CreateBucketConfiguration=LOCATION)
    s3control.create_access_point(AccountId=ACCOUNT, Name="app-vpc", Bucket="amply-shared",
                                  VpcConfiguration={"VpcId": "vpc-0abc1234"})
    s3control.create_access_point(AccountId=ACCOUNT, Name="rogue", Bucket="amply-shared",
                                  PublicAccessBlockConfiguration={
                                      "BlockPublicAcls": False, "IgnorePublicAcls": False,
                                      "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    code, report = audit(server, tmp_path, """\
version: 1
buckets:
  - name: amply-shared
    access_points:
      - name: app-vpc
        network_origin: VPC
        vpc_id: vpc-0abc1234
        public_access_block: {block_public_acls: true, restrict_public_buckets: true}
""")
    (result,) = results(report, "access_points").values()
    assert [d["path"] for d in result["differences"]] == ["access_points[name=rogue]"]
    assert "delete-access-point --account-id 123456789012 --name rogue" in result["remediation"]
    assert code == 1


def test_data_events_end_to_end(server: str, tmp_path: Path) -> None:
    s3, cloudtrail = client(server, "s3"), client(server, "cloudtrail")
    for name in ("amply-trail-logs", "amply-recorded", "amply-unrecorded"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration=LOCATION)
    cloudtrail.create_trail(Name="main", S3BucketName="amply-trail-logs", IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="main")
    cloudtrail.put_event_selectors(TrailName="main", AdvancedEventSelectors=[{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::amply-recorded/"]}]}])
    code, report = audit(server, tmp_path, """\
version: 1
buckets:
  - match: "amply-*recorded"
    data_events: {read: true, write: true}
""")
    found = results(report, "data_events")
    assert found["amply-recorded"]["status"] == "pass"
    assert found["amply-recorded"]["actual"] == {"read": True, "write": True}
    unrecorded = found["amply-unrecorded"]
    assert unrecorded["status"] == "drift"
    assert {d["path"] for d in unrecorded["differences"]} == {"data_events.read", "data_events.write"}
    assert "aws cloudtrail put-event-selectors --trail-name arn:aws:cloudtrail:" in unrecorded["remediation"]
    assert code == 1


TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Logs:
    Type: AWS::S3::Bucket
    Properties: {BucketName: amply-logs}
  Vault:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: amply-vault
      VersioningConfiguration: {Status: Enabled}
      LoggingConfiguration: {DestinationBucketName: !Ref Logs, LogFilePrefix: vault/}
      ObjectLockEnabled: true
      ObjectLockConfiguration:
        ObjectLockEnabled: Enabled
        Rule: {DefaultRetention: {Mode: COMPLIANCE, Years: 7}}
      ReplicationConfiguration:
        Role: !GetAtt ReplicationRole.Arn
        Rules:
          - Id: to-dr
            Status: Enabled
            Prefix: records/
            Destination:
              Bucket: !GetAtt Logs.Arn
              StorageClass: GLACIER
              EncryptionConfiguration: {ReplicaKmsKeyID: "arn:aws:kms:eu-west-1:123456789012:key/2222"}
      Tags: [{Key: owner, Value: records}, {Key: data-class, Value: confidential}]
      NotificationConfiguration:
        EventBridgeConfiguration: {EventBridgeEnabled: true}
        QueueConfigurations:
          - Queue: "arn:aws:sqs:eu-central-1:123456789012:new-records"
            Event: "s3:ObjectCreated:*"
            Filter: {S3Key: {Rules: [{Name: prefix, Value: in/}, {Name: suffix, Value: .pdf}]}}
      MetricsConfigurations:
        - Id: EntireBucket
        - Id: inbox
          Prefix: in/
          TagFilters: [{Key: team, Value: records}]
  SelfLogging:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: amply-self
      LoggingConfiguration: {}
"""


def test_import_maps_every_cloudformation_property_of_the_new_controls(tmp_path: Path) -> None:
    from auditor.spec import load_specs

    template = tmp_path / "stack.yaml"
    template.write_text(TEMPLATE)
    out = tmp_path / "specs"
    result = CliRunner().invoke(main, ["import", str(template), "--region", REGION, "--out", str(out)])
    assert result.exit_code == 0, result.output
    raw = {e.name: e for e in load_specs([out]).buckets}

    vault = yaml.safe_load((out / "amply-vault.yaml").read_text())["buckets"][0]
    assert vault["logging"] == {"target_bucket": "amply-logs", "target_prefix": "vault/"}
    assert vault["object_lock"] == {"mode": "COMPLIANCE", "years": 7}
    assert vault["replication"] == [{
        "id": "to-dr", "status": "Enabled", "destination_bucket": "amply-logs", "storage_class": "GLACIER",
        "replica_kms_key": "arn:aws:kms:eu-west-1:123456789012:key/2222", "prefix": "records/"}]
    assert vault["tags"] == {"required": {"owner": "records", "data-class": "confidential"}}
    assert vault["notifications"] == {"event_bridge": True, "queues": [{
        "arn": "arn:aws:sqs:eu-central-1:123456789012:new-records", "events": ["s3:ObjectCreated:*"],
        "prefix": "in/", "suffix": ".pdf"}]}
    assert vault["request_metrics"] == [{"id": "EntireBucket"},
                                        {"id": "inbox", "prefix": "in/", "tags": {"team": "records"}}]
    # Without DestinationBucketName CloudFormation has the bucket log into itself.
    assert raw["amply-self"].want("logging").target_bucket == "amply-self"


def test_init_describes_the_new_controls_so_that_an_audit_passes(server: str, tmp_path: Path) -> None:
    s3, s3control, cloudtrail = client(server, "s3"), client(server, "s3control"), client(server, "cloudtrail")
    s3.create_bucket(Bucket="amply-logs", CreateBucketConfiguration=LOCATION)
    s3.put_bucket_acl(Bucket="amply-logs", ACL="log-delivery-write")
    s3.create_bucket(Bucket="amply-vault", CreateBucketConfiguration=LOCATION, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket="amply-vault", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 1}}})
    s3.put_bucket_logging(Bucket="amply-vault", BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "amply-logs", "TargetPrefix": "vault/"}})
    s3.put_bucket_tagging(Bucket="amply-vault", Tagging={"TagSet": [{"Key": "owner", "Value": "records"}]})
    s3control.create_access_point(AccountId=ACCOUNT, Name="records-vpc", Bucket="amply-vault",
                                  VpcConfiguration={"VpcId": "vpc-0abc1234"})
    cloudtrail.create_trail(Name="main", S3BucketName="amply-logs", IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="main")
    cloudtrail.put_event_selectors(TrailName="main", EventSelectors=[{
        "ReadWriteType": "WriteOnly", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}])
    out = tmp_path / "specs"
    result = CliRunner().invoke(main, ["init", "--endpoint-url", server, "--out", str(out)])
    assert result.exit_code == 0, result.output
    vault = yaml.safe_load((out / "amply-vault.yaml").read_text())["buckets"][0]
    assert vault["object_lock"] == {"mode": "GOVERNANCE", "years": 1}
    assert vault["logging"] == {"target_bucket": "amply-logs", "target_prefix": "vault/"}
    assert vault["tags"] == {"required": {"owner": "records"}}
    assert vault["data_events"] == {"read": False, "write": True}
    assert [p["name"] for p in vault["access_points"]] == ["records-vpc"]
    code, report = audit(server, tmp_path, (out / "amply-vault.yaml").read_text(), "--bucket", "amply-vault")
    assert [r for r in report["results"] if r["status"] != "pass"] == []
    assert code == 0
