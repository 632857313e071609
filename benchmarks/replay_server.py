"""An in-memory replay server on 127.0.0.1: recorded moto answers, served from memory.

The server stands in for AWS, where the server side is never the bottleneck: every request
is answered after a fixed latency from a table of answers recorded from a moto server for
one template bucket (label -> status, content type, body), with the template bucket's name
replaced by the bucket the request names. ListBuckets is generated for any number of
buckets and paged as AWS pages it (`max-buckets`, `continuation-token`), with `BucketRegion`
in each entry when the request carries a parameter (as AWS does) and `with_region` is on.

It runs in a process of its own (`ReplayProcess`) so that its CPU is never counted as the
auditor's; it counts requests per operation, HTTP statuses and the peak of requests in flight.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from latency_proxy import operation

Answer = tuple[int, str, bytes]  # status, content type, body


@dataclass
class ReplayStats:
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    max_in_flight: int = 0

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def listing_page(names: list[str], region: str | None, query: Mapping[str, list[str]]) -> bytes:
    """One ListBuckets page: everything when unpaged, else `max-buckets` from the token on."""
    start = int((query.get("continuation-token") or ["0"])[0] or 0)
    size = int((query.get("max-buckets") or [str(len(names) + 1)])[0])
    paged = bool(query)
    page = names[start:start + size]
    entries = "".join(
        f"<Bucket><Name>{escape(n)}</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate>"
        + (f"<BucketRegion>{region}</BucketRegion>" if paged and region else "") + "</Bucket>"
        for n in page)
    token = (f"<ContinuationToken>{start + size}</ContinuationToken>"
             if paged and start + size < len(names) else "")
    return (f'<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult '
            f'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>bench</ID></Owner>'
            f"<Buckets>{entries}</Buckets>{token}</ListAllMyBucketsResult>").encode()


class ReplayServer:
    def __init__(self, answers: Mapping[str, Answer], names: list[str], template: str,
                 latency: float = 0.0, region: str | None = None) -> None:
        self.answers = dict(answers)
        self.names = names
        self.template = template.encode()
        self.latency = latency
        self.region = region
        self.stats = ReplayStats()
        self._lock = threading.Lock()
        self._in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            timeout = 300

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                label = operation(self.command, self.path, self.headers, body)
                server._enter()
                try:
                    if server.latency > 0:
                        time.sleep(server.latency)
                    status, ctype, data = server.answer(label, self.path)
                finally:
                    server._leave(label, status)
                head = (f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\n"
                        f"Content-Length: {len(data)}\r\nx-amz-request-id: replay\r\n\r\n")
                self.wfile.write(head.encode("latin-1") + data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    def answer(self, label: str, path: str) -> Answer:
        split = urlsplit(path)
        if label == "s3:ListBuckets":
            return 200, "application/xml", listing_page(self.names, self.region, parse_qs(split.query))
        recorded = self.answers.get(label)
        if recorded is None:
            return 400, "text/plain", f"replay: nothing recorded for {label}".encode()
        status, ctype, data = recorded
        bucket = split.path.strip("/").split("/", 1)[0].encode()
        return status, ctype, data.replace(self.template, bucket) if bucket else data

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self._in_flight)

    def _leave(self, label: str, status: int) -> None:
        with self._lock:
            self._in_flight -= 1
            self.stats.requests[label] += 1
            self.stats.statuses[(label, status)] += 1

    def reset(self) -> ReplayStats:
        with self._lock:
            old, self.stats = self.stats, ReplayStats()
        return old


def _serve(conn: Any, answers: Mapping[str, Answer], names: list[str], template: str,
           latency: float, region: str | None) -> None:
    server = ReplayServer(answers, names, template, latency, region)
    threading.Thread(target=server.server.serve_forever, daemon=True).start()
    conn.send(server.port)
    while True:
        command, arg = conn.recv()
        if command == "reset":
            conn.send(server.reset())
        elif command == "configure":
            server.names, server.latency, server.region = arg
            conn.send(None)
        elif command == "stop":
            server.server.shutdown()
            conn.send(None)
            return


class ReplayProcess:
    """A ReplayServer in a child process (its CPU is not the auditor's), driven over a pipe."""

    def __init__(self, answers: Mapping[str, Answer], template: str) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, dict(answers), [], template, 0.0, None),
                                       daemon=True)

    def start(self) -> ReplayProcess:
        self.process.start()
        self.port = self._conn.recv()
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def configure(self, names: list[str], latency: float, region: str | None) -> None:
        self._conn.send(("configure", (names, latency, region)))
        self._conn.recv()

    def reset(self) -> ReplayStats:
        self._conn.send(("reset", None))
        stats: ReplayStats = self._conn.recv()
        return stats

    def stop(self) -> None:
        if self.process.is_alive():
            self._conn.send(("stop", None))
            self._conn.recv()
        self.process.join(timeout=10)
