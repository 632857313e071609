"""The lean read path: a bucket facet read signed with botocore's signer, sent on botocore's
HTTP session, retried by botocore's standard retry policy, parsed with ElementTree.

Why (issue 12; measured in benchmarks/per_request.py, figures in the README): a botocore
client call spent 2.7-3.6 ms of CPU per request on this audit's GETs, most of it in per-call
machinery the audit does not need for a request it builds itself: endpoint ruleset
resolution, parameter validation and serialisation, about thirty event emissions, and the
generic response parser. aiobotocore keeps all of that (1.7 ms) and adds a dependency and an
event loop. This path keeps what matters of botocore and drops the rest:

- the endpoint is resolved by botocore itself, once per operation and region: a probe call
  through the real client (endpoint rules, addressing style, `--endpoint-url`, FIPS and
  dual-stack settings) is stopped at `before-send` and its URL becomes the template;
- credentials come from the session's provider chain (refreshed as botocore refreshes them)
  and every attempt is signed by botocore's `S3SigV4Auth`;
- the request goes out on the client's own `URLLib3Session` (pool, proxies, CA bundle,
  connect/read timeouts);
- retries are botocore's standard mode (`RetryPolicy`, `StandardRetryConditions`,
  `ExponentialBackoff`, the retry quota) with the same attempts; backoff sleeps end at once
  when the run's stop event is set;
- the read-only guard is kept: only GETs of operations on the allow-list are ever sent.

Bucket names that cannot be a virtual host (dots, upper case: legacy buckets) and answers
that redirect to another region go through the botocore client, which handles both.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.exceptions import HTTPClientError, NoCredentialsError
from botocore.retries import quota, standard

from auditor.collect.facets import READ_ONLY_OPERATIONS, FacetSpec
from auditor.collect.read import ReadOnlyViolation, call, failure
from auditor.collect.xmldoc import Document, NotTheDocument, error_of
from auditor.model import AwsFailure

PROBE = f"s3audit-probe-{secrets.token_hex(5)}"
# What S3's endpoint rules address by virtual host (aws.isVirtualHostableS3Bucket, no dots).
VIRTUAL_HOSTABLE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
# The bucket lives in another region than the request was signed for: botocore's region
# redirector knows what to do. https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
REDIRECT_CODES = frozenset({"PermanentRedirect", "TemporaryRedirect", "AuthorizationHeaderMalformed",
                            "301", "307", "IllegalLocationConstraintException"})
THROTTLING_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
                              "TooManyRequestsException", "503"})
_KEEP_HEADERS = ("User-Agent",)
PROBE_HEADER = "x-s3audit-probe"
_UNANSWERED = object()
_probe = threading.local()


def capture_probe(request: Any, **_: Any) -> AWSResponse | None:
    """`before-send` on every S3 client: a probe request is kept, answered empty, never sent."""
    if PROBE not in request.url:
        return None
    _probe.request = request
    response = AWSResponse(request.url, 200, {PROBE_HEADER: "1"}, None)
    response._content = b""  # what AWSResponse.content reads
    return response


class Limiter:
    """Requests in flight, at most `limit`; the limit halves on throttling and grows by one
    per `limit` successes (AIMD), between 1 and `ceiling`."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = float(self.ceiling)
        self.in_flight = 0
        self.peak = 0
        self.throttled = 0
        self._cut_at = 0.0
        self._cond = threading.Condition()

    def acquire(self) -> None:
        with self._cond:
            while self.in_flight >= int(self.limit):
                self._cond.wait()
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def release(self, throttled: bool) -> None:
        with self._cond:
            self.in_flight -= 1
            now = time.monotonic()
            if throttled:
                self.throttled += 1
                if now - self._cut_at > 1.0:  # one cut per burst of throttles
                    self.limit, self._cut_at = max(1.0, self.limit / 2), now
            elif self.limit < self.ceiling:
                self.limit = min(float(self.ceiling), self.limit + 1 / self.limit)
            self._cond.notify_all()


