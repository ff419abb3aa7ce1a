"""Signing in to the console in tests: forms, a clock that stands still, the CLI on its store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

if TYPE_CHECKING:
    from httpx2 import Response

from rightful.cli.main import app as cli_app
from rightful.core import clock
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, App


def form_token(client: TestClient, path: str = "/admin/login") -> str:
    """The CSRF token on a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found, f"no form token on {path}"
    return found.group(1)


def post_login(
    client: TestClient,
    email: str = STAFF_EMAIL,
    password: str = STAFF_PASSWORD,
    code: str = "",
    token: str | None = None,
) -> Response:
    """Submit the sign-in form (not following the redirect)."""
    data = {"csrf": token or form_token(client), "email": email, "password": password}
    if code:
        data["code"] = code
    return client.post("/admin/login", data=data, follow_redirects=False)


def signed_in(response: Response) -> bool:
    """True when a sign-in answer sent the browser into the console."""
    return response.status_code == 303 and response.headers["location"] == "/admin/today"


def alert(page: str) -> str:
    """The error message a page shows."""
    found = re.search(r'role="alert"><p>([^<]+)', page)
    assert found, "no error message on the page"
    return found.group(1)


def console_answers(client: TestClient) -> bool:
    """True when the console lets this browser in (False: sent to the sign-in page)."""
    r = client.get("/admin", follow_redirects=False)
    assert r.status_code in (200, 303), r.status_code
    return r.status_code == 200


@contextmanager
def frozen_clock() -> Iterator[datetime]:
    """Stop the clock now (move it with `move_clock`); it runs again after the block."""
    start = clock.utcnow()
    clock.freeze(start)
    try:
        yield start
    finally:
        clock.freeze(None)


def move_clock(by: timedelta) -> datetime:
    """Move a frozen clock on."""
    later = clock.utcnow() + by
    clock.freeze(later)
    return later


def run_cli(app: App, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """Run `rightful ...` on the app's own store; its output (the command must succeed)."""
    settings = app.runtime.settings
    monkeypatch.setenv("RIGHTFUL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RIGHTFUL_SECRET_KEY", settings.secret_key)
    monkeypatch.delenv("RIGHTFUL_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli_app, list(args))
    assert result.exit_code == 0, result.output
    return result.output
