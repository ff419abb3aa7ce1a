"""`rightful serve` as an operator runs it: on uvloop and httptools (dependencies, decision
0019's 2026-12-06 section), in one process and in several (`--workers N`), with the embedded worker
still doing each piece of work once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import requires
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from sqlalchemy import func, select

from rightful.core.runtime import Runtime
from rightful.messaging.models import OutboxMessage
from rightful.security.models import AuditEvent
from tests.support.app import AVERY, latest_code, make_settings, officer_token
from tests.support.app import prepare as prepare_store
from tests.support.services import SmtpTestServer

RIGHTFUL = Path(sys.executable).parent / "rightful"
REQUESTS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(runtime: Runtime, port: int, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """`rightful serve --port PORT ARGS` on the runtime's store, until /healthz answers; stopped
    with SIGTERM (as a service manager does) afterwards."""
    settings = runtime.settings
    env = {
        **os.environ,
        "RIGHTFUL_DATA_DIR": str(settings.data_dir),
        "RIGHTFUL_SECRET_KEY": settings.secret_key,
        "RIGHTFUL_DATABASE_URL": settings.resolved_database_url,
        "RIGHTFUL_BASE_URL": settings.base_url,
        "RIGHTFUL_SMTP_URL": settings.smtp_url,
        "RIGHTFUL_REQUIRE_APPROVAL": "true",
        "RIGHTFUL_CODES_PER_IDENTITY_PER_HOUR": "100",
        "RIGHTFUL_REQUESTS_PER_ADDRESS_PER_HOUR": "100",
    }
    process = subprocess.Popen(
        [str(RIGHTFUL), "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180  # several interpreters start on a busy machine
        while not _answers(f"http://127.0.0.1:{port}/healthz"):
            assert process.poll() is None, "rightful serve stopped while starting"
            assert time.monotonic() < deadline, "rightful serve never answered"
            time.sleep(0.2)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _server_processes(pid: int) -> list[int]:
    """The processes `rightful serve` started that listen (the socket it bound and handed
    them): uvicorn's server processes, not its resource tracker."""
    return [p for p in _children(pid) if _listens(p)]


def _listens(pid: int) -> bool:
    inodes = {
        line.split()[9]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[3] == "0A"  # TCP_LISTEN
    }
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


@pytest.fixture
def store(tmp_path: Path, smtp_server: SmtpTestServer) -> Iterator[tuple[Runtime, str, int]]:
    """A store with the demo estate, a staff member's API token, and the port to serve on."""
    port = _free_port()
    settings = make_settings(
        tmp_path, smtp_url=smtp_server.url, base_url=f"http://127.0.0.1:{port}"
    )
    runtime = prepare_store(settings)
    token = officer_token(runtime)
    yield runtime, token, port
    runtime.engine.dispose()


def _access_request(http: httpx.Client, runtime: Runtime) -> str:
    """Submit, verify with the e-mailed code and approve, through the API; the request's id."""
    body = {"request_type": "access", "date_range": "all", "declaration_signature": "Avery Quinn"}
    answer = http.post("/api/v1/rights-requests", json=body | AVERY)
    assert answer.status_code == 201, answer.text
    rid: str = answer.json()["id"]
    code = latest_code(runtime, rid)
    assert http.post(f"/api/v1/rights-requests/{rid}/verify", json={"code": code}).is_success
    assert http.post(f"/api/v1/rights-requests/{rid}/approve").is_success
    return rid


def _wait(what: str, done: object, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.3)


def _runs_on_uvloop_and_httptools(pid: int) -> bool:
    """Whether the process has loaded the compiled event loop and HTTP parser (asyncio's loop
    and h11 load neither)."""
    loaded = Path(f"/proc/{pid}/maps").read_text()
    return "/uvloop/loop." in loaded and "/httptools/parser/parser." in loaded


def test_uvloop_and_httptools_are_dependencies() -> None:
    required = {Requirement(r).name for r in requires("rightful") or []}
    assert {"uvloop", "httptools"} <= required


def test_serve_runs_on_uvloop_and_httptools(store: tuple[Runtime, str, int]) -> None:
    runtime, _, port = store
    with served(runtime, port) as process:
        assert _runs_on_uvloop_and_httptools(process.pid)


def test_serve_with_two_workers_answers_from_two_processes_and_does_the_work_once(
    store: tuple[Runtime, str, int], smtp_server: SmtpTestServer
) -> None:
    runtime, token, port = store
    headers = {"Authorization": f"Bearer {token}"}
    with (
        served(runtime, port, "--workers", "2") as process,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as http,
    ):
        servers = _server_processes(process.pid)
        assert len(servers) == 2
        assert all(_runs_on_uvloop_and_httptools(pid) for pid in servers)
        ids = [_access_request(http, runtime) for _ in range(REQUESTS)]

        def statuses() -> list[str]:
            return [http.get(f"/api/v1/rights-requests/{rid}").json()["status"] for rid in ids]

        _wait("the requests to complete", lambda: statuses() == ["completed"] * REQUESTS)
        for rid in ids:
            package = http.get(f"/api/v1/rights-requests/{rid}/package")
            assert package.status_code == 200 and package.content[:2] == b"PK"
        mail = select(func.count()).select_from(OutboxMessage)
        mail = mail.where(OutboxMessage.request_id.in_(ids))

        def unsent() -> int | None:
            with runtime.sessions() as session:
                return session.scalar(mail.where(OutboxMessage.status != "sent"))

        _wait("every e-mail to be sent", lambda: unsent() == 0)
        time.sleep(2)  # a second sending of anything would arrive in this time
    with runtime.sessions() as session:
        completed = session.scalars(
            select(AuditEvent.subject_id).where(AuditEvent.action == "request.completed")
        ).all()
        sent = session.scalar(mail)
    assert sorted(completed) == sorted(ids)  # each request executed once
    received = [m for m in smtp_server.messages if m.is_addressed_to(AVERY["email"])]
    assert len(received) == sent  # each e-mail sent once
