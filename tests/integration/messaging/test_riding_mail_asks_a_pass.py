"""Mail written in plain SQL riding the audit append (security/audit_append.ride) asks for a
mail pass when it commits, as ORM writes do (worker/pending.py), and not when it rolls back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.db import make_engine
from rightful.messaging.models import OutboxMessage
from rightful.migrations import upgrade
from rightful.security import audit_append
from rightful.worker import pending

_OUTBOX = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]
LETTER = audit_append.rider(
    "test_letter",
    "outbox_messages",
    "INSERT INTO outbox_messages (template, subject, sealed, status, attempts, created_at) "
    "VALUES (:template, :subject, :sealed, :status, 0, :created_at)",
    **{k: _OUTBOX.c[k].type for k in ("template", "subject", "sealed", "status", "created_at")},
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    made = make_engine(url)
    upgrade(made)
    pending.take(pending.MAIL)  # whatever an earlier test left
    yield made
    made.dispose()


def _letter(session: Session) -> None:
    row = {"template": "t", "subject": "s", "sealed": "x", "status": "draft"}
    audit_append.ride(session, LETTER, row | {"created_at": utcnow()})


def test_a_committed_riding_letter_asks_for_a_mail_pass(engine: Engine) -> None:
    with Session(engine) as session:
        _letter(session)
        session.commit()
    assert pending.take(pending.MAIL)
    with Session(engine) as session:
        assert session.query(OutboxMessage).count() == 1


def test_a_rolled_back_riding_letter_asks_for_nothing(engine: Engine) -> None:
    with Session(engine) as session:
        _letter(session)
        session.rollback()
        session.commit()  # a later, empty commit of the same session
    assert not pending.take(pending.MAIL)
    with Session(engine) as session:
        assert session.query(OutboxMessage).count() == 0