class LeanReader:
    """Bucket facet reads for one account's clients (see the module docstring)."""

    def __init__(self, clients: Any, limiter: Limiter | None = None,
                 stop: threading.Event | None = None) -> None:
        self._clients = clients
        self.limiter = limiter or Limiter(clients.config.max_pool_connections)
        self.stop = stop
        self.deadline: float | None = None  # time.monotonic(): no new attempt after it
        self._templates: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
        self._documents: dict[str, Document] = {}
        self._lock = threading.Lock()
        self._retry: Any = None
        self._quota: Any = None

    def read(self, spec: FacetSpec, region: str | None, bucket: str) -> Mapping[str, Any] | None | AwsFailure:
        """One facet of one bucket: the botocore-shaped answer, None ("not configured") or the failure."""
        if spec.api not in READ_ONLY_OPERATIONS or not spec.api.startswith("Get") or spec.service != "s3":
            raise ReadOnlyViolation(f"s3audit is read-only; refusing {spec.service}:{spec.api}")
        client = self._clients.client("s3", region)
        if not VIRTUAL_HOSTABLE.match(bucket):
            return call(client, spec, Bucket=bucket)
        answered = self._answered_before_call(client, spec, bucket)
        if answered is not _UNANSWERED:
            found: Mapping[str, Any] | None | AwsFailure = answered
            return found
        try:
            url, headers, document = self._template(client, spec, region)
        except NoCredentialsError as exc:
            return failure(exc, spec.api)
        raw = self._send(client, spec, url.replace(PROBE, bucket), headers, document)
        if isinstance(raw, AwsFailure) and raw.code in REDIRECT_CODES:
            return call(client, spec, Bucket=bucket)
        return raw

    def _answered_before_call(self, client: Any, spec: FacetSpec, bucket: str) -> Any:
        """What botocore's own `before-parameter-build` and `before-call` handlers say, as a
        client call would ask them: the read-only guard, and a botocore Stubber's recorded
        answer (tests read through this path with recorded answers)."""
        events = client.meta.events
        model = client.meta.service_model.operation_model(spec.api)
        service = model.service_model.service_id.hyphenize()
        params = {"Bucket": bucket}
        context = {"input_params": params}  # as botocore's request context carries them
        request = {"method": "GET", "url_path": "", "query_string": {}, "headers": {}, "body": b"",
                   "context": context}
        _, response = events.emit_until_response(
            f"before-call.{service}.{spec.api}", model=model, params=request, request_signer=None,
            context=context)
        if response is None:
            return _UNANSWERED
        http, parsed = response
        if http.status_code < 300:
            return dict(parsed)
        return _final(spec, parsed, None)

    def _template(self, client: Any, spec: FacetSpec, region: str | None) -> tuple[str, dict[str, str], Document]:
        key = (region or "", spec.api)
        with self._lock:
            found = self._templates.get(key)
        if found is None:
            _probe.request = None
            getattr(client, spec.method)(Bucket=PROBE)  # stopped at before-send: nothing is sent
            request = _probe.request
            if request is None:
                raise RuntimeError(f"endpoint probe for {spec.api} sent nothing")
            headers = {k: str(v) for k, v in request.headers.items() if k in _KEEP_HEADERS}
            found = (str(request.url), headers)
            with self._lock:
                self._templates[key] = found
        url, headers = found
        return url, headers, self._document(client, spec)

    def _document(self, client: Any, spec: FacetSpec) -> Document:
        with self._lock:
            document = self._documents.get(spec.api)
            if document is None:
                model = client.meta.service_model.operation_model(spec.api)
                document = self._documents[spec.api] = Document(model.output_shape, spec.document, spec.api)
                if self._retry is None:
                    # the attempts botocore's own client makes (its max_attempts counts retries)
                    attempts = client.meta.config.retries.get("total_max_attempts", 5)
                    self._retry, self._quota = _retry_handler(attempts)
            return document

    def _stopped(self) -> str | None:
        if self.stop is not None and self.stop.is_set():
            return "Interrupted"
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return "DeadlineExceeded"
        return None

    def _send(self, client: Any, spec: FacetSpec, url: str, headers: Mapping[str, str],
              document: Document) -> Mapping[str, Any] | None | AwsFailure:
        model = client.meta.service_model.operation_model(spec.api)
        credentials = self._clients.session.get_credentials()
        if credentials is None:
            return failure(NoCredentialsError(), spec.api)
        context: dict[str, Any] = {}
        attempt = 0
        while True:
            attempt += 1
            if (why := self._stopped()) is not None:
                return AwsFailure(spec.api, why, "the read was not attempted: the run is ending")
            response, parsed, caught = self._attempt(client, spec.api, credentials, url, headers)
            if response is not None and response.status_code < 300:
                self._quota.release_retry_quota(context, response)
                try:
                    return document.parse(response.content)
                except (NotTheDocument, UnicodeDecodeError) as exc:
                    return AwsFailure(spec.api, "MalformedResponse",
                                      f"HTTP {response.status_code} "
                                      f"({response.headers.get('Content-Type', 'no content type')}): {exc}")
            delay = self._retry.needs_retry(
                response=None if response is None else (response, parsed), attempts=attempt,
                operation=model, caught_exception=caught, request_dict={"context": context})
            if delay is None:
                return _final(spec, parsed, caught)
            if self.stop is not None and self.stop.wait(delay):
                return AwsFailure(spec.api, "Interrupted", "the run was stopped during a retry backoff")
            if self.stop is None:
                time.sleep(delay)

    def _attempt(self, client: Any, api: str, credentials: Any, url: str, headers: Mapping[str, str],
                 ) -> tuple[AWSResponse | None, dict[str, Any] | None, Exception | None]:
        http = client._endpoint.http_session  # the client's own pool, proxies, certificates
        events, event = client.meta.events, f"before-send.s3.{api}"
        region = client.meta.region_name
        request = AWSRequest("GET", url, headers=dict(headers))
        S3SigV4Auth(credentials.get_frozen_credentials(), "s3", region).add_auth(request)
        self.limiter.acquire()
        throttled = False
        try:
            try:
                prepared = request.prepare()
                # Whatever stands in for the network at `before-send` (moto's in-process
                # mock) answers here as it would for the client; otherwise the client's
                # own HTTP session sends it.
                _, response = events.emit_until_response(event, request=prepared)
                if response is None:
                    response = http.send(prepared)
                body = response.content
            except HTTPClientError as exc:
                return None, None, exc
            if response.status_code < 300:
                return response, None, None
            code, message = error_of(body)
            code = code or str(response.status_code)
            throttled = code in THROTTLING_CODES or response.status_code in (429, 503)
            parsed = {"Error": {"Code": code, "Message": message},
                      "ResponseMetadata": {"HTTPStatusCode": response.status_code,
                                           "HTTPHeaders": dict(response.headers)}}
            return response, parsed, None
        finally:
            self.limiter.release(throttled)


