"""A threaded forwarding HTTP proxy on 127.0.0.1 that adds a fixed latency per request.

It stands in for the network between s3audit and AWS: every request sleeps `latency` seconds
(one AWS round trip) and is then forwarded to the upstream (a moto server) over a pool of
keep-alive `http.client` connections, so the proxy is not the bottleneck. It counts requests
per operation (S3 sub-resource, S3 Control path, KMS/STS action), the HTTP statuses, the CPU
its own threads spend and the time the upstream takes to answer, and can record the request
mix so that `replay` can send exactly the same requests straight to the upstream.
"""

from __future__ import annotations

import http.client
import itertools
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Hop-by-hop headers (RFC 9110 §7.6.1) plus the ones the proxy sets itself.
_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    "content-length",
})

# GET on a bucket sub-resource -> the API operation, as CloudTrail spells it.
S3_GET_SUBRESOURCES: Mapping[str, str] = {
    "versioning": "GetBucketVersioning",
    "encryption": "GetBucketEncryption",
    "publicAccessBlock": "GetPublicAccessBlock",
    "policy": "GetBucketPolicy",
    "policyStatus": "GetBucketPolicyStatus",
    "acl": "GetBucketAcl",
    "ownershipControls": "GetBucketOwnershipControls",
    "lifecycle": "GetBucketLifecycleConfiguration",
    "cors": "GetBucketCors",
    "website": "GetBucketWebsite",
    "location": "GetBucketLocation",
    "tagging": "GetBucketTagging",
    "logging": "GetBucketLogging",
    "replication": "GetBucketReplication",
    "notification": "GetBucketNotificationConfiguration",
    "object-lock": "GetObjectLockConfiguration",
}
_S3CONTROL = {"/v20180820/configuration/publicAccessBlock": "PublicAccessBlock"}
_SCOPE = re.compile(r"Credential=[^/,]+/[^/,]+/[^/,]+/([^/,]+)/")


def operation(method: str, path: str, headers: Mapping[str, str] | Message, body: bytes) -> str:
    """A stable label for one request: "service:Operation" where it can tell, else method + shape."""
    target = headers.get("X-Amz-Target")
    scope = _SCOPE.search(headers.get("Authorization", ""))
    service = scope.group(1) if scope else "?"
    if target:  # JSON protocols (KMS: TrentService.DescribeKey)
        return f"{'kms' if target.startswith('TrentService') else service}:{target.rsplit('.', 1)[-1]}"
    split = urlsplit(path)
    if split.path.startswith("/v20180820/"):
        name = _S3CONTROL.get(split.path, split.path)
        verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, method)
        return f"s3control:{verb}{name}"
    if method == "POST" and body[:7] == b"Action=":  # query protocols (STS, IAM, ...)
        action = parse_qs(body.decode("ascii", "replace")).get("Action", ["?"])[0]
        return f"{service}:{action}"
    keys = sorted(parse_qs(split.query, keep_blank_values=True))
    segments = [s for s in split.path.split("/") if s]
    if not segments:
        return "s3:ListBuckets" if method == "GET" else f"s3:{method} /"
    if len(segments) == 1 and method == "GET":
        for key in keys:
            if key in S3_GET_SUBRESOURCES:
                return "s3:" + S3_GET_SUBRESOURCES[key]
    shape = "bucket" if len(segments) == 1 else "object"
    return f"s3:{method} {shape}?{'&'.join(keys)}"


