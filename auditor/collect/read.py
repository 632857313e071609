"""The only place that calls AWS for facets and run-level calls: one read, classified as a
value, "not configured" (None) or a failure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from auditor.model import AwsFailure

# S3 answers these when the bucket itself is gone (deleted between listing and reading).
GONE_CODES = frozenset({"NoSuchBucket", "404"})


class Call(Protocol):
    @property
    def api(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def absent_codes(self) -> frozenset[str]: ...


def failure(exc: Exception, api: str) -> AwsFailure:
    """An exception from botocore as (api, code, message); the code is AWS's where it gave one."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(error.get("Code") or status or type(exc).__name__)
        return AwsFailure(api, code, str(error.get("Message") or exc))
    # Connection refused/reset, timeouts and the like, after botocore's own retries.
    return AwsFailure(api, type(exc).__name__, str(exc))


def call(client: Any, spec: Call, **params: Any) -> Mapping[str, Any] | None | AwsFailure:
    """Make the call: the response, None when AWS says "not configured", or the failure."""
    try:
        response: Mapping[str, Any] = getattr(client, spec.method)(**params)
    except (ClientError, BotoCoreError) as exc:
        found = failure(exc, spec.api)
        return None if found.code in spec.absent_codes else found
    return response
