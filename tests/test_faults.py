"""Faults injected between s3audit and a moto server on 127.0.0.1: no traceback, every other
bucket still audited, reports complete and valid against their schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faultproxy import Fault, FaultProxy
from tests.test_cli import audit, not_passing

SUBRESOURCES = {  # facet query key -> the controls that need it on amply-storage-prod
    "versioning": ["versioning"],
    "encryption": ["encryption"],
    "publicAccessBlock": ["public_access", "public_access_block"],
    "policy": ["public_access", "tls_only"],
    "lifecycle": ["lifecycle"],
}


@pytest.fixture
def proxy(seeded_server: str) -> Iterator[FaultProxy]:
    p = FaultProxy(int(seeded_server.rsplit(":", 1)[1])).start()
    yield p
    p.stop()


@pytest.mark.parametrize("query", list(SUBRESOURCES))
def test_access_denied_on_a_sub_resource_errors_exactly_the_controls_that_need_it(
    proxy: FaultProxy, tmp_path: Path, query: str
) -> None:
    proxy.faults.append(Fault("GET", "/amply-storage-prod", query, 403, "AccessDenied"))
    code, report, output = audit(proxy.url, tmp_path)
    assert not_passing(report) == [("amply-storage-prod", c, "error") for c in SUBRESOURCES[query]]
    assert code == 3
    assert "Traceback" not in output


@pytest.mark.parametrize("query", ["acl", "ownershipControls"])
def test_acl_and_ownership_are_read_only_where_acls_can_take_effect(
    proxy: FaultProxy, tmp_path: Path, query: str
) -> None:
    """amply-storage-prod's IgnorePublicAcls makes its ACL (and, for public_access, its
    ownership) irrelevant: denied reads there are never made. amply-public-data's block lets
    ACLs take effect, so there public_access needs both, and a denied read is its error."""
    proxy.faults += [Fault("GET", "/amply-storage-prod", query, 403, "AccessDenied"),
                     Fault("GET", "/amply-public-data", query, 403, "AccessDenied")]
    code, report, output = audit(proxy.url, tmp_path)
    assert not_passing(report) == [("amply-public-data", "public_access", "error")]
    assert code == 3
    assert "Traceback" not in output
    assert proxy.requests[f"GET /amply-storage-prod?{query}"] == 0
    assert proxy.requests[f"GET /amply-public-data?{query}"] >= 1


def test_server_errors_that_clear_after_retries_give_correct_results(proxy: FaultProxy, tmp_path: Path) -> None:
    proxy.faults.append(Fault("GET", "/amply-storage-prod", "lifecycle", 500, "InternalError", times=3))
    code, report, _ = audit(proxy.url, tmp_path)
    assert not_passing(report) == []
    assert code == 0


def test_connection_resets_are_retried(proxy: FaultProxy, tmp_path: Path) -> None:
    proxy.faults.append(Fault("GET", "/amply-frontend-prod", "website", 0, "", times=2, reset=True))
    code, report, _ = audit(proxy.url, tmp_path)
    assert not_passing(report) == []
    assert code == 0


def test_connection_resets_that_never_clear_are_an_error(proxy: FaultProxy, tmp_path: Path) -> None:
    proxy.faults.append(Fault("GET", "/amply-frontend-prod", "website", 0, "", reset=True))
    code, report, output = audit(proxy.url, tmp_path)
    assert not_passing(report) == [("amply-frontend-prod", "website", "error")]
    assert code == 3
    assert "Traceback" not in output


def test_a_bucket_deleted_between_listing_and_reading_is_reported_missing(
    proxy: FaultProxy, tmp_path: Path
) -> None:
    for query in ("cors", "location"):
        proxy.faults.append(Fault("GET", "/amply-widgets-prod", query, 404, "NoSuchBucket"))
    code, report, _ = audit(proxy.url, tmp_path)
    assert not_passing(report) == [("amply-widgets-prod", "exists", "drift")]
    assert code == 1


def test_listing_denied_still_audits_named_buckets_and_is_an_error(proxy: FaultProxy, tmp_path: Path) -> None:
    proxy.faults.append(Fault("GET", "/", None, 403, "AccessDenied", exact=True))
    code, report, _ = audit(proxy.url, tmp_path)
    assert not_passing(report) == [("<account>", "managed", "error")]
    (listing,) = [r for r in report["results"] if r["scope"] == "account"]
    assert listing["bucket"] is None and listing["error"] == {
        "api": "ListBuckets", "code": "AccessDenied", "message": "injected AccessDenied"}
    assert sum(r["status"] == "pass" for r in report["results"]) == 23
    assert code == 3


HTML = b"<html><head><title>Sign in</title></head><body>Captive portal</body></html>"


@pytest.mark.parametrize(("bucket", "query", "api", "control"), [
    ("amply-frontend-prod", "cors", "GetBucketCors", "cors"),
    ("amply-frontend-prod", "website", "GetBucketWebsite", "website"),
    ("amply-storage-prod", "versioning", "GetBucketVersioning", "versioning"),
])
def test_a_200_that_is_not_the_document_is_an_error_for_that_facet_only(
    proxy: FaultProxy, tmp_path: Path, bucket: str, query: str, api: str, control: str
) -> None:
    """An HTML page answered with 200 (a captive portal, a misrouted proxy) read as "no CORS"
    and passed; now it is that control's error naming the API and what came back, and every
    other control of the bucket is judged as before."""
    proxy.faults.append(Fault("GET", f"/{bucket}", query, 200, "", answer=HTML))
    code, report, output = audit(proxy.url, tmp_path)
    assert not_passing(report) == [(bucket, control, "error")]
    (result,) = [r for r in report["results"] if r["status"] == "error"]
    assert result["error"]["api"] == api and result["error"]["code"] == "MalformedResponse"
    assert "text/html" in result["message"] and "Captive portal" in result["message"]
    assert code == 3
    assert "Traceback" not in output


def test_a_junk_policy_body_errors_only_the_policy_controls(proxy: FaultProxy, tmp_path: Path) -> None:
    proxy.faults.append(Fault("GET", "/amply-storage-prod", "policy", 200, "", answer=b"{not json",
                              content_type="application/json"))
    code, report, _ = audit(proxy.url, tmp_path)
    assert not_passing(report) == [("amply-storage-prod", "public_access", "error"),
                                   ("amply-storage-prod", "tls_only", "error")]
    assert code == 3


@pytest.mark.parametrize("drip", [False, True], ids=["silent", "slow-drip"])
def test_the_deadline_holds_whatever_the_endpoint_does(tmp_path: Path, drip: bool) -> None:
    """Every request (the listing, STS, every facet) is accepted and then never answered, or
    answered one byte at a time: the run still ends at its deadline with complete reports.

    Judged by events, not the clock: the run returns while the endpoint still holds its
    connections (it is released only afterwards), so it cannot have waited for them."""
    from tests.faultproxy import StallServer

    endpoint = StallServer(drip=drip)
    try:
        code, report, output = audit(endpoint.url, tmp_path, "--deadline", "2")
        still_held = endpoint.held > 0 and not endpoint.release.is_set()
    finally:
        endpoint.stop()
    assert still_held
    errors = [r for r in report["results"] if r["status"] == "error"]
    assert errors and len(errors) == len(report["results"])
    assert {r["error"]["code"] for r in errors} == {"DeadlineExceeded"}
    assert code == 3
    assert "Traceback" not in output
