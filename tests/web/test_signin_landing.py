"""Where a sign-in leads: the morning view (Today), or the console page the person asked for
before signing in, never another site."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import pytest

from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, App


def sign_in_from(app: App, login_page: str, password: str = STAFF_PASSWORD) -> tuple[int, str]:
    """Open `login_page` and send its form as a browser would (its hidden fields too): the
    answer's status and where it leads (or its page)."""
    page = app.client.get(login_page).text
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)
    form = {name: html.unescape(value) for name, value in hidden}
    form |= {"email": STAFF_EMAIL, "password": password}
    answer = app.client.post("/admin/login", data=form, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", answer.text)


def test_signing_in_leads_to_the_morning_view(rightful_app: App) -> None:
    status, where = sign_in_from(rightful_app, "/admin/login")
    assert (status, where) == (303, "/admin/today")
    page = rightful_app.client.get(where)
    assert page.status_code == 200 and "<h1>Today</h1>" in page.text


def test_a_console_page_asked_for_before_signing_in_is_where_the_sign_in_leads(
    rightful_app: App,
) -> None:
    wanted = "/admin?due=overdue"  # a link from the deadlines e-mail
    sent = rightful_app.client.get(wanted, follow_redirects=False)
    assert sent.headers["location"] == "/admin/login?" + urlencode({"next": wanted})
    assert sign_in_from(rightful_app, sent.headers["location"]) == (303, wanted)


def test_the_page_to_come_back_to_survives_a_wrong_password(rightful_app: App) -> None:
    login = "/admin/login?" + urlencode({"next": "/admin/outbox"})
    status, page = sign_in_from(rightful_app, login, password="not the password!")
    assert status == 401 and '<input type="hidden" name="next" value="/admin/outbox">' in page
    assert sign_in_from(rightful_app, login) == (303, "/admin/outbox")


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/admin",
        "//evil.example/admin",
        "/\\evil.example/admin",
        "/status/some-token",
        "/admin/logout",
        "/admin/login?next=/admin/outbox",
        "",
    ],
)
def test_a_target_outside_the_console_leads_to_the_morning_view(
    rightful_app: App, target: str
) -> None:
    login = "/admin/login?" + urlencode({"next": target})
    assert 'name="next"' not in rightful_app.client.get(login).text
    form = {"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "next": target}
    page = rightful_app.client.get("/admin/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    answer = rightful_app.client.post(
        "/admin/login", data={**form, "csrf": token[1]}, follow_redirects=False
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/admin/today")
