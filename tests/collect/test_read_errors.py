"""Failures other than "not configured" become Unreadable, never a value (botocore Stubber)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from auditor.collect.facets import FACETS
from auditor.collect.read import call
from auditor.model import Facet, Unreadable


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
        assert isinstance(result, Unreadable)
        assert (result.api, result.code, result.facet) == (spec.api, code, facet)
        assert code in result.describe()
