"""Pytest fixtures that give tests real services: PostgreSQL, MariaDB, Redis, SMTP and Chromium.

A missing service skips the tests that need it, or fails them when CI=true.
Ports can be overridden with RIGHTFUL_TEST_PG_PORT, RIGHTFUL_TEST_MARIADB_PORT and
RIGHTFUL_TEST_REDIS_PORT; the browser binary with RIGHTFUL_CHROMIUM.

Over ~400 lines on purpose: one plugin module (listed in tests/conftest.py) keeps the five
services' shared skip-or-fail rule and the Playwright loop guard in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import fcntl
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

import psycopg
import pymysql
import pytest
import redis
from aiosmtpd.controller import Controller
from psycopg import sql
from redis.backoff import NoBackoff
from redis.retry import Retry

from rightful.consent import check_cache

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = [
    "ReceivedMail",
    "SmtpTestServer",
    "chromium_browser",
    "make_mariadb_db",
    "make_postgres_db",
    "mariadb_url",
    "page",
    "postgres_url",
    "redis_url",
    "running_in_ci",
    "service_unavailable",
    "smtp_server",
]

HOST = "127.0.0.1"
CONNECT_TIMEOUT_S = 2
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REDIS_TEST_DBS = range(10, 16)
NO_RETRY = Retry(NoBackoff(), 0)


def running_in_ci() -> bool:
    """Tell whether the run is a CI run, where every service is mandatory."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def service_unavailable(reason: str) -> NoReturn:
    """Skip the current test because a service is missing, or fail it under CI=true."""
    if running_in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _port(variable: str, default: int) -> int:
    """Read a service port from the environment, falling back to the standard one."""
    return int(os.environ.get(variable, default))


def _unique_db_name() -> str:
    """Name a throwaway test database."""
    return f"rf_test_{uuid.uuid4().hex[:16]}"


# --- PostgreSQL -------------------------------------------------------------------------


def _postgres_admin(port: int) -> psycopg.Connection[Any]:
    """Open an autocommit connection to the maintenance database (CREATE DATABASE needs it)."""
    conninfo = f"host={HOST} port={port} user=postgres dbname=postgres"
    return psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)


@pytest.fixture(scope="session")
def _postgres_port() -> int:
    """Probe PostgreSQL once per session; later tests reuse the cached skip or failure."""
    port = _port("RIGHTFUL_TEST_PG_PORT", 5432)
    try:
        with _postgres_admin(port):
            pass
    except psycopg.Error as exc:
        service_unavailable(f"PostgreSQL is not reachable at {HOST}:{port} as postgres: {exc}")
    return port


@pytest.fixture
def make_postgres_db(_postgres_port: int) -> Iterator[Callable[[], str]]:
    """Create fresh PostgreSQL databases on demand and drop them all at teardown."""
    created: list[str] = []

    def make() -> str:
        name = _unique_db_name()
        with _postgres_admin(_postgres_port) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return url(name)

    def url(name: str) -> str:
        return f"postgresql+psycopg://postgres@{HOST}:{_postgres_port}/{name}"

    yield make
    if created:
        for name in created:  # their listeners go before their stores (consent/check_cache.py)
            check_cache.stop_for(url(name))
        with _postgres_admin(_postgres_port) as conn:
            for name in created:
                # FORCE ends sessions a test left open (e.g. an engine nobody disposed).
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                conn.execute(drop.format(sql.Identifier(name)))


@pytest.fixture
def postgres_url(make_postgres_db: Callable[[], str]) -> str:
    """SQLAlchemy URL of a fresh, empty PostgreSQL database dropped after the test."""
    return make_postgres_db()


# --- MariaDB ----------------------------------------------------------------------------


def _mariadb_admin(port: int) -> pymysql.connections.Connection[Any]:
    """Open an autocommit connection to MariaDB as root without choosing a database."""
    return pymysql.connect(
        host=HOST,
        port=port,
        user="root",
        password="",
        charset="utf8mb4",
        connect_timeout=CONNECT_TIMEOUT_S,
        autocommit=True,
    )


@pytest.fixture(scope="session")
def _mariadb_port() -> int:
    """Probe MariaDB once per session; later tests reuse the cached skip or failure."""
    port = _port("RIGHTFUL_TEST_MARIADB_PORT", 3306)
    try:
        with _mariadb_admin(port):
            pass
    except pymysql.Error as exc:
        service_unavailable(f"MariaDB is not reachable at {HOST}:{port} as root: {exc}")
    return port


