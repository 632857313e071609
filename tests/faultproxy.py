"""A small HTTP proxy on 127.0.0.1 that forwards to a moto server and injects faults.

A fault matches on HTTP method, a path substring and a query key (S3 sub-resources are
query keys: ?policy, ?acl, ?cors ...), and answers with a canned status and S3-style
error body instead of forwarding, `times` times (None = forever). It also counts requests.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Fault:
    method: str
    path_contains: str
    query_key: str | None
    status: int
    code: str
    times: int | None = None
    reset: bool = False  # drop the connection without an answer (a connection reset)
    exact: bool = False  # path must equal path_contains (e.g. "/" for ListBuckets only)
    body_contains: bytes | None = None  # e.g. b"Action=AssumeRole" and a role ARN for STS
    answer: bytes | None = None  # answer this body (with `status`) instead of an S3 error
    content_type: str = "text/html"


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.faults: list[Fault] = []
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._match(self.command, self.path, body)
                if fault is not None and fault.reset:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault is not None and fault.answer is not None:
                    self.send_response(fault.status)
                    self.send_header("Content-Type", fault.content_type)
                    self.send_header("Content-Length", str(len(fault.answer)))
                    self.end_headers()
                    self.wfile.write(fault.answer)
                    return
                if fault is not None:
                    error = f"<Error><Code>{fault.code}</Code><Message>injected {fault.code}</Message></Error>"
                    if b"Action=" in body:  # query-protocol services (STS) wrap their errors
                        error = f"<ErrorResponse>{error}</ErrorResponse>"
                    payload = f"<?xml version='1.0' encoding='UTF-8'?>{error}".encode()
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                conn.request(self.command, self.path, body, dict(self.headers))
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _match(self, method: str, path: str, body: bytes = b"") -> Fault | None:
        split = urlsplit(path)
        query = parse_qs(split.query, keep_blank_values=True)
        with self._lock:
            self.requests[f"{method} {split.path}?{'&'.join(sorted(query))}"] += 1
            for fault in self.faults:
                if fault.method != method or fault.path_contains not in split.path:
                    continue
                if fault.exact and split.path != fault.path_contains:
                    continue
                if fault.body_contains is not None and fault.body_contains not in body:
                    continue
                if fault.query_key is not None and fault.query_key not in query:
                    continue
                if fault.query_key is None and query and method == "GET" and not fault.exact:
                    continue  # a fault on the bare bucket path must not hit its sub-resources
                if fault.times is not None:
                    if fault.times <= 0:
                        continue
                    fault.times -= 1
                return fault
        return None

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class StallServer:
    """An endpoint that accepts connections and then never answers (`drip=False`), or
    answers headers and then one body byte every half second (`drip=True`), until `release`."""

    def __init__(self, drip: bool = False) -> None:
        import socket

        self.drip = drip
        self.release = threading.Event()
        self.held = 0  # connections accepted and being held
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.release.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.held += 1
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: Any) -> None:
        with conn:
            conn.recv(65536)
            if self.drip:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 100000\r\n\r\n<")
            while not self.release.wait(0.5):
                if self.drip:
                    try:
                        conn.sendall(b" ")
                    except OSError:
                        return

    def stop(self) -> None:
        self.release.set()
        self._sock.close()
