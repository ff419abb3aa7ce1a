"""A real HTTP(S) server on loopback playing every receiver of Rightful's side effects (consent
webhooks, portability endpoints): it counts what it accepted per path and Idempotency-Key, and
can hold the n-th POST until released (then answers 503, having done nothing) — the moment a
test kills the worker that sent it."""

from __future__ import annotations

import ssl
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.https_receiver import make_certificates

__all__ = ["CountingReceiver"]

HOST = "127.0.0.1"


class CountingReceiver:
    """Receivers at `url(path)`: plain HTTP, or HTTPS with a test CA when `tls_folder` is
    given (`ca_file` is then what Rightful must trust)."""

    def __init__(self, *, tls_folder: Path | None = None, hold_nth: int | None = None) -> None:
        self.accepted: Counter[tuple[str, str]] = Counter()  # (path, Idempotency-Key)
        self.posts = 0
        self.hold_nth = hold_nth
        self.arrived, self.release = threading.Event(), threading.Event()
        self.lock = threading.Lock()
        self.ca_file: Path | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.posts += 1
                    held = outer.posts == outer.hold_nth
                if held:
                    outer.arrived.set()
                    assert outer.release.wait(180)
                    return self._answer(503)
                time.sleep(0.05)  # a receiver's real work: long enough for workers to overlap
                with outer.lock:
                    outer.accepted[(self.path.strip("/"), self.headers["Idempotency-Key"])] += 1
                self._answer(200)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.scheme, self.host = "http", HOST
        if tls_folder is not None:
            self.ca_file, cert, key = make_certificates(tls_folder)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme, self.host = "https", "localhost"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        """The address of one receiver."""
        return f"{self.scheme}://{self.host}:{self.server.server_address[1]}/{path}"

    def twice(self) -> list[tuple[str, str]]:
        """What was accepted more than once."""
        with self.lock:
            return [key for key, n in self.accepted.items() if n > 1]

    def close(self) -> None:
        """Answer a held POST and stop."""
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
