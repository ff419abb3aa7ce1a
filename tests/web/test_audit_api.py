"""GET /api/v1/audit/verify: the audit log held to its head, as the consent ledger is."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from rightful.core.db import unit_of_work
from rightful.security import audit
from rightful.security.chain import AUDIT_CHAIN
from rightful.security.models import AuditChainHead, AuditEvent
from tests.support.app import App


def _audit_ids(app: App) -> list[int]:
    with app.runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def _delete(app: App, event_id: int) -> None:
    with unit_of_work(app.runtime.sessions) as session:
        session.execute(delete(AuditEvent).where(AuditEvent.id == event_id))


def test_an_intact_audit_log_says_so(rightful_app: App) -> None:
    found = rightful_app.client.get("/api/v1/audit/verify", headers=rightful_app.auth).json()
    assert found["intact"] is True and found["events"] == len(_audit_ids(rightful_app)) > 0


def test_a_deleted_middle_event_is_found_at_the_event_after_it(rightful_app: App) -> None:
    ids = _audit_ids(rightful_app)
    _delete(rightful_app, ids[1])
    found = rightful_app.client.get("/api/v1/audit/verify", headers=rightful_app.auth).json()
    assert found["intact"] is False
    assert (found["problem"], found["broken_at"]) == ("unlinked", ids[2])


def test_a_deleted_newest_event_is_found_missing_at_the_end(rightful_app: App) -> None:
    ids = _audit_ids(rightful_app)
    _delete(rightful_app, ids[-1])
    found = rightful_app.client.get("/api/v1/audit/verify", headers=rightful_app.auth).json()
    assert (found["problem"], found["broken_at"]) == ("missing_at_end", ids[-2])
    assert found["events"] == len(ids) - 1 and found["head_events"] == len(ids)


def test_the_audit_check_needs_a_token(rightful_app: App) -> None:
    assert rightful_app.client.get("/api/v1/audit/verify").status_code == 401


def test_a_deleted_newest_event_with_its_head_rewritten_is_found_by_the_anchor(
    rightful_app: App,
) -> None:
    with unit_of_work(rightful_app.runtime.sessions) as session:
        assert audit.verify_chain(session, rightful_app.runtime.settings, anchor=True).intact
    ids = _audit_ids(rightful_app)
    _delete(rightful_app, ids[-1])
    with unit_of_work(rightful_app.runtime.sessions) as session:  # the head made to match
        last = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == ids[-2]))
        session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == AUDIT_CHAIN)
            .values(events=len(ids) - 1, last_hash=last)
        )
    found = rightful_app.client.get("/api/v1/audit/verify", headers=rightful_app.auth).json()
    assert (found["intact"], found["problem"]) == (False, "shorter_than_anchored")
    assert found["broken_at"] == ids[-2]
    assert ": 1 event at the end is missing" in found["message"]
