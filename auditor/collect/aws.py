"""Sessions and clients: retry mode, timeouts, custom endpoints, one client per service and region."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from auditor.collect.facets import DOCUMENTS, READ_ONLY_OPERATIONS
from auditor.collect.read import ReadOnlyViolation

__all__ = ["AwsConfig", "Clients", "MalformedResponse", "ReadOnlyViolation"]

# botocore's "standard" retry mode retries throttling, 5xx and connection errors with
# exponential backoff. botocore's max_attempts 4 means 4 retries (total_max_attempts 5):
# with these timeouts one read can hold the run for about a minute (5 x (3 s connect +
# 10 s read) + backoff), and a run's --deadline bounds everything.
# https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
MAX_ATTEMPTS = 4
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 10
DEFAULT_REGION = "us-east-1"



@dataclass(frozen=True, slots=True)
class AwsConfig:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = MAX_ATTEMPTS
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    max_pool_connections: int = 10
    read_only: bool = True  # refuse every API call outside READ_ONLY_OPERATIONS

    def resolved_endpoint(self) -> str | None:
        """--endpoint-url, else AWS_ENDPOINT_URL (we also need it to pick path-style addressing)."""
        return self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None


class Clients:
    """Thread-safe cache of boto3 clients. Sessions are not thread-safe; clients are."""

    def __init__(self, config: AwsConfig, session: boto3.session.Session | None = None,
                 label: str | None = None) -> None:
        self.config = config
        self.session = session or boto3.session.Session(profile_name=config.profile, region_name=config.region)
        self.default_region = self.session.region_name or DEFAULT_REGION
        self._label = label  # whose credentials these are, when the caller knows (a role ARN)
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._lean: Any = None

    @property
    def lean(self) -> Any:
        """The lean read path for bucket facets (auditor.collect.lean), made once."""
        with self._lock:
            if self._lean is None:
                from auditor.collect.lean import LeanReader

                self._lean = LeanReader(self)
            return self._lean

    def credentials_label(self) -> str:
        """Whose credentials the clients sign with, for messages: profile, role, or source."""
        if self._label is not None:
            return self._label
        profile = self.config.profile or os.environ.get("AWS_PROFILE")
        try:
            found = self.session.get_credentials()  # resolved once per session by botocore
        except Exception:  # a broken profile is reported by the call that failed
            found = None
        method = getattr(found, "method", None)
        if method == "env":
            return "environment credentials (AWS_ACCESS_KEY_ID)"
        if method in ("iam-role", "container-role"):
            return "the instance role" if method == "iam-role" else "the container (task) role"
        if profile:
            return f"profile {profile}"
        return "default credential chain"

    def client(self, service: str, region: str | None = None) -> Any:
        """The client for one service in one region, created once."""
        key = (service, region or self.default_region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._make(service, key[1])
            return self._clients[key]

    def _make(self, service: str, region: str) -> Any:
        endpoint = self.config.resolved_endpoint()
        options: dict[str, Any] = {
            "retries": {"mode": "standard", "max_attempts": self.config.max_attempts},
            "connect_timeout": self.config.connect_timeout,
            "read_timeout": self.config.read_timeout,
            "max_pool_connections": self.config.max_pool_connections,
        }
        if endpoint:
            # A loopback emulator has no bucket sub-domains: address buckets by path.
            options["s3"] = {"addressing_style": "path"}
        client = self.session.client(
            service, region_name=region, endpoint_url=endpoint, config=Config(**options)
        )
        if endpoint and service == "s3control":
            client.meta.events.register("before-sign.s3-control", _strip_account_prefix(endpoint))
        if self.config.read_only:
            client.meta.events.register("before-parameter-build", _refuse_writes)
        if service == "s3":
            from auditor.collect.lean import capture_probe

            client.meta.events.register("before-send.s3", capture_probe)
        client.meta.events.register("before-parse", _refuse_other_documents)
        return client


def _refuse_writes(model: Any, **_: Any) -> None:
    # Read-only by construction: whatever a future change calls, nothing but these reads
    # ever leaves the process.
    if model.name not in READ_ONLY_OPERATIONS:
        raise ReadOnlyViolation(f"s3audit is read-only; refusing {model.service_model.service_name}:{model.name}")


class MalformedResponse(BotoCoreError):  # type: ignore[misc]
    """A 2xx answer whose body is not the operation's document (an HTML page, another root)."""

    fmt = "{message}"


def _refuse_other_documents(operation_model: Any, response_dict: Any, **_: Any) -> None:
    # botocore parses any 200 body it cannot read as an empty answer, so an HTML page from
    # a captive proxy would read as "no CORS configuration" and pass. Fail closed instead.
    root = DOCUMENTS.get(operation_model.name)
    status = response_dict.get("status_code", 0)
    if root is None or not 200 <= status < 300 or "x-s3audit-probe" in response_dict.get("headers", {}):
        return
    body = response_dict.get("body") or b""
    if not body and operation_model.name != "GetBucketLocation":
        raise MalformedResponse(message=f"HTTP {status} with an empty body where a <{root}> "
                                        "document was expected")
    if body:
        from auditor.collect.xmldoc import is_document, root_of

        found = root_of(body)
        if not is_document(found, root, operation_model.name):
            raise MalformedResponse(message=f"HTTP {status} where a <{root}> document was expected: {found}")


def _strip_account_prefix(endpoint: str) -> Callable[..., None]:
    """Undo the "{AccountId}." that S3 Control's endpoint rules put in front of any host.

    Against AWS that sub-domain resolves; against a custom endpoint (a moto server on
    127.0.0.1) it cannot, so the request goes to the endpoint exactly as given.
    """
    authority = urlsplit(endpoint).netloc

    def handler(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        if parts.netloc != authority and parts.netloc.endswith("." + authority):
            request.url = urlunsplit(parts._replace(netloc=authority))

    return handler
