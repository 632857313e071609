"""The lean read path: the same answers as botocore, the read-only guard, fail-closed bodies,
retries as botocore's standard mode, and an AIMD limit on requests in flight."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from botocore.parsers import RestXMLParser

from auditor.collect import AwsConfig, Clients
from auditor.collect.facets import FACETS, FacetSpec
from auditor.collect.lean import Limiter
from auditor.collect.read import ReadOnlyViolation
from auditor.collect.xmldoc import Document, NotTheDocument
from auditor.model import AwsFailure, Facet

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
# Answers as AWS documents them (each operation's "Response Syntax" and examples).
ANSWERS = {
    "GetBucketVersioning": f"<VersioningConfiguration {NS}><Status>Enabled</Status>"
                           "<MfaDelete>Disabled</MfaDelete></VersioningConfiguration>",
    "GetBucketEncryption": f"<ServerSideEncryptionConfiguration {NS}><Rule><ApplyServerSideEncryptionByDefault>"
                           "<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>arn:aws:kms:eu-central-1:1:key/k"
                           "</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true"
                           "</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>",
    "GetPublicAccessBlock": f"<PublicAccessBlockConfiguration {NS}><BlockPublicAcls>true</BlockPublicAcls>"
                            "<IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>true"
                            "</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets>"
                            "</PublicAccessBlockConfiguration>",
    "GetBucketAcl": f'<AccessControlPolicy {NS}><Owner><ID>abc</ID><DisplayName>me</DisplayName></Owner>'
                    '<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                    'xsi:type="CanonicalUser"><ID>abc</ID></Grantee><Permission>FULL_CONTROL</Permission>'
                    '</Grant><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                    'xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>'
                    "<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>",
    "GetBucketOwnershipControls": f"<OwnershipControls {NS}><Rule><ObjectOwnership>BucketOwnerEnforced"
                                  "</ObjectOwnership></Rule></OwnershipControls>",
    "GetBucketLifecycleConfiguration": (
        f"<LifecycleConfiguration {NS}><Rule><ID>archive</ID><Filter><And><Prefix>exports/</Prefix>"
        "<Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag>"
        "<ObjectSizeGreaterThan>128</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status>"
        "<Transition><Days>90</Days><StorageClass>STANDARD_IA</StorageClass></Transition>"
        "<Transition><Days>365</Days><StorageClass>GLACIER</StorageClass></Transition>"
        "<NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays></NoncurrentVersionExpiration>"
        "<AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation>"
        "</AbortIncompleteMultipartUpload></Rule><Rule><ID>dated</ID><Filter><Prefix>temp/</Prefix></Filter>"
        "<Status>Disabled</Status><Expiration><Date>2027-01-01T00:00:00.000Z</Date></Expiration></Rule>"
        "</LifecycleConfiguration>"),
    "GetBucketCors": f"<CORSConfiguration {NS}><CORSRule><ID>web</ID><AllowedOrigin>https://a.example</AllowedOrigin>"
                     "<AllowedOrigin>https://b.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                     "<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600"
                     "</MaxAgeSeconds></CORSRule><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD"
                     "</AllowedMethod></CORSRule></CORSConfiguration>",
    "GetBucketWebsite": f"<WebsiteConfiguration {NS}><IndexDocument><Suffix>index.html</Suffix></IndexDocument>"
                        "<ErrorDocument><Key>error.html</Key></ErrorDocument><RoutingRules><RoutingRule>"
                        "<Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition><Redirect>"
                        "<ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith><HttpRedirectCode>301"
                        "</HttpRedirectCode></Redirect></RoutingRule></RoutingRules></WebsiteConfiguration>",
    "GetBucketLocation": f"<LocationConstraint {NS}>eu-central-1</LocationConstraint>",
    "GetBucketPolicy": '{"Version":"2012-10-17","Statement":[]}',
    "GetBucketLogging": f"<BucketLoggingStatus {NS}><LoggingEnabled><TargetBucket>logs</TargetBucket>"
                        "<TargetPrefix>s3/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>",
    "GetObjectLockConfiguration": f"<ObjectLockConfiguration {NS}><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
                                  "<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days>"
                                  "</DefaultRetention></Rule></ObjectLockConfiguration>",
    "GetBucketReplication": f"<ReplicationConfiguration {NS}><Role>arn:aws:iam::1:role/r</Role><Rule><ID>a</ID>"
                            "<Priority>1</Priority><Status>Enabled</Status><Filter><Prefix>x/</Prefix></Filter>"
                            "<Destination><Bucket>arn:aws:s3:::dst</Bucket><EncryptionConfiguration>"
                            "<ReplicaKmsKeyID>arn:aws:kms:eu-west-1:1:key/k</ReplicaKmsKeyID>"
                            "</EncryptionConfiguration></Destination><DeleteMarkerReplication><Status>Disabled"
                            "</Status></DeleteMarkerReplication></Rule></ReplicationConfiguration>",
    "GetBucketTagging": f"<Tagging {NS}><TagSet><Tag><Key>team</Key><Value>web</Value></Tag><Tag><Key>env</Key>"
                        "<Value>prod</Value></Tag></TagSet></Tagging>",
    "GetBucketNotificationConfiguration": (
        f"<NotificationConfiguration {NS}><TopicConfiguration><Id>t</Id><Topic>arn:aws:sns:eu-central-1:1:t"
        "</Topic><Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event><Filter><S3Key><FilterRule>"
        "<Name>prefix</Name><Value>in/</Value></FilterRule></S3Key></Filter></TopicConfiguration>"
        "<EventBridgeConfiguration/></NotificationConfiguration>"),
}


def _model(api: str) -> Any:
    return boto3.client("s3", region_name="eu-central-1").meta.service_model.operation_model(api)


@pytest.mark.parametrize("api", sorted(ANSWERS))
def test_answers_parse_exactly_as_botocore_parses_them(api: str) -> None:
    model = _model(api)
    body = ANSWERS[api].encode()
    ours = Document(model.output_shape, next(
        (s.document for s in FACETS.values() if s.api == api and s.service == "s3"), None), api).parse(body)
    theirs = RestXMLParser().parse({"body": body, "headers": {}, "status_code": 200}, model.output_shape)
    theirs.pop("ResponseMetadata", None)
    if api == "GetBucketLocation":  # botocore reads it in an after-call handler, not the parser
        theirs = {"LocationConstraint": "eu-central-1"}
    assert ours == theirs


@pytest.mark.parametrize("body", [
    b"<html><body>Sign in to the Wi-Fi</body></html>",
    b"<!DOCTYPE html><html><head><title>proxy</title>",
    b"",
    b'<?xml version="1.0"?><WebsiteConfiguration/>',
])
def test_a_body_that_is_not_the_document_is_refused(body: bytes) -> None:
    document = Document(_model("GetBucketCors").output_shape, "CORSConfiguration", "GetBucketCors")
    with pytest.raises(NotTheDocument):
        document.parse(body)


def test_the_lean_path_refuses_anything_but_allowed_gets_before_building_a_request() -> None:
    clients = Clients(AwsConfig(region="eu-central-1", endpoint_url="http://127.0.0.1:9"))
    sent: list[Any] = []
    clients.client("s3").meta.events.register("before-send", lambda request, **_: sent.append(request))
    write = FacetSpec(Facet.VERSIONING, "s3", "PutBucketVersioning", "put_bucket_versioning",
                      "s3:PutBucketVersioning", frozenset(), FACETS[Facet.VERSIONING].parse)
    with pytest.raises(ReadOnlyViolation, match="PutBucketVersioning"):
        clients.lean.read(write, "eu-central-1", "bucket-1")
    assert sent == []


def test_retries_are_botocore_standard_mode_and_the_last_failure_is_reported(server: str) -> None:
    """A 503 SlowDown every time: as many attempts as botocore's client makes, then the
    failure with AWS's code;
    the limit on requests in flight is halved by the throttling."""
    from tests.faultproxy import Fault, FaultProxy

    proxy = FaultProxy(int(server.rsplit(":", 1)[1])).start()
    try:
        proxy.faults.append(Fault("GET", "/bucket-1", "versioning", 503, "SlowDown"))
        clients = Clients(AwsConfig(region="eu-central-1", endpoint_url=proxy.url))
        clients.lean.limiter = limiter = Limiter(8)
        clients.lean.stop = threading.Event()  # backoff sleeps wait on it (not set: full backoff)
        raw = clients.lean.read(FACETS[Facet.VERSIONING], "eu-central-1", "bucket-1")
    finally:
        proxy.stop()
    assert isinstance(raw, AwsFailure) and (raw.api, raw.code) == ("GetBucketVersioning", "SlowDown")
    attempts = clients.client("s3").meta.config.retries["total_max_attempts"]
    assert attempts >= 4  # at least 3 retries (the contract)
    assert proxy.requests["GET /bucket-1?versioning"] == attempts
    assert limiter.throttled == attempts and limiter.limit < 8


def test_a_set_stop_event_ends_a_backoff_at_once(server: str) -> None:
    from tests.faultproxy import Fault, FaultProxy

    proxy = FaultProxy(int(server.rsplit(":", 1)[1])).start()
    try:
        proxy.faults.append(Fault("GET", "/bucket-1", "versioning", 503, "SlowDown"))
        clients = Clients(AwsConfig(region="eu-central-1", endpoint_url=proxy.url))
        stop = clients.lean.stop = threading.Event()
        threading.Timer(0.05, stop.set).start()  # set during the first backoff (0-1 s)
        raw = clients.lean.read(FACETS[Facet.VERSIONING], "eu-central-1", "bucket-1")
    finally:
        proxy.stop()
    assert isinstance(raw, AwsFailure) and raw.code == "Interrupted"
    assert proxy.requests["GET /bucket-1?versioning"] < 4


def test_the_limiter_halves_on_throttling_and_recovers_additively() -> None:
    limiter = Limiter(16)
    limiter.acquire()
    limiter.release(throttled=True)
    assert limiter.limit == 8
    for _ in range(8):
        limiter.acquire()
        limiter.release(throttled=False)
    assert 8.9 < limiter.limit < 9.1  # +1 per `limit` successes
    assert limiter.in_flight == 0 and limiter.peak == 1
