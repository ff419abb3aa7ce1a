"""Closed cases keep what the person wrote only as long as requests keep identities."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.casework import service
from rightful.casework.models import Case, CaseMessage
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.rights import documents
from rightful.security import audit


def minimise_old_cases(session: Session, settings: Settings, *, limit: int = 200) -> int:
    """Destroy the sender, subject, thread and attachments of cases closed longer than
    RIGHTFUL_RECORDS_RETENTION_DAYS ago; the case's facts stay. Returns how many."""
    cutoff = utcnow() - timedelta(days=settings.records_retention_days)
    cases = session.scalars(
        select(Case)
        .where(Case.closed_at.is_not(None), Case.closed_at < cutoff, Case.minimised_at.is_(None))
        .limit(limit)
    ).all()
    box = service.vault(settings)
    for case in cases:
        case.sender, case.subject, case.minimised_at = box.encrypt_json({}), None, utcnow()
        for msg in session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id)):
            msg.body = box.encrypt_json({"text": "", "headers": {}})
        destroyed = documents.destroy(session, case_id=case.id)
        audit.record(
            session,
            actor="system",
            action="case.minimised",
            subject_type="case",
            subject_id=case.id,
            detail={"documents": destroyed},
        )
    session.flush()
    return len(cases)
