"""The collector against an in-process moto account: present and absent, per facet."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auditor.collect import AwsConfig, Clients, Collector, Target
from auditor.model import (
    Acl,
    Encryption,
    Facet,
    KmsKeys,
    Ownership,
    PolicyDocument,
    PublicAccessBlock,
    Unreadable,
    Versioning,
    Website,
)

REGION = "eu-central-1"
ALL = frozenset(Facet)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket="bare", CreateBucketConfiguration={"LocationConstraint": REGION})
        client.create_bucket(Bucket="full", CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


def _collector() -> Collector:
    return Collector(Clients(AwsConfig(region=REGION)))


def test_unconfigured_facets_read_as_absent_not_as_errors(s3: Any) -> None:
    state = _collector().bucket(Target("bare", True, None, ALL))
    assert state.exists and state.region == REGION
    assert state.facet(Facet.LOCATION) == REGION
    assert state.facet(Facet.VERSIONING) == Versioning("Disabled")
    assert state.facet(Facet.POLICY) is None
    assert state.facet(Facet.PUBLIC_ACCESS_BLOCK) is None
    assert state.facet(Facet.ACCOUNT_PUBLIC_ACCESS_BLOCK) is None
    assert state.facet(Facet.LIFECYCLE) == ()
    assert state.facet(Facet.CORS) == ()
    assert state.facet(Facet.WEBSITE) is None
    assert state.facet(Facet.OWNERSHIP) == Ownership("ObjectWriter")
    assert isinstance(state.facet(Facet.ACL), Acl)
    assert not any(isinstance(v, Unreadable) for _, v in state.facets)


def test_configured_facets_are_parsed(s3: Any) -> None:
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/k", TargetKeyId=key["KeyId"])
    s3.put_bucket_versioning(Bucket="full", VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_encryption(Bucket="full", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]},
         "BucketKeyEnabled": True}]})
    s3.put_public_access_block(Bucket="full", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket="full", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::full/*"}]}))
    s3.put_bucket_website(Bucket="full", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_bucket_cors(Bucket="full", CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["b", "a"], "AllowedMethods": ["GET"]}]})
    state = _collector().bucket(Target("full", True, None, ALL, ("alias/k",)))
    assert state.facet(Facet.VERSIONING) == Versioning("Suspended")
    assert state.facet(Facet.ENCRYPTION) == Encryption("aws:kms", key["Arn"], True)
    keys = state.facet(Facet.KMS_KEYS)
    assert isinstance(keys, KmsKeys) and keys.arn("alias/k") == key["Arn"] == keys.arn(key["Arn"])
    assert state.facet(Facet.PUBLIC_ACCESS_BLOCK) == PublicAccessBlock(True, True, False, False)
    policy = state.facet(Facet.POLICY)
    assert isinstance(policy, PolicyDocument) and policy.statements[0].effect == "Deny"
    assert state.facet(Facet.WEBSITE) == Website(index_document="index.html")
    cors = state.facet(Facet.CORS)
    assert isinstance(cors, tuple) and cors[0].allowed_origins == ("a", "b")


def test_only_the_needed_facets_are_read(s3: Any) -> None:
    calls: list[str] = []
    collector = _collector()
    client = collector.clients.client("s3", REGION)
    from auditor.collect.lean import PROBE

    # (the lean path's endpoint probe is stopped before it is sent: not a read)
    client.meta.events.register("before-call.s3.*", lambda model, context, **_: calls.append(model.name)
                                if context["input_params"].get("Bucket") != PROBE else None)
    state = collector.bucket(Target("bare", True, REGION, frozenset({Facet.VERSIONING})))
    assert [f for f, _ in state.facets] == [Facet.VERSIONING]
    assert calls == ["GetBucketVersioning"]  # the region came from the listing: no GetBucketLocation


def test_a_bucket_that_vanished_reads_as_missing(s3: Any) -> None:
    state = _collector().bucket(Target("gone-bucket", None, None, frozenset({Facet.VERSIONING})))
    assert state.exists is False


def test_listing_is_paginated_and_complete(s3: Any) -> None:
    for i in range(3):
        s3.create_bucket(Bucket=f"more-{i}", CreateBucketConfiguration={"LocationConstraint": REGION})
    listing = _collector().list_buckets()
    assert listing.error is None
    assert sorted(n for n, _ in listing.buckets) == ["bare", "full", "more-0", "more-1", "more-2"]


def _describe_key_calls(collector: Collector) -> list[str]:
    calls: list[str] = []
    collector.clients.client("kms", REGION).meta.events.register(
        "before-parameter-build.kms.DescribeKey", lambda params, **_: calls.append(params["KeyId"]))
    return calls


def test_a_kms_key_is_described_once_per_run(s3: Any) -> None:
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/shared", TargetKeyId=key["KeyId"])
    for bucket in ("bare", "full"):
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}]})
    collector = _collector()
    calls = _describe_key_calls(collector)
    facets = frozenset({Facet.ENCRYPTION, Facet.KMS_KEYS})
    states = [collector.bucket(Target(b, True, REGION, facets, ("alias/shared",))) for b in ("bare", "full")]
    assert all(isinstance(k := s.facet(Facet.KMS_KEYS), KmsKeys) and k.arn("alias/shared") == key["Arn"]
               for s in states)
    assert calls == ["alias/shared"]  # the key ARN needs no call, the alias one for the run


def _requests_seen(collector: Collector) -> list[str]:
    seen: list[str] = []
    collector.clients.client("s3", REGION).meta.events.register(
        "before-send.s3", lambda request, **_: seen.append(request.url.split("?")[-1]))
    return seen


@pytest.mark.parametrize(("ignore", "ownership", "read"), [
    (True, None, set()),  # IgnorePublicAcls: neither matters to public_access
    (False, "BucketOwnerEnforced", {"ownershipControls"}),  # ACLs disabled: the ACL cannot matter
    (False, None, {"ownershipControls", "acl"}),  # ACLs can take effect: both are read
])
def test_acl_and_ownership_are_read_only_when_a_verdict_can_depend_on_them(
    s3: Any, ignore: bool, ownership: str | None, read: set[str]
) -> None:
    from auditor.engine import facets_needed, skips
    from auditor.model import NotRead
    from auditor.spec import load_specs
    from auditor.spec.build import effective_spec
    from tests.conftest import SPECS

    s3.put_public_access_block(Bucket="bare", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": ignore, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    if ownership:
        s3.put_bucket_ownership_controls(Bucket="bare", OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
    entry = effective_spec(load_specs([SPECS / "amply-storage-prod.yaml"]), "amply-storage-prod")
    assert entry is not None
    collector = _collector()
    seen = _requests_seen(collector)
    state = collector.bucket(Target("bare", True, REGION, facets_needed(entry), skips=skips(entry)))
    assert {q for q in seen if q in ("acl", "ownershipControls")} == read
    for facet, query in ((Facet.ACL, "acl"), (Facet.OWNERSHIP, "ownershipControls")):
        assert isinstance(state.facet(facet), NotRead) is (query not in read)


def test_an_endpoint_that_ignores_paging_cannot_hide_buckets(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto answers MaxBuckets=N with the first N buckets and no token: a full page without
    a token is checked against one unpaged listing."""
    import auditor.collect as collect

    monkeypatch.setattr(collect, "PAGE_SIZE", 2)
    for i in range(3):
        s3.create_bucket(Bucket=f"more-{i}", CreateBucketConfiguration={"LocationConstraint": REGION})
    listing = _collector().list_buckets()
    assert sorted(n for n, _ in listing.buckets) == ["bare", "full", "more-0", "more-1", "more-2"]


