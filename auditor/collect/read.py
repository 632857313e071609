"""The only place that calls AWS for facets and run-level calls: one read, classified as a
value, "not configured" (None) or a failure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


# A caller makes one call: `caller(spec, **params)`, answering like `call` above. The readers
# of facets assembled from several calls take one, so recorded answers can stand in for AWS.
Caller = Callable[..., Mapping[str, Any] | None | AwsFailure]
MAX_PAGES = 100  # a listing is read to its end, but never forever (an endpoint that loops)


class PageSpec(Protocol):
    @property
    def token(self) -> str: ...
    @property
    def next_token(self) -> str: ...
    @property
    def items(self) -> str: ...


def paged(caller: Caller, spec: Call, pages: PageSpec, **params: Any) -> Mapping[str, Any] | None | AwsFailure:
    """Every page of a listing, its items concatenated under `pages.items`; `truncated` is set
    when MAX_PAGES pages were read and there were more."""
    items: list[Any] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        answer = caller(spec, **params, **({pages.token: token} if token else {}))
        if answer is None or isinstance(answer, AwsFailure):
            return answer
        items += list(answer.get(pages.items) or [])
        following = answer.get(pages.next_token)
        if not following or following == token:
            return {pages.items: items}
        token = str(following)
    return {pages.items: items, "truncated": True}


def client_caller(client: Any) -> Caller:
    """A caller for one boto3 client."""
    return lambda spec, **params: call(client, spec, **params)
