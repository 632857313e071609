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
    "acl": ["public_access"],
    "ownershipControls": ["public_access"],
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
