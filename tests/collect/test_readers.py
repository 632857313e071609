"""Facets read with several calls (pages, per-item details, other regions), through the real
Collector with botocore Stubber answers (botocore checks every request and answer against
the API model): every call is the one AWS documents, and one failed call fails the facet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from botocore.stub import Stubber

from auditor.collect import Collector, Target
from auditor.collect.aws import AwsConfig, Clients
from auditor.model import (
    AccessPoint,
    Encryption,
    Facet,
    KmsKey,
    KmsKeys,
    MetricsFilter,
    PublicAccessBlock,
    ReplicationRule,
    Unreadable,
    Versioning,
)

ACCOUNT = "123456789012"
REGION = "eu-central-1"
BUCKET = "amply-data"
BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
         "RestrictPublicBuckets": False}


class Stubs:
    """Stubbed clients of one Clients cache, by (service, region)."""

    def __init__(self, stack: ExitStack) -> None:
        self.clients = Clients(AwsConfig(region=REGION))
        self._stack = stack
        self._stubs: dict[tuple[str, str], Stubber] = {}
        self.add("sts", "get_caller_identity", {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/auditor", "UserId": "AIDAEXAMPLE"})

    def stub(self, service: str, region: str = REGION) -> Stubber:
        if (service, region) not in self._stubs:
            stubber = Stubber(self.clients.client(service, region))
            self._stack.enter_context(stubber)
            self._stubs[service, region] = stubber
        return self._stubs[service, region]

    def add(self, service: str, method: str, response: dict[str, Any],
            params: dict[str, Any] | None = None, region: str = REGION) -> None:
        self.stub(service, region).add_response(method, response, params)

    def fail(self, service: str, method: str, code: str, region: str = REGION) -> None:
        self.stub(service, region).add_client_error(method, service_error_code=code,
                                                    http_status_code=403)

    def done(self) -> None:
        for stubber in self._stubs.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    with ExitStack() as stack:
        yield Stubs(stack)


def _read(stubs: Stubs, *facets: Facet, kms_refs: tuple[str, ...] = ()) -> dict[Facet, Any]:
    target = Target(BUCKET, True, REGION, frozenset(facets), kms_refs)
    state = Collector(stubs.clients).bucket(target)
    return dict(state.facets)


def test_request_metrics_are_read_across_pages(stubs: Stubs) -> None:
    stubs.add("s3", "list_bucket_metrics_configurations",
              {"IsTruncated": True, "NextContinuationToken": "t1",
               "MetricsConfigurationList": [{"Id": "z", "Filter": {"Prefix": "logs/"}}]},
              {"Bucket": BUCKET})
    stubs.add("s3", "list_bucket_metrics_configurations",
              {"IsTruncated": False, "MetricsConfigurationList": [
                  {"Id": "EntireBucket"},
                  {"Id": "tagged", "Filter": {"And": {"Prefix": "p/", "Tags": [{"Key": "k", "Value": "v"}]}}}]},
              {"Bucket": BUCKET, "ContinuationToken": "t1"})
    found = _read(stubs, Facet.REQUEST_METRICS)[Facet.REQUEST_METRICS]
    assert found == (MetricsFilter("EntireBucket"), MetricsFilter("tagged", "p/", (("k", "v"),)),
                     MetricsFilter("z", "logs/"))
    stubs.done()


def test_access_points_are_listed_then_each_read_for_its_block(stubs: Stubs) -> None:
    stubs.add("s3control", "list_access_points",
              {"AccessPointList": [{"Name": "app-vpc", "NetworkOrigin": "VPC", "Bucket": BUCKET,
                                    "VpcConfiguration": {"VpcId": "vpc-0abc1234"}}], "NextToken": "n"},
              {"AccountId": ACCOUNT, "Bucket": BUCKET})
    stubs.add("s3control", "list_access_points",
              {"AccessPointList": [{"Name": "open", "NetworkOrigin": "Internet", "Bucket": BUCKET}]},
              {"AccountId": ACCOUNT, "Bucket": BUCKET, "NextToken": "n"})
    stubs.add("s3control", "get_access_point", {"Name": "app-vpc", "PublicAccessBlockConfiguration": BLOCK},
              {"AccountId": ACCOUNT, "Name": "app-vpc"})
    stubs.add("s3control", "get_access_point", {"Name": "open"}, {"AccountId": ACCOUNT, "Name": "open"})
    found = _read(stubs, Facet.ACCESS_POINTS)[Facet.ACCESS_POINTS]
    assert found == (
        AccessPoint("app-vpc", "VPC", "vpc-0abc1234",
                    PublicAccessBlock(True, True, True, False)),
        AccessPoint("open", "Internet", None, None),
    )
    stubs.done()


def test_one_failed_detail_call_fails_the_whole_facet(stubs: Stubs) -> None:
    stubs.add("s3control", "list_access_points",
              {"AccessPointList": [{"Name": "app", "NetworkOrigin": "Internet", "Bucket": BUCKET}]})
    stubs.fail("s3control", "get_access_point", "AccessDenied")
    found = _read(stubs, Facet.ACCESS_POINTS)[Facet.ACCESS_POINTS]
    assert isinstance(found, Unreadable)
    assert (found.api, found.code) == ("GetAccessPoint", "AccessDenied")


TRAIL = {"Name": "org", "TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/org",
         "HomeRegion": "us-east-1", "IsMultiRegionTrail": True, "IsOrganizationTrail": True}


def test_trails_are_read_once_per_account_with_details_from_their_home_region(stubs: Stubs) -> None:
    local = {"Name": "local", "TrailARN": "arn:aws:cloudtrail:eu-central-1:123456789012:trail/local",
             "HomeRegion": REGION, "IsMultiRegionTrail": False}
    stubs.add("cloudtrail", "describe_trails", {"trailList": [TRAIL, local]},
              {"includeShadowTrails": True})
    stubs.add("cloudtrail", "get_trail_status", {"IsLogging": True}, {"Name": TRAIL["TrailARN"]},
              region="us-east-1")
    stubs.add("cloudtrail", "get_event_selectors", {"AdvancedEventSelectors": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]},
        {"TrailName": TRAIL["TrailARN"]}, region="us-east-1")
    collector = Collector(stubs.clients)
    states = [collector.bucket(Target(name, True, REGION, frozenset({Facet.TRAILS})))
              for name in ("amply-a", "amply-b")]
    first, second = (s.facet(Facet.TRAILS) for s in states)
    assert first is second  # the second bucket reused the account's read
    by_name = {t.name: t for t in first}
    org, single = by_name["org"], by_name["local"]
    assert (org.multi_region, org.logging, org.organization, org.home_region) == (True, True, True, "us-east-1")
    assert org.advanced[0][1].equals == ("AWS::S3::Object",)
    assert (single.multi_region, single.logging) == (False, None)  # no details for it
    stubs.done()


def test_a_trail_whose_selectors_are_denied_fails_the_facet(stubs: Stubs) -> None:
    stubs.add("cloudtrail", "describe_trails", {"trailList": [TRAIL]})
    stubs.add("cloudtrail", "get_trail_status", {"IsLogging": True}, region="us-east-1")
    stubs.fail("cloudtrail", "get_event_selectors", "AccessDeniedException", region="us-east-1")
    found = _read(stubs, Facet.TRAILS)[Facet.TRAILS]
    assert isinstance(found, Unreadable) and found.api == "GetEventSelectors"


def test_a_replica_key_is_resolved_in_the_destination_region(stubs: Stubs) -> None:
    replica = "arn:aws:kms:eu-west-1:123456789012:key/2222"
    stubs.add("s3", "get_bucket_replication", {"ReplicationConfiguration": {"Role": "arn:r", "Rules": [{
        "ID": "to-dr", "Status": "Enabled", "Filter": {}, "DeleteMarkerReplication": {"Status": "Disabled"},
        "Destination": {"Bucket": "arn:aws:s3:::dr", "EncryptionConfiguration": {"ReplicaKmsKeyID": replica}}}]}})
    stubs.add("kms", "describe_key", {"KeyMetadata": {"KeyId": "2222", "Arn": replica}},
              {"KeyId": "alias/amply-dr"}, region="eu-west-1")
    found = _read(stubs, Facet.REPLICATION, Facet.KMS_KEYS, kms_refs=("alias/amply-dr",))
    (rule,) = found[Facet.REPLICATION]
    assert isinstance(rule, ReplicationRule) and rule.destination_bucket == "dr"
    keys = found[Facet.KMS_KEYS]
    assert keys == KmsKeys((KmsKey("alias/amply-dr", replica, "eu-west-1"),
                            KmsKey(replica, replica, "eu-west-1")))
    assert keys.arn("alias/amply-dr", "eu-west-1") == replica and keys.arn("alias/amply-dr") is None
    stubs.done()


def test_a_key_spelled_as_the_bucket_spells_it_needs_no_lookup(stubs: Stubs) -> None:
    stubs.add("s3", "get_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/k"}}]}})
    found = _read(stubs, Facet.ENCRYPTION, Facet.KMS_KEYS, kms_refs=("alias/k",))
    assert found[Facet.ENCRYPTION] == Encryption("aws:kms", "alias/k")
    assert found[Facet.KMS_KEYS] == KmsKeys()
    stubs.done()


def test_mfa_delete_is_read_from_get_bucket_versioning(stubs: Stubs) -> None:
    # moto never returns MFADelete: this answer is AWS's documented shape.
    stubs.add("s3", "get_bucket_versioning", {"Status": "Enabled", "MFADelete": "Enabled"},
              {"Bucket": BUCKET})
    found = _read(stubs, Facet.VERSIONING)[Facet.VERSIONING]
    assert found == Versioning("Enabled", mfa_delete=True)
    stubs.done()


def test_an_absent_metrics_list_reads_as_no_filters(stubs: Stubs) -> None:
    # AWS leaves MetricsConfigurationList out when a bucket has none.
    stubs.add("s3", "list_bucket_metrics_configurations", {"IsTruncated": False}, {"Bucket": BUCKET})
    assert _read(stubs, Facet.REQUEST_METRICS)[Facet.REQUEST_METRICS] == ()
    stubs.done()
