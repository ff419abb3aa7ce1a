"""On PostgreSQL the store hashes a transaction's audit events itself, in the statement that
locks the head and inserts them: the hashes are the ones Python's `chain.digest` makes, for any
detail (non-ASCII text, quotes, nested values). Writers racing for the head:
tests/integration/store/test_audit_concurrency.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from rightful.security import audit, chain
from rightful.security.models import AuditEvent

pytestmark = pytest.mark.postgres

AWKWARD: list[dict[str, Any]] = [
    {},
    {"reason": 'Zoë said "no" \\ twice', "n": 3, "ok": True, "none": None},
    {"nested": {"b": [1, 2.5, "ü"], "a": {"z": "😀", "y": "\u2028"}}},
    {"list": ["x", {"k": "v"}], "float": 0.1},
]


def test_the_stores_hashes_are_pythons_for_any_detail(engine: Engine) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    with Session(engine) as session:
        event.listen(engine, "before_cursor_execute", count)
        for n, detail in enumerate(AWKWARD):
            audit.record(
                session, actor="Zoë", action="x", subject_type="t", subject_id=str(n), detail=detail
            )
        session.commit()
        event.remove(engine, "before_cursor_execute", count)
        assert len(statements) == 1, statements  # hashed by the store, in the insert's statement
        rows = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        assert [r.detail for r in rows] == AWKWARD
        prev = chain.GENESIS
        for row in rows:
            assert row.prev_hash == prev
            prev = audit._digest(prev, row)
            assert row.hash == prev
        verdict = audit.verify_chain(session)
    assert verdict.intact, verdict.message
    assert verdict.events == verdict.head_events == len(AWKWARD)
