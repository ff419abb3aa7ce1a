"""A real HTTP server on loopback playing webhook receivers: it records every POST and answers
each path as the test scripted it."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["HookServer", "ReceivedHook"]

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedHook:
    """One POST as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body, decoded."""
        return json.loads(self.body)


class HookServer:
    """Receivers at `url(name)`; each answers 200 unless `answer(name, ...)` says otherwise."""

    def __init__(self) -> None:
        self.received: list[ReceivedHook] = []
        self._scripts: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((HOST, 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                name = self.path.strip("/")
                status = outer._record(ReceivedHook(name, dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass  # keep test output clean

        return Handler

    def _record(self, hook: ReceivedHook) -> int:
        with self._lock:
            self.received.append(hook)
            script = self._scripts.get(hook.path) or [200]
            return script.pop(0) if len(script) > 1 else script[0]

    def url(self, name: str) -> str:
        """The address of one receiver."""
        return f"http://{HOST}:{self._server.server_address[1]}/{name}"

    def answer(self, name: str, *statuses: int) -> None:
        """Answer the next POSTs to `name` with these statuses in turn; the last one repeats."""
        with self._lock:
            self._scripts[name] = list(statuses)

    def posts_to(self, name: str) -> list[ReceivedHook]:
        """What one receiver got, oldest first."""
        with self._lock:
            return [h for h in self.received if h.path == name]

    def __enter__(self) -> HookServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
