"""Small hostile HTTP servers on 127.0.0.1 for backup-account tests and the load script.

Each is a real server on a real socket (a thread of its own), stopped when the `with` ends:

- `huge`: answers every request with a 300 MB body (announced, or chunked without a length);
- `hang`: accepts the connection and never answers;
- `trickle`: answers headers, then one byte a second for ever;
- `plain`: an ordinary web server (HTML for GET, 405 for PROPFIND, 418 for the rest);
- `s3_no_etag`: answers like S3 but gives no ETag header;
- `s3_code`: answers every request with an S3 error whose <Code> names an internal service.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE_BYTES = 300 * 1024 * 1024
SECRET_CODE = "InternalBillingServiceUnavailable"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    kind = "plain"
    store: dict[str, bytes] = {}

    def log_message(self, *_args: object) -> None:  # quiet
        return

    def _drain(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_one_request(self) -> None:  # every method
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        if name.startswith("do_"):
            return self._any
        raise AttributeError(name)

    def _any(self) -> None:
        body = self._drain()
        getattr(self, "_" + self.kind)(body)

    def _huge(self, _body: bytes) -> None:
        chunked = "chunked" in self.path
        self.send_response(207 if self.command == "PROPFIND" else 200)
        self.send_header("Content-Type", "application/xml")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(HUGE_BYTES))
        self.end_headers()
        block = b"<" * (1024 * 1024)
        for _ in range(HUGE_BYTES // len(block)):
            if chunked:
                self.wfile.write(b"%x\r\n" % len(block) + block + b"\r\n")
            else:
                self.wfile.write(block)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _hang(self, _body: bytes) -> None:
        time.sleep(120)

    def _trickle(self, _body: bytes) -> None:
        self.send_response(207)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        for _ in range(120):
            self.wfile.write(b"<")
            self.wfile.flush()
            time.sleep(1)

    def _plain(self, _body: bytes) -> None:
        if self.command in ("GET", "HEAD"):
            self._send(200, b"<html><body>Router admin</body></html>", {"Content-Type": "text/html"})
        elif self.command == "PROPFIND":
            self._send(405, b"Method Not Allowed")
        else:
            self._send(418, b"I'm a teapot")

    def _s3_no_etag(self, body: bytes) -> None:
        key = self.path.split("?")[0]
        if self.command == "HEAD" and key.count("/") <= 1:
            self._send(200, b"")  # head_bucket
        elif self.command == "PUT":
            self.store[key] = body
            self._send(200, b"")  # no ETag header
        elif self.command in ("GET", "HEAD") and key in self.store:
            self._send(200, self.store[key])  # no ETag header
        elif self.command == "GET" and "list-type=2" in self.path:
            self._send(200, b'<?xml version="1.0"?><ListBucketResult><IsTruncated>false</IsTruncated>'
                            b"</ListBucketResult>", {"Content-Type": "application/xml"})
        else:
            self._send(404, b'<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>no</Message></Error>',
                       {"Content-Type": "application/xml"})

    def _s3_code(self, _body: bytes) -> None:
        self._send(500, f'<?xml version="1.0"?><Error><Code>{SECRET_CODE}</Code>'
                        f"<Message>billing at 10.0.0.7:5432 is down</Message></Error>".encode(),
                   {"Content-Type": "application/xml"})


@contextmanager
def hostile_server(kind: str) -> Iterator[str]:
    """Serve `kind` on 127.0.0.1; yields the base URL (http://127.0.0.1:PORT)."""
    handler = type(f"{kind}Handler", (_Handler,), {"kind": kind, "store": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_port() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never reads or answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
