"""An HTTP shim in front of the moto server that answers S3's request-metrics sub-resource.

moto 5 does not implement request-metrics configurations: it takes
`PUT /bucket?metrics&id=X` for CreateBucket and answers `GET /bucket?metrics` with an empty
list whatever was put. The shim keeps them itself and answers with the XML S3 gives
(ListBucketMetricsConfigurations pages of `page_size`, with a continuation token), so the
audit's real read path and parser see real answers; everything else is forwarded to moto.
https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBucketMetricsConfigurations.html
"""

from __future__ import annotations

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
_XMLNS = re.compile(r'\s+xmlns="[^"]*"')
_DECL = re.compile(r"^<\?xml[^>]*\?>")


class MetricsShim:
    def __init__(self, upstream_port: int, page_size: int = 100) -> None:
        self.upstream_port = upstream_port
        self.page_size = page_size
        self.configs: dict[str, dict[str, str]] = {}  # bucket -> id -> <MetricsConfiguration> XML
        self.lock = threading.Lock()
        shim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = shim.answer(self.command, self.path, body)
                if answer is None:
                    answer = shim.forward(self.command, self.path, body, dict(self.headers))
                status, headers, data = answer
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> MetricsShim:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def forward(self, method: str, path: str, body: bytes,
                headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        if path.startswith("/moto-api/reset"):
            with self.lock:
                self.configs.clear()
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        conn.request(method, path, body, headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.getheaders(), data

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes] | None:
        split = urlsplit(path)
        query = parse_qs(split.query, keep_blank_values=True)
        bucket = split.path.strip("/")
        if "metrics" not in query or not bucket or "/" in bucket:
            return None
        config_id = (query.get("id") or [""])[0]
        with self.lock:
            stored = self.configs.setdefault(bucket, {})
            if method == "PUT":
                stored[config_id] = _DECL.sub("", _XMLNS.sub("", body.decode())).strip()
                return 200, [], b""
            if method == "DELETE":
                stored.pop(config_id, None)
                return 204, [], b""
            if config_id:
                if config_id not in stored:
                    return _error(404, "NoSuchConfiguration", "The specified configuration does not exist.")
                return _xml(stored[config_id].replace("<MetricsConfiguration>", f'<MetricsConfiguration xmlns="{_NS}">', 1))
            return _xml(self._page(stored, (query.get("continuation-token") or [""])[0]))

    def _page(self, stored: dict[str, str], token: str) -> str:
        ids = sorted(stored)
        start = int(token) if token.isdigit() else 0
        page = ids[start:start + self.page_size]
        more = start + self.page_size < len(ids)
        parts = [f'<ListMetricsConfigurationsResult xmlns="{_NS}">',
                 f"<IsTruncated>{str(more).lower()}</IsTruncated>"]
        if token:
            parts.append(f"<ContinuationToken>{token}</ContinuationToken>")
        if more:
            parts.append(f"<NextContinuationToken>{start + self.page_size}</NextContinuationToken>")
        parts += [stored[i] for i in page]
        parts.append("</ListMetricsConfigurationsResult>")
        return "".join(parts)


def _xml(text: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return 200, [("Content-Type", "application/xml")], f'<?xml version="1.0" encoding="UTF-8"?>{text}'.encode()


def _error(status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/xml")], (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    ).encode()
