"""A transaction's audit events join the chain together at commit: one head lock, one insert,
hashed in the order recorded (on PostgreSQL all in one statement, the store hashing); savepoints
rolled back take theirs back, and the transaction reads its own events before it commits. On
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rightful.core.db import make_engine
from rightful.migrations import upgrade
from rightful.security import audit, chain
from rightful.security.models import AuditEvent, StaffUser


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/store.db"
    else:
        url = request.getfixturevalue("postgres_url")
    made = make_engine(url)
    upgrade(made)
    yield made
    made.dispose()


def _event(session: Session, n: int) -> None:
    audit.record(session, actor="a", action=f"x{n}", subject_type="t", subject_id=str(n))


def _actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_transactions_events_go_in_one_insert_under_one_head_lock(engine: Engine) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    with Session(engine) as session:
        _event(session, 0)
        session.commit()
        event.listen(engine, "before_cursor_execute", count)
        for n in range(1, 6):
            _event(session, n)
        session.commit()
        event.remove(engine, "before_cursor_execute", count)
        verdict = audit.verify_chain(session)
        assert verdict.intact, verdict.message
        assert verdict.events == verdict.head_events == 6
        assert _actions(session) == [f"x{n}" for n in range(6)]
    if engine.dialect.name == "postgresql":
        # One statement: the head locked (FOR UPDATE), the events hashed by the store, inserted,
        # and the head written back (an UPDATE inside WITH).
        assert len(statements) == 1, statements
        assert "FROM audit_chain_head WHERE id = " in statements[0]
        assert "FOR UPDATE" in statements[0]
        assert "UPDATE audit_chain_head SET" in statements[0]
        assert "INSERT INTO audit_events" in statements[0]
    else:
        assert statements[0].startswith("UPDATE audit_chain_head") and "RETURNING" in statements[0]
        assert [s.split(" (")[0] for s in statements[1:]] == [
            "INSERT INTO audit_events",
            statements[2].split(" (")[0],  # the head written back
        ]
        assert statements[2].startswith("UPDATE audit_chain_head SET events=")


def test_savepoints_rolled_back_take_only_their_own_events_back(engine: Engine) -> None:
    with Session(engine) as session:
        _event(session, 1)
        with pytest.raises(ValueError), chain.savepoint(session):
            _event(session, 2)
            raise ValueError("this line is refused")
        _event(session, 3)
        # A claim taken in a bare savepoint and lost (rights/due.py): the events recorded before
        # it stay, and so does the chain's head.
        session.add(StaffUser(email="x@lumen.example", name="X", password_hash="-", role="admin"))
        session.flush()
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(
                StaffUser(email="x@lumen.example", name="Y", password_hash="-", role="admin")
            )
        _event(session, 4)
        # The transaction reads its own events before it commits.
        seen = audit.events_for(session, subject_type="t", subject_id="3")
        assert [e.action for e in seen] == ["x3"]
        _event(session, 5)
        session.commit()
        verdict = audit.verify_chain(session)
        assert verdict.intact, verdict.message
        assert verdict.events == verdict.head_events == 4
        assert _actions(session) == ["x1", "x3", "x4", "x5"]


def test_a_rollback_or_a_close_leaves_no_events_and_the_next_ones_chain_on(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        _event(session, 1)
        session.commit()
        _event(session, 2)  # before any statement of its transaction
        session.rollback()
        _event(session, 3)
        session.close()
        _event(session, 4)
        session.commit()
        verdict = audit.verify_chain(session)
        assert verdict.intact, verdict.message
        assert _actions(session) == ["x1", "x4"]
