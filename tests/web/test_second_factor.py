"""An optional second factor for staff (authenticator codes), required for administrators when
RIGHTFUL_ADMIN_TOTP_REQUIRED is set."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.security.models import StaffUser
from rightful.security.passwords import hash_secret
from rightful.security.totp import StaffSecondFactor
from rightful.web.app import create_app
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, App, make_settings, prepare
from tests.support.signin import (
    alert,
    form_token,
    frozen_clock,
    move_clock,
    post_login,
    run_cli,
    signed_in,
)


def code(key: str, steps: int = 0) -> str:
    """The app's code for `key` now (or `steps` of 30 s away)."""
    return pyotp.TOTP(key.replace(" ", "")).at(clock.utcnow(), counter_offset=steps)


def set_up_second_factor(app: App) -> str:
    """Turn the second factor on from the account page; the key the page showed."""
    c = app.client
    assert signed_in(post_login(c))
    r = c.post(
        "/admin/account/second-factor",
        data={"csrf": form_token(c, "/admin/account"), "current_password": STAFF_PASSWORD},
    )
    found = re.search(r'class="secret-key">([A-Z2-7 ]+)<', r.text)
    assert r.status_code == 200 and found, r.text
    key = found.group(1)
    assert "otpauth://totp/" in r.text and "secret=" + key.replace(" ", "") in r.text
    r = c.post(
        "/admin/account/second-factor/confirm",
        data={"csrf": form_token(c, "/admin/account"), "code": code(key)},
    )
    assert "Your second factor is on" in r.text
    return key


def fresh_browser(app: App) -> TestClient:
    return TestClient(app.client.app)


def test_with_a_second_factor_sign_in_needs_the_apps_code(rightful_app: App) -> None:
    with frozen_clock():
        key = set_up_second_factor(rightful_app)
        move_clock(timedelta(seconds=30))
        browser = fresh_browser(rightful_app)
        r = post_login(browser)
        assert r.status_code == 401  # the password alone is not enough
        assert alert(r.text) == alert(post_login(browser, password="wrong password!").text)
        wrong = "000000" if code(key) != "000000" else "111111"
        assert post_login(browser, code=wrong).status_code == 401
        move_clock(timedelta(seconds=1))  # the wait after three failures
        assert signed_in(post_login(browser, code=code(key)))


def test_a_code_works_a_step_either_side_of_now_but_not_further(rightful_app: App) -> None:
    with frozen_clock():
        key = set_up_second_factor(rightful_app)
        move_clock(timedelta(minutes=5))
        browser = fresh_browser(rightful_app)
        assert post_login(browser, code=code(key, -2)).status_code == 401
        assert signed_in(post_login(browser, code=code(key, -1)))
        move_clock(timedelta(minutes=5))
        assert signed_in(post_login(fresh_browser(rightful_app), code=code(key, +1)))


def test_a_code_is_accepted_only_once(rightful_app: App) -> None:
    with frozen_clock():
        key = set_up_second_factor(rightful_app)
        move_clock(timedelta(minutes=1))
        used = code(key)
        assert signed_in(post_login(fresh_browser(rightful_app), code=used))
        assert post_login(fresh_browser(rightful_app), code=used).status_code == 401


def test_the_secret_is_kept_encrypted(rightful_app: App) -> None:
    key = set_up_second_factor(rightful_app).replace(" ", "")
    with rightful_app.runtime.sessions() as session:
        row = session.scalars(select(StaffSecondFactor)).one()
    assert key not in row.secret_encrypted and row.confirmed_at is not None


def test_setting_one_up_needs_the_current_password(rightful_app: App) -> None:
    c = rightful_app.client
    assert signed_in(post_login(c))
    r = c.post(
        "/admin/account/second-factor",
        data={"csrf": form_token(c, "/admin/account"), "current_password": "not my password"},
    )
    assert r.status_code == 422 and alert(r.text) == "That is not your current password."
    assert "secret-key" not in r.text


@pytest.fixture
def admins_need_one(tmp_path: Path) -> Iterator[App]:
    """Rightful with RIGHTFUL_ADMIN_TOTP_REQUIRED=true and one administrator."""
    runtime = prepare(make_settings(tmp_path, admin_totp_required=True))
    with unit_of_work(runtime.sessions) as session:
        session.add(
            StaffUser(
                email=STAFF_EMAIL,
                name="Olive Officer",
                role="admin",
                password_hash=hash_secret(STAFF_PASSWORD),
            )
        )
    with TestClient(create_app(runtime, start_worker=False)) as client:
        yield App(runtime, client, "")
    runtime.engine.dispose()


def test_when_required_an_administrator_without_one_cannot_sign_in(admins_need_one: App) -> None:
    r = post_login(admins_need_one.client)
    assert r.status_code == 401
    assert "administrators need one" in admins_need_one.client.get("/admin/login").text


def test_when_required_an_administrator_set_up_from_the_command_line_signs_in_with_a_code(
    admins_need_one: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = run_cli(admins_need_one, monkeypatch, "staff", "totp", STAFF_EMAIL)
    found = re.search(r"Key, to type into an authenticator app\s+([A-Z2-7 ]+)\n", out)
    assert found and "otpauth://totp/" in out
    key = found.group(1).strip()
    assert signed_in(post_login(admins_need_one.client, code=code(key)))  # confirms it
    with admins_need_one.runtime.sessions() as session:
        assert session.scalars(select(StaffSecondFactor.confirmed_at)).one() is not None


def test_a_lost_phone_is_removed_from_the_command_line(
    rightful_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up_second_factor(rightful_app)
    out = run_cli(rightful_app, monkeypatch, "staff", "totp", STAFF_EMAIL, "--remove")
    assert "Removed the second factor" in out
    assert signed_in(post_login(fresh_browser(rightful_app)))
