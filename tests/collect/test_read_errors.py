"""Failures other than "not configured" become failures, never a value (botocore Stubber)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from auditor.collect.facets import FACETS
from auditor.collect.read import call
from auditor.model import AwsFailure, Facet


@pytest.mark.parametrize(
    ("facet", "code", "absent"),
    [
        (Facet.POLICY, "NoSuchBucketPolicy", True),
        (Facet.LIFECYCLE, "NoSuchLifecycleConfiguration", True),
        (Facet.CORS, "NoSuchCORSConfiguration", True),
        (Facet.WEBSITE, "NoSuchWebsiteConfiguration", True),
        (Facet.ENCRYPTION, "ServerSideEncryptionConfigurationNotFoundError", True),
        (Facet.PUBLIC_ACCESS_BLOCK, "NoSuchPublicAccessBlockConfiguration", True),
        (Facet.OWNERSHIP, "OwnershipControlsNotFoundError", True),
        (Facet.POLICY, "AccessDenied", False),
        (Facet.VERSIONING, "AccessDenied", False),
        (Facet.CORS, "SlowDown", False),
        (Facet.ACL, "InternalError", False),
    ],
)
def test_error_codes_are_classified(facet: Facet, code: str, absent: bool) -> None:
    spec = FACETS[facet]
    client = boto3.client("s3", region_name="eu-central-1")
    with Stubber(client) as stub:
        stub.add_client_error(spec.method, service_error_code=code, service_message="nope", http_status_code=403)
        result = call(client, spec, Bucket="b")
    if absent:
        assert result is None
    else:
        assert isinstance(result, AwsFailure)
        assert (result.api, result.code) == (spec.api, code)
        assert code in result.describe()


def test_every_facet_operation_is_on_the_read_only_allow_list() -> None:
    from auditor.collect.aws import READ_ONLY_OPERATIONS
    from auditor.collect.facets import CALLER_IDENTITY

    assert {spec.api for spec in FACETS.values()} | {CALLER_IDENTITY.api, "ListBuckets"} <= READ_ONLY_OPERATIONS
    assert not any(op.startswith(("Put", "Delete", "Create", "Update")) for op in READ_ONLY_OPERATIONS)


def test_a_write_through_the_auditors_clients_fails_loudly() -> None:
    from auditor.collect.aws import AwsConfig, Clients, ReadOnlyViolation

    s3 = Clients(AwsConfig(region="eu-central-1")).client("s3")
    with Stubber(s3) as stub:  # even a stubbed (never sent) write is refused before it is built
        stub.add_response("put_bucket_versioning", {})
        with pytest.raises(ReadOnlyViolation, match="PutBucketVersioning"):
            s3.put_bucket_versioning(Bucket="b", VersioningConfiguration={"Status": "Suspended"})
