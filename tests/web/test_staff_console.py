"""Administrators manage staff from the console: an invitation by e-mail whose one-time link
lets the person choose their own password, role changes that apply at once, unlocking and
deactivating — and never leaving the office without an administrator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.core.errors import ConflictError
from rightful.core.runtime import Runtime
from rightful.messaging.service import deliver_pending, list_outbox, staff_view
from rightful.security.permissions import Role, system_actor
from rightful.security.service import access_staff, create_staff, deactivate_staff
from rightful.security.staff_admin import change_role
from rightful.web.app import create_app
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, make_settings, prepare
from tests.support.services import SmtpTestServer
from tests.support.signin import (
    console_answers,
    form_token,
    frozen_clock,
    move_clock,
    post_login,
    signed_in,
)

NEWCOMER = "noor.haddad@lumen.example"
PASSWORD = "a long passphrase nobody guesses"


@pytest.fixture
def office(tmp_path: Path, smtp_server: SmtpTestServer) -> Iterator[tuple[Runtime, TestClient]]:
    runtime = prepare(make_settings(tmp_path, smtp_url=smtp_server.url))
    with unit_of_work(runtime.sessions) as session:
        create_staff(
            session,
            email=STAFF_EMAIL,
            name="Olive Officer",
            password=STAFF_PASSWORD,
            actor=system_actor("test"),
        )
    with TestClient(create_app(runtime, start_worker=False)) as admin:
        assert signed_in(post_login(admin))
        yield runtime, admin
    runtime.engine.dispose()
    dispose_all()


def _post(client: TestClient, path: str, **form: str) -> str:
    answer = client.post(path, data={"csrf": form_token(client, "/admin/staff"), **form})
    assert answer.status_code == 200, answer.text
    return answer.text


def _invite(runtime: Runtime, admin: TestClient, smtp: SmtpTestServer, role: str) -> str:
    page = _post(admin, "/admin/staff/invite", email=NEWCOMER, name="Noor Haddad", role=role)
    assert "Invitation sent" in page and NEWCOMER in page
    with runtime.sessions() as session:
        deliver_pending(session, runtime.settings)
    mail = smtp.wait_for(NEWCOMER, subject_contains="privacy console account")
    found = re.search(
        r"http://testserver(/admin/welcome/\S+)", mail.get_body(("plain",)).get_content()
    )
    assert found, "no link in the invitation"
    return found.group(1)


def test_an_invited_analyst_chooses_a_password_once_and_signs_in(
    office: tuple[Runtime, TestClient], smtp_server: SmtpTestServer
) -> None:
    runtime, admin = office
    link = _invite(runtime, admin, smtp_server, "analyst")
    with runtime.sessions() as session:  # other staff never see the link in the outbox
        [sent] = [m for m in list_outbox(session) if m.template == "staff_invite"]
        assert "/admin/welcome/[hidden]" in staff_view(runtime.settings, sent).text

    with TestClient(create_app(runtime, start_worker=False)) as newcomer:
        assert not signed_in(post_login(newcomer, NEWCOMER, PASSWORD))  # no password yet
        page = newcomer.get(link)
        assert "Set up your account" in page.text and "Noor Haddad" in page.text
        token = form_token(newcomer, link)
        differ = newcomer.post(
            link, data={"csrf": token, "new_password": PASSWORD, "repeat_password": "other"}
        )
        assert differ.status_code == 422 and "The two passwords differ" in differ.text
        done = newcomer.post(
            link, data={"csrf": token, "new_password": PASSWORD, "repeat_password": PASSWORD}
        )
        assert "Your account is ready" in done.text
        again = newcomer.post(
            link, data={"csrf": token, "new_password": PASSWORD, "repeat_password": PASSWORD}
        )
        assert "was used already" in again.text
        assert signed_in(post_login(newcomer, NEWCOMER, PASSWORD))
        assert newcomer.get("/admin/staff").status_code == 403  # analysts do not manage staff
    with runtime.sessions() as session:
        assert access_staff(session, email=NEWCOMER).role == Role.ANALYST


def test_a_role_change_and_a_deactivation_apply_at_once(
    office: tuple[Runtime, TestClient], smtp_server: SmtpTestServer
) -> None:
    runtime, admin = office
    link = _invite(runtime, admin, smtp_server, "approver")
    with TestClient(create_app(runtime, start_worker=False)) as member:
        token = form_token(member, link)
        member.post(
            link, data={"csrf": token, "new_password": PASSWORD, "repeat_password": PASSWORD}
        )
        assert signed_in(post_login(member, NEWCOMER, PASSWORD)) and console_answers(member)
        with runtime.sessions() as session:
            staff_id = access_staff(session, email=NEWCOMER).id
        page = _post(admin, f"/admin/staff/{staff_id}/role", role="viewer")
        assert "Role changed" in page
        assert not console_answers(member)  # their session ended with the old role
        assert signed_in(post_login(member, NEWCOMER, PASSWORD))
        assert member.get("/admin/outbox").status_code == 403  # now a viewer
        page = _post(admin, f"/admin/staff/{staff_id}/deactivate")
        assert "Account deactivated" in page and "deactivated</span>" in page
        assert not console_answers(member)
        assert not signed_in(post_login(member, NEWCOMER, PASSWORD))


def test_a_locked_sign_in_is_shown_and_unlocked(
    office: tuple[Runtime, TestClient], smtp_server: SmtpTestServer
) -> None:
    runtime, admin = office
    link = _invite(runtime, admin, smtp_server, "analyst")
    with TestClient(create_app(runtime, start_worker=False)) as member:
        token = form_token(member, link)
        member.post(
            link, data={"csrf": token, "new_password": PASSWORD, "repeat_password": PASSWORD}
        )
        with frozen_clock():
            for _ in range(40):  # wrong passwords, each after the wait asked for, till locked
                answer = post_login(member, NEWCOMER, "not the password at all")
                if "locked" in answer.text:
                    break
                if answer.status_code == 429:
                    move_clock(timedelta(seconds=int(answer.headers["Retry-After"])))
            else:
                pytest.fail("the account never locked")
            assert not signed_in(post_login(member, NEWCOMER, PASSWORD))  # locked
            assert "sign-in locked" in admin.get("/admin/staff").text
            with runtime.sessions() as session:
                staff_id = access_staff(session, email=NEWCOMER).id
            assert "Sign-in unlocked" in _post(admin, f"/admin/staff/{staff_id}/unlock")
            assert signed_in(post_login(member, NEWCOMER, PASSWORD))


def test_the_last_administrator_cannot_be_demoted_or_deactivated(
    office: tuple[Runtime, TestClient],
) -> None:
    runtime, _ = office
    actor = system_actor("test")
    with unit_of_work(runtime.sessions) as session, pytest.raises(ConflictError):
        change_role(session, email=STAFF_EMAIL, role="analyst", actor=actor)
    with unit_of_work(runtime.sessions) as session, pytest.raises(ConflictError):
        deactivate_staff(session, email=STAFF_EMAIL, actor=actor)
    with runtime.sessions() as session:
        me = access_staff(session, email=STAFF_EMAIL)
        assert (me.role, me.active) == ("admin", True)
