"""A local stand-in for DROP's Data Broker API, following its published specification.

GET /data/download answers 202 (Retry-After) while a ZIP is "prepared", 200 with the ZIP, or
200 with a JSON message when nothing is new; POST /data/upload and /data/amend take CSV files
in the multipart field `files`, check each (a .csv, header `Id,Status`, codes 2-5, a name not
uploaded before for this download) and answer 202 or 400 with accepted and rejected files.
Every call needs the X-API-KEY header (401 otherwise); a 429 can be asked for once.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NOTHING_NEW = (
    "No new consumer request data or removed identifiers are available since your last "
    "completed download."
)


@dataclass
class DropState:
    """What the stand-in holds and what it was sent."""

    key: str
    ready: list[tuple[str, bytes]] = field(default_factory=list)  # ZIPs to hand out, in order
    preparing: int = 0  # how many 202 answers come before the next ZIP
    throttle: int = 0  # how many 429 answers come first
    uploads: dict[str, str] = field(default_factory=dict)  # file name -> text
    amended: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)


def _check(name: str, text: str, seen: dict[str, str]) -> str | None:
    if not name.endswith(".csv"):
        return "Only CSV files are accepted."
    lines = text.splitlines()
    if not lines or lines[0] != "Id,Status":
        return "Invalid CSV header. Expected: Id,Status."
    if any(line.rsplit(",", 1)[-1] not in {"2", "3", "4", "5"} for line in lines[1:]):
        return "Status codes must be 2, 3, 4 or 5."
    if name in seen:
        return (
            "A file with this name was already uploaded for the current download. "
            "Use a unique suffix and try again"
        )
    return None


def _handler(state: DropState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, body: dict[str, Any], **headers: str) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _allowed(self) -> bool:
            state.calls.append(f"{self.command} {self.path}")
            if self.headers.get("X-API-KEY") != state.key:
                self._json(401, {"message": "API key is missing or invalid."})
                return False
            if state.throttle:
                state.throttle -= 1
                self._json(429, {"message": "Too many requests."}, **{"Retry-After": "1"})
                return False
            return True

        def do_GET(self) -> None:
            if not self._allowed():
                return
            if self.path != "/data/download":
                self._json(404, {"message": "The requested endpoint was not found."})
            elif not state.ready:
                self._json(200, {"message": NOTHING_NEW})
            elif state.preparing:
                state.preparing -= 1
                self._json(
                    202, {"message": "The package is being created."}, **{"Retry-After": "1"}
                )
            else:
                name, data = state.ready.pop(0)
                state.uploads.clear()  # a new download: names may be used again
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Disposition", f'attachment; filename="{name}"')
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        def do_POST(self) -> None:
            if not self._allowed():
                return
            if self.path not in ("/data/upload", "/data/amend"):
                self._json(404, {"message": "The requested endpoint was not found."})
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            head = f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode()
            message = email.parser.BytesParser(policy=email.policy.default).parsebytes(head + body)
            seen = state.amended if self.path == "/data/amend" else state.uploads
            accepted, rejected = [], []
            for part in message.iter_parts():
                if part.get_param("name", header="content-disposition") != "files":
                    continue
                name = part.get_filename() or ""
                text = part.get_payload(decode=True).decode()  # type: ignore[union-attr]
                why = _check(name, text, seen)
                if why:
                    rejected.append({"fileName": name, "message": why})
                else:
                    seen[name] = text
                    accepted.append({"fileName": name, "fileSizeBytes": len(text)})
            self._json(
                202 if accepted else 400,
                {
                    "message": "Upload received." if accepted else "Upload request is invalid.",
                    "acceptedCount": len(accepted),
                    "rejectedCount": len(rejected),
                    "accepted": accepted,
                    "rejected": rejected,
                },
            )

        def log_message(self, *args: object) -> None:
            pass

    return Handler


class DropServer:
    """The stand-in served on a loopback port while in a `with` block."""

    def __init__(self, key: str) -> None:
        self.state = DropState(key)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL (as RIGHTFUL_DROP_API_URL takes it)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> DropServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
