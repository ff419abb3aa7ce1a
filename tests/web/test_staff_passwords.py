"""Staff cannot choose a common password, from the console or the command line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rightful.cli.main import app as cli_app
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, App
from tests.support.signin import alert, console_answers, form_token, post_login, signed_in


def test_the_console_refuses_a_common_new_password_and_keeps_the_old_one(
    rightful_app: App,
) -> None:
    c = rightful_app.client
    assert signed_in(post_login(c))
    r = c.post(
        "/admin/account/password",
        data={
            "csrf": form_token(c, "/admin/account"),
            "current_password": STAFF_PASSWORD,
            "new_password": "Sunshine2024!",
            "repeat_password": "Sunshine2024!",
        },
    )
    assert r.status_code == 422 and "one of the most common ones" in alert(r.text)
    assert console_answers(c)
    assert signed_in(post_login(c))


def test_the_command_line_refuses_a_common_password(
    rightful_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = rightful_app.runtime.settings
    monkeypatch.setenv("RIGHTFUL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RIGHTFUL_SECRET_KEY", settings.secret_key)
    monkeypatch.delenv("RIGHTFUL_DATABASE_URL", raising=False)
    result = CliRunner().invoke(
        cli_app,
        ["staff", "create", STAFF_EMAIL, "--name", "O", "--role", "admin"],
        input="password1234\npassword1234\n",  # typed at the hidden prompt, twice
    )
    assert result.exit_code != 0 and "one of the most common ones" in result.output


def test_a_wrong_current_password_changes_nothing(rightful_app: App) -> None:
    c = rightful_app.client
    assert signed_in(post_login(c))
    r = c.post(
        "/admin/account/password",
        data={
            "csrf": form_token(c, "/admin/account"),
            "current_password": "not my password",
            "new_password": "plover minnow cobalt sextant",
            "repeat_password": "plover minnow cobalt sextant",
        },
    )
    assert r.status_code == 422 and alert(r.text) == "That is not your current password."
    assert signed_in(post_login(c))
