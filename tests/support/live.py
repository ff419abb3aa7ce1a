"""A live Rightful: uvicorn on a real port, the embedded worker on, mail out over real SMTP.

For browser tests, where a page talks to a server and the work happens off the request.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.security.permissions import system_actor
from rightful.security.service import create_staff
from rightful.web.app import create_app
from rightful.web.serving import UVICORN_OPTIONS
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, make_settings, prepare
from tests.support.services import SmtpTestServer

__all__ = ["LiveRightful", "live_rightful", "serve_rightful"]

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 20.0
SHUTDOWN_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class LiveRightful:
    """A running Rightful a browser can reach, and the staff member who can sign in to it."""

    base_url: str
    runtime: Runtime
    staff_email: str
    staff_password: str

    def url(self, path: str) -> str:
        """An absolute URL for a path on this server."""
        return f"{self.base_url}{path}"


def _listening_socket() -> socket.socket:
    """A loopback socket bound to a free port, handed to uvicorn so no one can take the port."""
    # Naming the protocol lets asyncio set TCP_NODELAY (with 0 it does not, and each
    # keep-alive answer waits ~44 ms for the peer's delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    return sock


def _wait_until_answering(server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
    """Block until the server has started and answers HTTP, or fail the test."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not thread.is_alive():
            pytest.fail("the live Rightful server stopped while starting", pytrace=False)
        if server.started:
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (our own http URL)
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
        time.sleep(0.05)
    pytest.fail(f"the live Rightful server did not answer {url} within {STARTUP_TIMEOUT_S}s")


def _stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    """Ask uvicorn to finish (running the lifespan shutdown, which stops the worker) and wait."""
    server.should_exit = True
    thread.join(timeout=SHUTDOWN_TIMEOUT_S)
    if thread.is_alive():
        pytest.fail(f"the live Rightful server did not stop within {SHUTDOWN_TIMEOUT_S}s")


@contextmanager
def serve_rightful(
    tmp_path: Path, smtp_server: SmtpTestServer, **overrides: object
) -> Iterator[LiveRightful]:
    """Rightful served by uvicorn on 127.0.0.1 with settings `overrides` (a mailbox, say)."""
    sock = _listening_socket()
    try:
        port = sock.getsockname()[1]
        base_url = f"http://{HOST}:{port}"
        settings = make_settings(tmp_path, smtp_url=smtp_server.url, base_url=base_url, **overrides)
        runtime = prepare(settings)
        with unit_of_work(runtime.sessions) as session:
            create_staff(
                session,
                email=STAFF_EMAIL,
                name="Olive Officer",
                password=STAFF_PASSWORD,
                actor=system_actor("test"),
            )
        app = create_app(runtime, start_worker=True)
        config = uvicorn.Config(
            app, host=HOST, port=port, log_level="warning", lifespan="on", **UVICORN_OPTIONS
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="rightful-live", daemon=True
        )
        thread.start()
        try:
            _wait_until_answering(server, thread, f"{base_url}/")
            yield LiveRightful(base_url, runtime, STAFF_EMAIL, STAFF_PASSWORD)
        finally:
            _stop(server, thread)
            runtime.engine.dispose()
            dispose_all()
    finally:
        sock.close()


@pytest.fixture
def live_rightful(tmp_path: Path, smtp_server: SmtpTestServer) -> Iterator[LiveRightful]:
    """Rightful served by uvicorn on 127.0.0.1, demo estate of 40 people, worker and SMTP on."""
    with serve_rightful(tmp_path, smtp_server) as live:
        yield live
