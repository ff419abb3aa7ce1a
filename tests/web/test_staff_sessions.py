"""Console sessions live in the store: signing out, a new password or deactivation ends them,
a copied cookie is then worth nothing, and they end by themselves when idle or old."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from rightful.core.db import unit_of_work
from rightful.security.models import AuditEvent, StaffUser
from rightful.web.app import create_app
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, App, make_settings, prepare
from tests.support.signin import (
    console_answers,
    form_token,
    frozen_clock,
    move_clock,
    post_login,
    run_cli,
    signed_in,
)

NEW_PASSWORD = "plover minnow cobalt sextant"


def password_file(app: App) -> str:
    """NEW_PASSWORD in a file, for `rightful staff create --password-file` (never an argument)."""
    path = Path(app.runtime.settings.data_dir) / "new-password.txt"
    path.write_text(NEW_PASSWORD + "\n")
    return str(path)


def copy_of(app: App) -> TestClient:
    """A second browser holding a copy of the first one's cookie (as a thief would)."""
    thief = TestClient(app.client.app)
    thief.cookies.set("rf_session", app.client.cookies["rf_session"])
    return thief


def test_a_copied_cookie_is_refused_after_sign_out(rightful_app: App) -> None:
    assert signed_in(post_login(rightful_app.client))
    thief = copy_of(rightful_app)
    assert console_answers(thief)  # before signing out, the copy works: it is the same session
    r = rightful_app.client.post(
        "/admin/logout", data={"csrf": form_token(rightful_app.client, "/admin")}
    )
    assert r.status_code == 200 and "Sign in" in r.text
    r = thief.get("/admin", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"


def test_a_copied_cookie_is_refused_after_a_password_change(rightful_app: App) -> None:
    c = rightful_app.client
    assert signed_in(post_login(c))
    thief = copy_of(rightful_app)
    r = c.post(
        "/admin/account/password",
        data={
            "csrf": form_token(c, "/admin/account"),
            "current_password": STAFF_PASSWORD,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
    )
    assert r.status_code == 200 and "Your password is changed" in r.text
    assert not console_answers(thief)
    assert console_answers(c)  # the browser that changed it got a new session
    assert signed_in(post_login(TestClient(c.app), password=NEW_PASSWORD))


def test_a_password_reset_from_the_command_line_ends_every_session(
    rightful_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert signed_in(post_login(rightful_app.client))
    run_cli(
        rightful_app,
        monkeypatch,
        *("staff", "create", STAFF_EMAIL, "--name", "Olive Officer", "--role", "admin"),
        *("--password-file", password_file(rightful_app)),
    )
    assert not console_answers(rightful_app.client)


def test_a_deactivated_staff_members_session_is_refused(rightful_app: App) -> None:
    assert signed_in(post_login(rightful_app.client))
    with unit_of_work(rightful_app.runtime.sessions) as session:
        session.execute(update(StaffUser).values(active=False))
    assert not console_answers(rightful_app.client)


def test_deactivating_a_staff_member_revokes_their_sessions(
    rightful_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert signed_in(post_login(rightful_app.client))
    run_cli(
        rightful_app,
        monkeypatch,
        "staff",
        "create",
        "deputy@lumen.example",
        "--name",
        "Deputy",
        "--role",
        "admin",
        "--password-file",
        password_file(rightful_app),
    )
    run_cli(rightful_app, monkeypatch, "staff", "deactivate", STAFF_EMAIL)
    assert not console_answers(rightful_app.client)
    with rightful_app.runtime.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.sessions_revoked")
        ).one()
    assert event.detail == {"reason": "deactivated", "sessions": 1}


def test_sign_in_gives_a_new_session_id_and_form_token(rightful_app: App) -> None:
    c = rightful_app.client
    assert signed_in(post_login(c))
    first_cookie, first_token = c.cookies["rf_session"], form_token(c, "/admin")
    before_sign_in_token = form_token(c, "/admin/login")
    assert signed_in(post_login(c, token=before_sign_in_token))
    assert form_token(c, "/admin") not in (first_token, before_sign_in_token)
    stale = TestClient(c.app)
    stale.cookies.set("rf_session", first_cookie)
    assert not console_answers(stale)  # signing in again ended the session it replaced
    from rightful.security.sessions import StaffSession

    with rightful_app.runtime.sessions() as session:
        rows = list(session.scalars(select(StaffSession).order_by(StaffSession.id)))
    assert [r.revoked_reason for r in rows] == ["replaced by sign-in", None]


def test_the_store_keeps_only_a_hash_of_the_session_id(rightful_app: App) -> None:
    from rightful.security.sessions import StaffSession

    assert signed_in(post_login(rightful_app.client))
    with rightful_app.runtime.sessions() as session:
        row = session.scalars(select(StaffSession)).one()
    cookie = rightful_app.client.cookies["rf_session"]
    assert row.token_hash not in cookie and len(row.token_hash) == 64


def test_a_session_unused_for_the_idle_timeout_ends(rightful_app: App) -> None:
    with frozen_clock():
        assert signed_in(post_login(rightful_app.client))
        move_clock(timedelta(minutes=29))
        assert console_answers(rightful_app.client)  # used: the idle time starts again
        move_clock(timedelta(minutes=29))
        assert console_answers(rightful_app.client)
        move_clock(timedelta(minutes=30))
        assert not console_answers(rightful_app.client)


def test_a_session_in_constant_use_ends_after_its_lifetime(rightful_app: App) -> None:
    with frozen_clock():
        assert signed_in(post_login(rightful_app.client))
        for _ in range(7 * 3 + 2):  # every 20 minutes, for 7 h 40 min
            move_clock(timedelta(minutes=20))
            assert console_answers(rightful_app.client)
        move_clock(timedelta(minutes=20))
        assert not console_answers(rightful_app.client)


def test_revocations_are_in_the_audit_log(
    rightful_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert signed_in(post_login(rightful_app.client))
    run_cli(
        rightful_app,
        monkeypatch,
        *("staff", "create", STAFF_EMAIL, "--name", "Olive Officer", "--role", "admin"),
        *("--password-file", password_file(rightful_app)),
    )
    with rightful_app.runtime.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.sessions_revoked")
        ).one()
    assert event.detail == {"reason": "password reset", "sessions": 1}


def test_over_https_the_cookie_is_secure_and_browsers_are_told_to_stay_on_https(
    tmp_path: Path,
) -> None:
    runtime = prepare(make_settings(tmp_path, base_url="https://privacy.lumen.example"))
    try:
        with TestClient(
            create_app(runtime, start_worker=False), base_url="https://testserver"
        ) as c:
            r = c.get("/admin/login")
            assert r.headers["strict-transport-security"] == "max-age=31536000"
            assert "secure" in r.headers["set-cookie"].lower()
    finally:
        runtime.engine.dispose()


def test_over_plain_http_there_is_no_hsts(rightful_app: App) -> None:
    r = rightful_app.client.get("/admin/login")
    assert "strict-transport-security" not in r.headers
    assert "secure" not in r.headers["set-cookie"].lower()
