"""Sign-in cannot be ground: growing waits and a lockout per account and per client, the same
answers whether or not the account exists, failures in the audit log, and an unlock."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rightful.security.models import AuditEvent
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, App
from tests.support.signin import (
    alert,
    form_token,
    frozen_clock,
    move_clock,
    post_login,
    run_cli,
    signed_in,
)

WRONG = "not the password at all"


def fail_until_locked(app: App, email: str = STAFF_EMAIL) -> list[str]:
    """Wrong passwords, each after the wait the one before asked for, until the lock; the
    messages shown."""
    token, messages = form_token(app.client), list[str]()
    while not messages or "locked" not in messages[-1]:
        assert len(messages) < 30, messages
        r = post_login(app.client, email=email, password=WRONG, token=token)
        assert r.status_code in (401, 429)
        messages.append(alert(r.text))
        if r.status_code == 429 and "locked" not in messages[-1]:
            move_clock(timedelta(seconds=int(r.headers["Retry-After"])))
    return messages


def test_sixty_wrong_passwords_then_the_right_one_is_refused(rightful_app: App) -> None:
    token = form_token(rightful_app.client)
    with frozen_clock():
        answers = [
            post_login(rightful_app.client, password=WRONG, token=token).status_code
            for _ in range(60)
        ]
        r = post_login(rightful_app.client, token=token)
    assert answers[:3] == [401, 401, 401] and set(answers[3:]) == {429}
    assert r.status_code == 429 and "Try again in 1 second" in alert(r.text)
    assert r.headers["Retry-After"] == "1"


def test_waits_grow_with_each_failure_and_tell_when_to_try_again(rightful_app: App) -> None:
    with frozen_clock():
        messages = fail_until_locked(rightful_app)
    waits = [m for m in messages if m.startswith("Too many failed sign-ins")]
    assert [w.removeprefix("Too many failed sign-ins for this account. ") for w in waits] == [
        "Try again in 1 second.",
        "Try again in 2 seconds.",
        "Try again in 4 seconds.",
        "Try again in 8 seconds.",
        "Try again in 16 seconds.",
        "Try again in 32 seconds.",
        "Try again in 2 minutes.",  # 64 s, said in whole minutes
    ]
    assert messages.count(messages[0]) == 10  # ten checked attempts, the tenth locking
    assert messages[-1].startswith("Sign-in to this account is locked")


def test_after_the_lockout_even_the_right_password_is_refused_until_it_passes(
    rightful_app: App,
) -> None:
    with frozen_clock():
        fail_until_locked(rightful_app)
        r = post_login(rightful_app.client)
        assert r.status_code == 429 and "Try again in 60 minutes" in alert(r.text)
        move_clock(timedelta(minutes=59))
        assert post_login(rightful_app.client).status_code == 429
        move_clock(timedelta(minutes=1))
        assert signed_in(post_login(rightful_app.client))


def test_staff_clear_a_lockout_from_the_command_line(
    rightful_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    with frozen_clock():
        fail_until_locked(rightful_app)
        assert post_login(rightful_app.client).status_code == 429
        out = run_cli(rightful_app, monkeypatch, "staff", "unlock", STAFF_EMAIL)
        assert "they can sign in now" in out
        assert signed_in(post_login(rightful_app.client))


def test_an_unknown_account_gets_the_same_answers_as_a_known_one(rightful_app: App) -> None:
    with frozen_clock():
        known = fail_until_locked(rightful_app, STAFF_EMAIL)
        move_clock(timedelta(days=2))  # the client's failures are forgotten after a day
        other = TestClient(rightful_app.client.app)  # its own cookie, same client address
        unknown = fail_until_locked(App(rightful_app.runtime, other, ""), "nobody@lumen.example")
    assert known == unknown


def test_a_success_starts_the_account_afresh(rightful_app: App) -> None:
    token = form_token(rightful_app.client)
    with frozen_clock():
        for _ in range(2):
            assert post_login(rightful_app.client, password=WRONG, token=token).status_code == 401
        assert signed_in(post_login(rightful_app.client))
        token = form_token(rightful_app.client)
        for _ in range(3):  # three free tries again, not one
            assert post_login(rightful_app.client, password=WRONG, token=token).status_code == 401


def test_one_client_trying_many_accounts_is_slowed_down_too(rightful_app: App) -> None:
    token = form_token(rightful_app.client)
    with frozen_clock():
        answers = [
            post_login(
                rightful_app.client, email=f"guess{i}@lumen.example", password=WRONG, token=token
            ).status_code
            for i in range(22)
        ]
    assert answers[:20] == [401] * 20 and answers[20:] == [429, 429]


def test_failed_sign_ins_are_audited_without_the_password_or_the_typed_address(
    rightful_app: App,
) -> None:
    token = form_token(rightful_app.client)
    post_login(rightful_app.client, password=WRONG, token=token)
    post_login(rightful_app.client, email="nobody@lumen.example", password=WRONG, token=token)
    with rightful_app.runtime.sessions() as session:
        events = list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.signin_failed"))
        )
    assert [e.detail["reason"] for e in events] == ["password", "password"]
    assert events[0].subject_id != "unknown" and events[1].subject_id == "unknown"
    recorded = json.dumps([[e.actor, e.subject_id, e.detail] for e in events])
    assert WRONG not in recorded and "nobody" not in recorded and STAFF_PASSWORD not in recorded


def test_a_lockout_is_audited(rightful_app: App) -> None:
    with frozen_clock():
        fail_until_locked(rightful_app)
    with rightful_app.runtime.sessions() as session:
        locked = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.signin_locked")
        ).one()
    assert locked.detail == {"locked": "account", "failures": 10}
