"""Each service fixture hands out the real thing, and they work together in one process."""

from __future__ import annotations

import asyncio
import smtplib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import pytest
import redis
from sqlalchemy import create_engine, text

from tests.support.services import SmtpTestServer

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _round_trip_table(url: str) -> list[str]:
    """Create a table in the database at `url`, insert a row and read it back."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE subjects (id INTEGER PRIMARY KEY, name VARCHAR(50))"))
            conn.execute(text("INSERT INTO subjects VALUES (1, 'Zoë')"))
        with engine.connect() as conn:
            return list(conn.scalars(text("SELECT name FROM subjects")))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_url_is_a_fresh_database_that_stores_rows(postgres_url: str) -> None:
    assert "/rf_test_" in postgres_url
    assert _round_trip_table(postgres_url) == ["Zoë"]


@pytest.mark.postgres
def test_make_postgres_db_gives_separate_databases(make_postgres_db: Callable[[], str]) -> None:
    first, second = make_postgres_db(), make_postgres_db()
    assert first != second
    assert _round_trip_table(first) == _round_trip_table(second) == ["Zoë"]


@pytest.mark.mariadb
def test_mariadb_url_is_a_fresh_database_that_stores_rows(mariadb_url: str) -> None:
    assert "/rf_test_" in mariadb_url
    assert _round_trip_table(mariadb_url) == ["Zoë"]


@pytest.mark.mariadb
def test_make_mariadb_db_gives_separate_databases(make_mariadb_db: Callable[[], str]) -> None:
    first, second = make_mariadb_db(), make_mariadb_db()
    assert first != second
    assert _round_trip_table(first) == _round_trip_table(second) == ["Zoë"]


@pytest.mark.redis
def test_redis_url_points_at_an_empty_db_that_stores_values(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url) as client:
        assert client.dbsize() == 0
        client.set("rightful:greeting", "hello")
        assert client.get("rightful:greeting") == b"hello"


def _send_mail(server: SmtpTestServer, *, to: str, subject: str) -> None:
    """Send a plain e-mail over SMTP, the way the application would."""
    message = EmailMessage()
    message["From"] = "privacy@rightful.test"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Your request has been received.")
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.send_message(message)


def test_smtp_server_receives_a_sent_email(smtp_server: SmtpTestServer) -> None:
    _send_mail(smtp_server, to="ada@example.test", subject="Your access request")

    received = smtp_server.wait_for("ada@example.test", subject_contains="access")

    assert received["Subject"] == "Your access request"
    assert smtp_server.messages[0].envelope_to == ("ada@example.test",)
    assert smtp_server.url == f"smtp://127.0.0.1:{smtp_server.port}"


def test_smtp_server_wait_for_names_the_missing_email(smtp_server: SmtpTestServer) -> None:
    _send_mail(smtp_server, to="ada@example.test", subject="Hello")
    smtp_server.clear()

    with pytest.raises(AssertionError, match=r"e-mail to 'ada@example.test'.*'Hello'"):
        smtp_server.wait_for("ada@example.test", subject_contains="Hello", timeout=0.2)


@contextmanager
def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a loopback port from a thread; yield the base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


class _QuietHandler(BaseHTTPRequestHandler):
    """Request handler that answers with small HTML pages and logs nothing."""

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""

    def reply(self, body: str) -> None:
        """Send `body` as an HTML page."""
        payload = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _HelloPage(_QuietHandler):
    def do_GET(self) -> None:
        """Serve one heading."""
        self.reply("<!doctype html><title>Hello</title><h1>Privacy center</h1>")


@pytest.mark.browser
def test_chromium_renders_a_local_page(page: Page) -> None:
    with _serve(_HelloPage) as base_url:
        page.goto(base_url)
        assert page.locator("h1").inner_text() == "Privacy center"


@pytest.mark.browser
def test_browser_form_sends_email_to_the_smtp_server(
    page: Page, smtp_server: SmtpTestServer
) -> None:
    # Playwright's event loop lives in this thread, aiosmtpd's in its own: both must progress.
    class ContactForm(_QuietHandler):
        def do_GET(self) -> None:
            """Serve a form asking for an e-mail address."""
            self.reply("<form method=post><input name=email><button>Send</button></form>")

        def do_POST(self) -> None:
            """E-mail the address that was submitted."""
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            address = parse_qs(body)["email"][0]
            _send_mail(smtp_server, to=address, subject="Confirm your request")
            self.reply("<h1>Check your inbox</h1>")

    with _serve(ContactForm) as base_url:
        page.goto(base_url)
        page.fill("input[name=email]", "grace@example.test")
        page.click("button")
        assert page.locator("h1").inner_text() == "Check your inbox"

    received = smtp_server.wait_for("grace@example.test", subject_contains="Confirm")
    assert received["To"] == "grace@example.test"


def test_asyncio_run_still_works_after_the_browser_started() -> None:
    # Runs after the browser tests above: Playwright must not leave its loop in our way.
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert asyncio.run(answer()) == 42