def _final(spec: FacetSpec, parsed: Mapping[str, Any] | None, caught: Exception | None,
           ) -> Mapping[str, Any] | None | AwsFailure:
    if caught is not None:
        return failure(caught, spec.api)
    assert parsed is not None
    error = parsed["Error"]
    if error["Code"] in spec.absent_codes:
        return None
    return AwsFailure(spec.api, str(error["Code"]), str(error["Message"] or f"HTTP "
                      f"{parsed['ResponseMetadata']['HTTPStatusCode']}"))


def _retry_handler(max_attempts: int) -> tuple[Any, Any]:
    """botocore's standard-mode retry handler, as `register_retry_handler` builds it for S3."""
    adapter = standard.RetryEventAdapter()
    detector = standard.ThrottlingErrorDetector(adapter)
    checker = standard.RetryQuotaChecker(quota.RetryQuota(), detector)
    handler = standard.RetryHandler(
        retry_policy=standard.RetryPolicy(
            retry_checker=standard.StandardRetryConditions(max_attempts=max_attempts),
            retry_backoff=standard.ExponentialBackoff(service_name="s3", throttling_detector=detector),
        ),
        retry_event_adapter=adapter, retry_quota=checker, service_name="s3",
        sleep=lambda _: None,  # the caller sleeps (and wakes on the stop event)
    )
    return handler, checker


Read = Callable[[FacetSpec, str | None, str], Mapping[str, Any] | None | AwsFailure]
