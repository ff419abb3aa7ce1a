"""A closed case's personal data goes after the retention period; its facts stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from rightful.casework.models import Case
from rightful.casework.retention import minimise_old_cases
from rightful.casework.service import Incoming, open_case, sender_of
from rightful.casework.types import Kind
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.rights.documents import Document, store
from tests.support.app import App


def test_old_closed_cases_lose_what_the_person_wrote(rightful_app: App) -> None:
    rt = rightful_app.runtime
    with unit_of_work(rt.sessions) as session:
        old = open_case(
            session,
            rt.settings,
            Incoming(email="old@example.com", text="Old question."),
            kind=Kind.QUESTION,
            channel="email",
            actor="mailbox",
        )
        recent = open_case(
            session,
            rt.settings,
            Incoming(email="new@example.com", text="New question."),
            kind=Kind.QUESTION,
            channel="email",
            actor="mailbox",
        )
        store(
            session,
            rt.settings,
            kind="mail_attachment",
            filename="a.pdf",
            content_type="application/pdf",
            content=b"%PDF",
            uploaded_by="mailbox",
            case_id=old.id,
        )
        long_ago = utcnow() - timedelta(days=rt.settings.records_retention_days + 1)
        old.status, old.closed_at = "closed", long_ago
        recent.status, recent.closed_at = "closed", utcnow()
    with unit_of_work(rt.sessions) as session:
        assert minimise_old_cases(session, rt.settings) == 1
    with rt.sessions() as session:
        cases = {c.id: c for c in session.scalars(select(Case))}
        doc = session.scalars(select(Document)).one()
        assert sender_of(rt.settings, cases[old.id]) == {}
        assert sender_of(rt.settings, cases[recent.id])["email"] == "new@example.com"
        assert cases[old.id].reference and cases[old.id].minimised_at is not None
        assert doc.sealed_content is None
