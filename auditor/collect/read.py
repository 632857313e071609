"""The only place that calls AWS for bucket facets: one read, classified as value, absent or unreadable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from auditor.collect.facets import FacetSpec
from auditor.model import Unreadable

# S3 answers these when the bucket itself is gone (deleted between listing and reading).
GONE_CODES = frozenset({"NoSuchBucket", "404"})


def call(client: Any, spec: FacetSpec, **params: Any) -> Mapping[str, Any] | None | Unreadable:
    """Make the facet's call: the response, None when AWS says "not configured", or Unreadable."""
    try:
        response: Mapping[str, Any] = getattr(client, spec.method)(**params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
        if code in spec.absent_codes:
            return None
        return Unreadable(spec.facet, spec.api, code, str(error.get("Message") or exc))
    except BotoCoreError as exc:
        # Connection refused/reset, timeouts and the like, after botocore's own retries.
        return Unreadable(spec.facet, spec.api, type(exc).__name__, str(exc))
    return response


def unreadable_from(exc: Exception, spec: FacetSpec) -> Unreadable:
    """An unexpected exception while parsing a response is still an error, never a pass."""
    return Unreadable(spec.facet, spec.api, type(exc).__name__, str(exc))
