"""A threaded HTTP server on 127.0.0.1 (an ephemeral port) with a small router."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeServer:
    """Subclass and define ``handle(method, path, params, headers, body) -> (status, dict|bytes, headers)``.

    ``broken``: answer 503 to everything; ``slow``: seconds to sleep before answering;
    ``fail_next``: answer 503 to the next N requests (then recover) — an outage with retries."""

    def __init__(self, port: int = 0):
        self.broken = False
        self.slow = 0.0
        self.fail_next = 0
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _run(self, method):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                params = parse_qs(parts.query, keep_blank_values=True)
                if method == "POST" and "form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items():
                        params.setdefault(k, []).extend(v)
                server.requests.append((method, parts.path))
                if server.slow:
                    time.sleep(server.slow)
                if server.broken or server.fail_next > 0:
                    server.fail_next = max(0, server.fail_next - 1)
                    status, payload, headers = 503, b"<html>Service Unavailable</html>", {}
                else:
                    status, payload, headers = server.handle(method, parts.path, params, self.headers, body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    if "Content-Type" not in headers:
                        self.send_header("Content-Type", "application/json; charset=utf-8"
                                         if not isinstance(payload, bytes) else "text/html")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self):
                self._run("GET")

            def do_POST(self):
                self._run("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, method, path, params, headers, body):  # pragma: no cover — overridden
        return 404, {}, {}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