def test_the_listing_asks_for_bucket_regions_and_follows_continuation_tokens() -> None:
    """AWS answers BucketRegion only when ListBuckets carries a parameter (MaxBuckets)."""
    from botocore.stub import Stubber

    from auditor.collect import PAGE_SIZE, _paged_listing

    client = boto3.client("s3", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_response("list_buckets", {"Buckets": [{"Name": "a", "BucketRegion": "eu-west-1"}],
                                           "ContinuationToken": "t1"}, {"MaxBuckets": PAGE_SIZE})
        stub.add_response("list_buckets", {"Buckets": [{"Name": "b", "BucketRegion": "us-east-1"}]},
                          {"MaxBuckets": PAGE_SIZE, "ContinuationToken": "t1"})
        assert _paged_listing(client) == (("a", "eu-west-1"), ("b", "us-east-1"))


def test_concurrent_buckets_describe_a_shared_key_once(s3: Any) -> None:
    """Single flight: however many buckets ask at once, one DescribeKey per key and run."""
    from auditor.collect import collect

    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/shared", TargetKeyId=key["KeyId"])
    names = [f"enc-{i}" for i in range(12)]
    for name in names:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}]})
    collector = _collector()
    calls = _describe_key_calls(collector)
    facets = frozenset({Facet.ENCRYPTION, Facet.KMS_KEYS})
    states = list(collect(((collector, Target(n, True, REGION, facets, ("alias/shared",))) for n in names),
                          concurrency=12))
    assert all(isinstance(k := s.facet(Facet.KMS_KEYS), KmsKeys) and k.arn("alias/shared") == key["Arn"]
               for s in states)
    assert calls == ["alias/shared"]


def test_a_set_stop_event_reads_nothing_more_and_says_interrupted(s3: Any) -> None:
    import threading

    from auditor.collect import collect

    collector = _collector()
    seen = _requests_seen(collector)
    stop = threading.Event()
    stop.set()
    targets = [Target(n, True, REGION, frozenset({Facet.VERSIONING, Facet.CORS})) for n in ("bare", "full")]
    states = list(collect(((collector, t) for t in targets), concurrency=4, stop=stop))
    assert [s.name for s in states] == ["bare", "full"]
    codes = {v.code for s in states for _, v in s.facets if isinstance(v, Unreadable)}
    assert codes == {"Interrupted"} and all(len(s.facets) == 2 for s in states)
    assert seen == []