def _drop_mariadb_db(conn: pymysql.connections.Connection[Any], name: str) -> None:
    """Drop a test database after killing the sessions still using it."""
    with conn.cursor() as cur:
        # MariaDB has no DROP ... FORCE; an idle session holding a metadata lock blocks it.
        cur.execute(
            "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
            (name,),
        )
        for (session_id,) in cur.fetchall():
            # The session may have ended on its own meanwhile.
            with contextlib.suppress(pymysql.err.OperationalError):
                cur.execute("KILL CONNECTION %s", (int(session_id),))
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def make_mariadb_db(_mariadb_port: int) -> Iterator[Callable[[], str]]:
    """Create fresh MariaDB databases on demand and drop them all at teardown."""
    created: list[str] = []

    def make() -> str:
        name = _unique_db_name()
        with _mariadb_admin(_mariadb_port) as conn, conn.cursor() as cur:
            cur.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        created.append(name)
        return f"mysql+pymysql://root@{HOST}:{_mariadb_port}/{name}?charset=utf8mb4"

    yield make
    if created:
        with _mariadb_admin(_mariadb_port) as conn:
            for name in created:
                _drop_mariadb_db(conn, name)


@pytest.fixture
def mariadb_url(make_mariadb_db: Callable[[], str]) -> str:
    """SQLAlchemy URL of a fresh, empty MariaDB database dropped after the test."""
    return make_mariadb_db()


# --- Redis ------------------------------------------------------------------------------


def _redis_client(port: int, db: int) -> redis.Redis:
    """Connect without redis-py's default retries, so a missing server is reported at once."""
    timeout = CONNECT_TIMEOUT_S
    return redis.Redis(
        HOST, port, db, socket_connect_timeout=timeout, socket_timeout=timeout, retry=NO_RETRY
    )


@pytest.fixture(scope="session")
def _redis_port() -> int:
    """Probe Redis once per session (db 15 too); later tests reuse the cached skip or failure."""
    port = _port("RIGHTFUL_TEST_REDIS_PORT", 6379)
    try:
        with _redis_client(port, REDIS_TEST_DBS[-1]) as client:
            client.ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis is not reachable at {HOST}:{port} (dbs 10-15): {exc}")
    return port


def _claim_redis_db(port: int, timeout: float = 60.0) -> tuple[int, IO[str]]:
    """Lock one of Redis dbs 10-15 for this process, so parallel runs never flush each other."""
    deadline = time.monotonic() + timeout
    while True:
        for db in REDIS_TEST_DBS:
            path = Path(tempfile.gettempdir()) / f"rightful-test-redis-{port}-{db}.lock"
            try:
                handle = path.open("a")
            except OSError:
                continue  # e.g. a lock file another user owns
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            return db, handle
        if time.monotonic() > deadline:
            pytest.fail(f"all Redis test dbs {REDIS_TEST_DBS} stayed busy for {timeout}s")
        time.sleep(0.1)


@pytest.fixture
def redis_url(_redis_port: int) -> Iterator[str]:
    """URL of a flushed Redis db (10-15) owned by this test, flushed again afterwards."""
    db, lock = _claim_redis_db(_redis_port)
    try:
        with _redis_client(_redis_port, db) as client:
            client.flushdb()
            yield f"redis://{HOST}:{_redis_port}/{db}"
            client.flushdb()
    finally:
        lock.close()  # closing the file releases the flock


# --- SMTP -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """One message the test SMTP server accepted, with its SMTP envelope."""

    envelope_from: str
    envelope_to: tuple[str, ...]
    message: EmailMessage
    raw: bytes = b""  # as it came over the wire (headers exactly as written, before parsing)
    session: int = 0  # which SMTP session (connection) carried it, counted from 1

    def is_addressed_to(self, address: str) -> bool:
        """Tell whether the address is an envelope recipient or in the To/Cc headers."""
        wanted = address.strip().lower()
        headers = [str(h) for h in self.message.get_all("to", []) + self.message.get_all("cc", [])]
        listed = {a.lower() for a in self.envelope_to}
        listed |= {addr.lower() for _, addr in getaddresses(headers)}
        return wanted in listed


