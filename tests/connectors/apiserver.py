"""A real HTTP server on loopback playing a vendor's API: routes, scripted faults, a call log."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Asked:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    groups: tuple[str, ...] = ()


@dataclass
class Answer:
    """What the server says back."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Asked], Answer]


class APIServer:
    """Routes by method and path pattern; `fail` queues answers given before the route's."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults: list[tuple[str, str, Answer]] = []
        self.log: list[Asked] = []
        self.lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                kind = self.headers.get("Content-Type") or ""
                body: Any = raw.decode() if raw else None
                if raw and "json" in kind:
                    body = json.loads(raw)
                elif raw and "x-www-form-urlencoded" in kind:
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                asked = Asked(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    dict(self.headers),
                    body,
                )
                answer = outer.answer(asked)
                data = b"" if answer.body is None else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                if "Content-Type" not in answer.headers:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register a handler for a method and a path regex (groups passed in `groups`)."""

        def add(handler: Handler) -> Handler:
            self.routes.append((method, re.compile(f"^{pattern}$"), handler))
            return handler

        return add

    def fail(self, method: str, path_prefix: str, *answers: Answer) -> None:
        """Answer the next matching requests with these answers, in order."""
        with self.lock:
            self.faults.extend((method, path_prefix, a) for a in answers)

    def answer(self, asked: Asked) -> Answer:
        """A queued fault, else the route's answer, else 404."""
        with self.lock:
            self.log.append(asked)
            for i, (method, prefix, answer) in enumerate(self.faults):
                if method == asked.method and asked.path.startswith(prefix):
                    del self.faults[i]
                    return answer
        for method, pattern, handler in self.routes:
            found = pattern.match(asked.path)
            if method == asked.method and found:
                asked.groups = found.groups()
                return handler(asked)
        return Answer(404, {"error": {"message": "No such route"}})

    def calls(self, method: str, path_prefix: str) -> list[Asked]:
        """Requests received for a method and path prefix."""
        return [a for a in self.log if a.method == method and a.path.startswith(path_prefix)]


@contextmanager
def serving(server: APIServer) -> Iterator[APIServer]:
    """Run the server for the block."""
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def page_after(rows: list[dict[str, Any]], after: str | None, limit: int) -> tuple[list[Any], bool]:
    """A cursor page: the rows after the one whose id is `after`, and whether more follow."""
    start = 0
    if after is not None:
        ids = [str(r["id"]) for r in rows]
        start = ids.index(after) + 1 if after in ids else len(rows)
    chunk = rows[start : start + limit]
    return chunk, start + limit < len(rows)