@dataclass
class Stats:
    """What the proxy saw since the last `reset`."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    proxy_cpu: float = 0.0  # CPU seconds the proxy's threads spent (parse, forward, write)
    upstream_wall: float = 0.0  # summed seconds between sending upstream and its full answer
    max_in_flight: int = 0

    @property
    def total(self) -> int:
        return sum(self.requests.values())


@dataclass(frozen=True, slots=True)
class Recorded:
    label: str
    method: str
    path: str
    body: bytes


class LatencyProxy:
    def __init__(self, upstream_port: int, latency: float = 0.0, upstream_host: str = "127.0.0.1",
                 paginate_listing: bool = True) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.latency = latency
        # moto (5.2) answers ListBuckets?max-buckets=N with the first N buckets and no
        # ContinuationToken, so a paginating client never sees bucket N+1. AWS paginates;
        # with this on, the proxy does what AWS does (see `list_page`).
        self.paginate_listing = paginate_listing
        self._listing: bytes | None = None  # moto's full listing, fetched once per `reset`
        self.stats = Stats()
        self.recording: list[Recorded] | None = None
        self.recording_done: list[Recorded] | None = None  # what `reset` stopped recording
        self.templates: dict[str, dict[str, str]] = {}  # one request's headers per label
        self._lock = threading.Lock()
        self._idle: list[http.client.HTTPConnection] = []  # LIFO pool of upstream connections
        self._in_flight = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as one write anyway
            timeout = 300  # an idle client connection is dropped eventually

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                cpu = time.thread_time()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                label = operation(self.command, self.path, self.headers, body)
                proxy._enter()
                try:
                    if proxy.latency > 0:
                        time.sleep(proxy.latency)  # uses no CPU: thread_time stands still
                    if label == "s3:ListBuckets" and proxy.paginate_listing:
                        status, reason, headers, data, upstream = proxy.list_page(
                            self.path, body, self.headers.items())
                    else:
                        status, reason, headers, data, upstream = proxy.forward(
                            self.command, self.path, body, self.headers.items())
                finally:
                    proxy._leave()
                out = [f"HTTP/1.1 {status} {reason}\r\n".encode("latin-1")]
                out += [f"{k}: {v}\r\n".encode("latin-1") for k, v in headers
                        if k.lower() not in _HOP or (k.lower() == "content-length" and self.command == "HEAD")]
                if self.command != "HEAD":
                    out.append(f"Content-Length: {len(data)}\r\n".encode("latin-1"))
                out += [b"\r\n", data]
                self.wfile.write(b"".join(out))
                proxy._account(label, status, time.thread_time() - cpu, upstream, self, body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024  # the default listen backlog of 5 drops bursts of connects

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="latency-proxy", daemon=True)

    # -- forwarding --------------------------------------------------------------------------

    def forward(
        self, method: str, path: str, body: bytes, headers: Iterable[tuple[str, str]]
    ) -> tuple[int, str, list[tuple[str, str]], bytes, float]:
        """Send one request upstream on a pooled keep-alive connection; retry once on a stale one.

        Returns status, reason, headers, body and the seconds the upstream took to answer.
        """
        hdrs = {k: v for k, v in headers if k.lower() not in _HOP}
        for attempt in (0, 1):
            conn = self._take()
            started = time.perf_counter()
            try:
                conn.request(method, path, body, hdrs)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, OSError) as exc:
                conn.close()
                if attempt:
                    msg = f"proxy: upstream failed: {exc!r}".encode()
                    return 502, "Bad Gateway", [("Content-Type", "text/plain")], msg, 0.0
                continue
            waited = time.perf_counter() - started
            if resp.will_close:
                conn.close()
            else:
                self._give(conn)
            return resp.status, resp.reason, resp.getheaders(), data, waited
        raise AssertionError("unreachable")

    def list_page(
        self, path: str, body: bytes, headers: Iterable[tuple[str, str]]
    ) -> tuple[int, str, list[tuple[str, str]], bytes, float]:
        """ListBuckets as AWS pages it: `max-buckets` per page and a ContinuationToken."""
        query = parse_qs(urlsplit(path).query)
        if "max-buckets" not in query:
            return self.forward("GET", path, body, headers)
        upstream = 0.0
        with self._lock:
            full = self._listing
        if full is None:
            status, reason, hdrs, full, upstream = self.forward("GET", "/", body, headers)
            if status != 200:
                return status, reason, hdrs, full, upstream
            with self._lock:
                self._listing = full
        text = full.decode()
        buckets = re.findall(r"<Bucket>.*?</Bucket>", text, re.DOTALL)
        start = int(query.get("continuation-token", ["0"])[0] or 0)
        size = int(query["max-buckets"][0])
        page = buckets[start:start + size]
        if buckets:
            head = text[: text.index(buckets[0])]
            tail = text[text.rindex(buckets[-1]) + len(buckets[-1]):]
            token = f"<ContinuationToken>{start + size}</ContinuationToken>" if start + size < len(buckets) else ""
            tail = tail.replace("</ListAllMyBucketsResult>", token + "</ListAllMyBucketsResult>")
            text = head + "".join(page) + tail
        return 200, "OK", [("Content-Type", "application/xml")], text.encode(), upstream

    def _take(self) -> http.client.HTTPConnection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        return conn

    def _give(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < 512:
                self._idle.append(conn)
                return
        conn.close()

    # -- accounting --------------------------------------------------------------------------

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _account(self, label: str, status: int, cpu: float, upstream: float,
                 handler: BaseHTTPRequestHandler, body: bytes) -> None:
        with self._lock:
            stats = self.stats
            stats.requests[label] += 1
            stats.statuses[(label, status)] += 1
            stats.proxy_cpu += cpu
            stats.upstream_wall += upstream
            if self.recording is not None:
                self.recording.append(Recorded(label, handler.command, handler.path, body))
                if label not in self.templates:
                    self.templates[label] = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}

    def reset(self, record: bool = False) -> Stats:
        """Start counting afresh (and recording the request mix, if asked); returns the old stats."""
        with self._lock:
            old, self.stats = self.stats, Stats()
            self._listing = None
            self.recording_done, self.recording = self.recording, [] if record else None
            if record:
                self.templates = {}
        return old

    def start(self) -> LatencyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def replay(
    port: int, requests: Sequence[Recorded], templates: Mapping[str, Mapping[str, str]],
    concurrency: int, host: str = "127.0.0.1",
) -> tuple[float, Counter[int]]:
    """Send `requests` straight to the server with `concurrency` keep-alive clients, no latency.

    Each request reuses the headers recorded for its operation (moto does not check
    signatures), so the server sees the same mix the audit made. Returns the wall time and
    the count of each HTTP status.
    """
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    index = itertools.count()  # next() on a count is atomic under the GIL
    failures: list[BaseException] = []

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=120)
        seen: Counter[int] = Counter()
        try:
            while (i := next(index)) < len(requests):
                r = requests[i]
                conn.request(r.method, r.path, r.body, dict(templates[r.label]))
                resp = conn.getresponse()
                resp.read()
                seen[resp.status] += 1
                if resp.will_close:
                    conn.close()
        except BaseException as exc:
            failures.append(exc)
        finally:
            conn.close()
            with lock:
                statuses.update(seen)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, concurrency))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"replay failed: {failures[0]!r}") from failures[0]
    return elapsed, statuses


# -- the same proxy in a process of its own (to keep its threads off the auditor's GIL) ---------


def _serve(conn: Any, upstream_port: int, latency: float) -> None:
    proxy = LatencyProxy(upstream_port, latency).start()
    conn.send(proxy.port)
    while True:
        command, arg = conn.recv()
        if command == "latency":
            proxy.latency = arg
            conn.send(None)
        elif command == "reset":
            stats = proxy.reset(record=arg)
            conn.send((stats, proxy.recording_done, proxy.templates))
        elif command == "stop":
            proxy.stop()
            conn.send(None)
            return


class ProxyProcess:
    """A LatencyProxy in a child process, driven over a pipe; same interface as LatencyProxy."""

    def __init__(self, upstream_port: int, latency: float = 0.0) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, upstream_port, latency), daemon=True)
        self._latency = latency
        self.recording_done: list[Recorded] | None = None
        self.templates: dict[str, dict[str, str]] = {}

    def start(self) -> ProxyProcess:
        self.process.start()
        self.port = self._conn.recv()
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    @property
    def latency(self) -> float:
        return self._latency

    @latency.setter
    def latency(self, value: float) -> None:
        self._conn.send(("latency", value))
        self._conn.recv()
        self._latency = value

    def reset(self, record: bool = False) -> Stats:
        self._conn.send(("reset", record))
        stats: Stats
        stats, recording, templates = self._conn.recv()
        self.recording_done = recording
        self.templates = templates
        return stats

    def stop(self) -> None:
        if self.process.is_alive():
            self._conn.send(("stop", None))
            self._conn.recv()
        self.process.join(timeout=10)