class SmtpTestServer:
    """A real SMTP server on loopback that keeps every message it receives."""

    def __init__(self) -> None:
        """Start with no messages; the fixture sets host and port once it listens."""
        self.host = HOST
        self.port = 0
        self.messages: list[ReceivedMail] = []
        self._arrived = threading.Condition()
        self._sessions: dict[int, object] = {}  # by id(), each kept so no id is reused

    @property
    def sessions(self) -> int:
        """How many SMTP sessions (connections) delivered at least one message."""
        return len({mail.session for mail in self.messages})

    @property
    def url(self) -> str:
        """The server as an smtp:// URL, the form Rightful's settings take."""
        return f"smtp://{self.host}:{self.port}"

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        """aiosmtpd hook: parse the message and store it (runs in the controller's thread)."""
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        message = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
        mail = ReceivedMail(
            envelope_from=str(envelope.mail_from),
            envelope_to=tuple(envelope.rcpt_tos),
            message=message,
            raw=raw,
            session=self._session_number(session),
        )
        with self._arrived:
            self.messages.append(mail)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def _session_number(self, session: object) -> int:
        self._sessions.setdefault(id(session), session)
        return list(self._sessions).index(id(session)) + 1

    def wait_for(
        self, to: str, *, subject_contains: str | None = None, timeout: float = 15.0
    ) -> EmailMessage:
        """Return the first message addressed to `to`, waiting up to `timeout` seconds for it."""

        def match() -> EmailMessage | None:
            for mail in self.messages:
                subject = str(mail.message.get("subject", ""))
                if mail.is_addressed_to(to) and (
                    subject_contains is None or subject_contains in subject
                ):
                    return mail.message
            return None

        with self._arrived:
            found = self._arrived.wait_for(match, timeout=timeout)
            if found is not None:
                return found
            seen = [(m.envelope_to, str(m.message.get("subject", ""))) for m in self.messages]
        wanted = f"an e-mail to {to!r}"
        if subject_contains is not None:
            wanted += f" with a subject containing {subject_contains!r}"
        raise AssertionError(f"{wanted} did not arrive within {timeout}s; received: {seen}")

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._arrived:
            self.messages.clear()


def _free_port() -> int:
    """Ask the kernel for a loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _stop_controller(controller: Controller) -> None:
    """Stop a controller and make sure its event loop is closed (else ResourceWarning)."""
    controller.stop(no_assert=True)
    if not controller.loop.is_closed():
        controller.loop.close()


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, stopped after the test."""
    server = SmtpTestServer()
    last_error: Exception | None = None
    for _attempt in range(5):  # the free port can be taken between probing and binding
        server.port = _free_port()
        # An explicit loop: asking asyncio for "the" loop in the main thread would return
        # Playwright's, which it keeps marked as running between sync calls.
        controller = Controller(
            server,
            hostname=HOST,
            port=server.port,
            loop=asyncio.new_event_loop(),
            server_hostname="localhost",  # else SMTP() calls getfqdn(), slow without DNS
            ready_timeout=10.0,
        )
        try:
            controller.start()
        except (OSError, TimeoutError) as exc:
            _stop_controller(controller)
            last_error = exc
            continue
        try:
            yield server
        finally:
            _stop_controller(controller)
        return
    pytest.fail(f"could not start the test SMTP server on {HOST}: {last_error}")


# --- Chromium ---------------------------------------------------------------------------


class _PlaywrightLoop:
    """The event loop of the session's Playwright, once the browser has started."""

    loop: asyncio.AbstractEventLoop | None = None


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright's sync API for the whole session."""
    path = os.environ.get("RIGHTFUL_CHROMIUM", DEFAULT_CHROMIUM)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        service_unavailable(
            f"Chromium not found at {path}: apt-get install chromium, or set RIGHTFUL_CHROMIUM"
        )
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        service_unavailable(f"Playwright is not installed: {exc}")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
    except PlaywrightError as exc:
        playwright.stop()
        service_unavailable(f"Chromium at {path} did not start: {exc.message}")
    _PlaywrightLoop.loop = asyncio._get_running_loop()
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()
        _PlaywrightLoop.loop = None


@pytest.fixture
def page(chromium_browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context (own cookies and storage), closed after the test."""
    context = chromium_browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(autouse=True)
def _hide_playwright_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """Let tests that don't use the browser call asyncio.run() while Playwright is alive."""
    # Playwright's sync API leaves its loop marked as running in the main thread between
    # calls, so asyncio.run() would refuse to start. Unmark it for such tests and restore
    # it afterwards, before Playwright's dispatcher resumes the loop.
    loop = asyncio._get_running_loop()
    if (
        loop is None
        or loop is not _PlaywrightLoop.loop
        or "chromium_browser" in request.fixturenames
    ):
        yield
        return
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(loop)
