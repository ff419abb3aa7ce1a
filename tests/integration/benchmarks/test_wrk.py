"""benchmarks/wrk.py: a real wrk run against a small HTTP server on loopback, and what it
reports checked against what the server received."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from benchmarks import wrk

pytestmark = pytest.mark.skipif(
    not any((Path(d) / "wrk").exists() for d in ("/usr/bin", "/usr/local/bin")),
    reason="needs wrk (apt-get install -y wrk)",
)


class Recorder(BaseHTTPRequestHandler):
    """Answers 404 to bodies containing `fail`, 200 with `{"ok":true}` to the rest, and
    records every body with its X-Forwarded-For."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    received: ClassVar[list[tuple[bytes, str]]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            self.received.append((body, self.headers["X-Forwarded-For"]))
        answer = b'{"ok":true}'
        self.send_response(404 if b"fail" in body else 200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass

    def handle(self) -> None:
        with contextlib.suppress(ConnectionResetError):  # wrk closes them at the end of a run
            super().handle()


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _write(path: Path, host: str, bodies: list[bytes]) -> None:
    wrk.write_requests(
        path,
        (
            wrk.render(host, "/events", body, {"X-Forwarded-For": f"10.0.{i >> 8}.{i & 255}"})
            for i, body in enumerate(bodies)
        ),
    )


def _received(expected: int) -> list[tuple[bytes, str]]:
    """What the server received, once the requests wrk left in flight are in."""
    deadline = time.monotonic() + 10
    while len(Recorder.received) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return list(Recorder.received)


def test_each_record_is_sent_once_and_the_answers_are_counted(server: str, tmp_path: Path) -> None:
    bodies = [b"fail %d" % i if i % 7 == 0 else b"body %d" % i for i in range(50_000)]
    requests = tmp_path / "requests.bin"
    _write(requests, server, bodies)

    result = wrk.run(
        f"http://{server}/",
        requests,
        connections=4,
        duration_s=1,
        threads=2,
        patterns=[("okay", '"ok":%s*true')],
    )

    sent = result.sent_records()
    received = _received(len(sent))
    assert result.wrapped == 0
    assert sorted(b for b, _ in received) == sorted(bodies[i] for i in sent)
    position = {body: i for i, body in enumerate(bodies)}
    assert all(xff == f"10.0.{position[b] >> 8}.{position[b] & 255}" for b, xff in received)
    assert result.answers > 100
    assert result.answers <= len(sent) <= result.answers + 4  # at most one in flight a connection
    assert sum(result.statuses.values()) == result.answers
    assert result.statuses[404] == result.non_2xx == result.errors["status"] > 0
    assert result.outcomes() == {"okay": result.statuses[200], "status 404": result.non_2xx}
    assert 0 < result.latency_ms["p50"] <= result.latency_ms["p99"] <= result.latency_ms["max"]
    assert result.cpu_s > 0


def test_a_thread_that_runs_out_starts_again_and_says_so(server: str, tmp_path: Path) -> None:
    requests = tmp_path / "requests.bin"
    _write(requests, server, [b"one", b"two", b"three"])

    result = wrk.run(f"http://{server}/", requests, connections=2, duration_s=1)

    assert result.records == (3,)
    assert result.wrapped == result.sent[0] - 3 > 0
    assert result.outcomes()["records reused"] == result.wrapped
    assert result.outcomes()["ok"] == result.answers


def test_without_wrk_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(wrk.WrkMissingError, match="apt-get install -y wrk"):
        wrk.require()


def test_output_without_the_result_line_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no result line"):
        wrk.parse("Running 1s test @ http://127.0.0.1:1/\n")
