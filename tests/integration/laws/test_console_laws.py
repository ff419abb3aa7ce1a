"""The console's Laws and deadlines page shows each law's rules with their sections and the
mode in force; it is for signed-in staff only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.security.permissions import system_actor
from rightful.security.service import create_staff
from rightful.web.app import create_app
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, App, make_settings, prepare
from tests.support.signin import post_login, signed_in


def _console(tmp_path: Path, **settings: object) -> Iterator[TestClient]:
    runtime = prepare(make_settings(tmp_path, **settings), people=3)
    with unit_of_work(runtime.sessions) as session:
        create_staff(
            session,
            email=STAFF_EMAIL,
            name="Olive Officer",
            password=STAFF_PASSWORD,
            actor=system_actor("test"),
        )
    try:
        with TestClient(create_app(runtime, start_worker=False)) as client:
            assert signed_in(post_login(client))
            yield client
    finally:
        runtime.engine.dispose()
        dispose_all()


def test_the_page_lists_each_law_with_its_sections(tmp_path: Path) -> None:
    for client in _console(tmp_path):
        page = client.get("/admin/laws")
        assert page.status_code == 200
        text = page.text
        assert "Per jurisdiction</strong> is on" in text
        assert "Tex. Bus. &amp; Com. Code § 541.053" in text  # Texas's appeal
        assert "Cal. Code Regs. tit. 11, § 7021(a)" in text  # California's acknowledgement
        assert "GDPR Art. 12(3)" in text and "Ireland" in text
        assert "not a law" in text  # the organisation's own rules, shown as such
        assert 'href="/admin/laws"' in text  # in the console's navigation


def test_strictest_mode_is_shown_with_what_every_request_gets(tmp_path: Path) -> None:
    for client in _console(tmp_path / "s", rules_mode="strictest"):
        text = client.get("/admin/laws").text
        assert "The strictest rule for everyone</strong> is on" in text
        assert "What every request gets" in text


def test_signed_out_visitors_do_not_see_it(rightful_app: App) -> None:
    rightful_app.client.cookies.clear()
    page = rightful_app.client.get("/admin/laws", follow_redirects=False)
    assert page.status_code in (303, 401)
    assert "Tex. Bus." not in page.text


def test_a_request_page_names_its_jurisdiction_rules_and_extension_date(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from rightful.core import clock
    from rightful.rights import service
    from rightful.rights.schemas import RequestIn

    for client in _console(tmp_path / "r"):
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        clock.freeze(datetime(2027, 1, 30, 12, 0, tzinfo=UTC))
        try:
            with unit_of_work(runtime.sessions) as session:
                data = RequestIn(request_type="delete", email="aoife@example.ie", jurisdiction="IE")
                request_id = service.create_request(session, runtime.settings, data).id
        finally:
            clock.freeze(None)  # the console session lives in today's time
        text = client.get(f"/admin/requests/{request_id}").text
        assert "Ireland (IE)" in text and 'href="/admin/laws#pack-gdpr"' in text
        # 30 Jan 2027 + 3 months = Friday 30 Apr 2027.
        assert "Extend to 2027-04-30 (2 months under the GDPR)" in text
