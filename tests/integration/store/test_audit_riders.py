"""A write that needs nothing back rides in the audit events' statement on PostgreSQL
(security/audit_append.ride), and is otherwise written alone: before commit when no events go
that way, before a statement that touches its table, and forgotten with a rollback."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.messaging.limits import MailAsk
from rightful.security import audit, audit_append

pytestmark = pytest.mark.postgres

_ASKS = MailAsk.metadata.tables[MailAsk.__tablename__]
ASK = audit_append.rider(
    "test_ask",
    "mail_asks",
    "INSERT INTO mail_asks (kind, address_hash, client_hash, asked_at) "
    "VALUES (:kind, :address_hash, :client_hash, :asked_at)",
    kind=_ASKS.c.kind.type,
    address_hash=_ASKS.c.address_hash.type,
    client_hash=_ASKS.c.client_hash.type,
    asked_at=_ASKS.c.asked_at.type,
)

OTHER = audit_append.rider("test_other_ask", "mail_asks", ASK.sql, **dict(ASK.types))


def _ask(session: Session, n: int, kind: audit_append.Rider = ASK) -> None:
    values = {"kind": "t", "address_hash": f"a{n}", "client_hash": "c", "asked_at": utcnow()}
    audit_append.ride(session, kind, values)


def _asks(session: Session) -> list[str]:
    return list(session.scalars(select(MailAsk.address_hash).order_by(MailAsk.id)))


def _counting(engine: Engine) -> list[str]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    return statements


def test_riders_go_in_the_events_statement(engine: Engine) -> None:
    with Session(engine) as session:
        statements = _counting(engine)
        _ask(session, 1)
        _ask(session, 2, OTHER)
        audit.record(session, actor="a", action="x", subject_type="t", subject_id="1")
        session.commit()
        assert len(statements) == 1, statements
        assert sorted(_asks(session)) == ["a1", "a2"]
        assert audit.verify_chain(session).intact


def test_riders_of_one_kind_are_written_in_the_order_given(engine: Engine) -> None:
    with Session(engine) as session:
        for n in range(1, 6):
            _ask(session, n)
        audit.record(session, actor="a", action="x", subject_type="t", subject_id="1")
        session.commit()
        assert _asks(session) == ["a1", "a2", "a3", "a4", "a5"]  # by id


def test_a_rider_without_events_is_written_alone_at_commit(engine: Engine) -> None:
    with Session(engine) as session:
        statements = _counting(engine)
        _ask(session, 1)
        assert statements == []
        session.commit()
        assert len(statements) == 1
        assert _asks(session) == ["a1"]


def test_a_statement_on_a_riders_table_sees_it(engine: Engine) -> None:
    with Session(engine) as session:
        _ask(session, 1)
        audit.record(session, actor="a", action="x", subject_type="t", subject_id="1")
        assert session.scalar(select(func.count()).select_from(MailAsk)) == 1
        session.commit()
        assert _asks(session) == ["a1"]
        assert audit.verify_chain(session).intact


def test_a_rollback_forgets_riders(engine: Engine) -> None:
    with Session(engine) as session:
        _ask(session, 1)
        session.rollback()
        audit.record(session, actor="a", action="x", subject_type="t", subject_id="1")
        session.commit()
        assert _asks(session) == []


def test_a_rider_in_a_savepoint_is_written_at_once(engine: Engine) -> None:
    with Session(engine) as session:
        session.begin()
        with session.begin_nested():
            statements = _counting(engine)
            _ask(session, 1)
            assert statements[-1].startswith("INSERT INTO mail_asks")
        session.commit()
        assert _asks(session) == ["a1"]
