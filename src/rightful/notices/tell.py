"""Telling people of a material change: an e-mail, queued in the outbox, to each person whose
choice for the notice-updates purpose allows it (consent/service.check decides)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.consent import service as consent
from rightful.consent.models import ConsentPurpose, ConsentState, ConsentSubject
from rightful.consent.subjects import email_of
from rightful.core import i18n
from rightful.core.config import Settings
from rightful.messaging.service import queue_email
from rightful.notices.models import NoticeVersion


def _addresses(session: Session, settings: Settings) -> list[str]:
    """Everyone who chose to hear of notice updates by e-mail and may still be written to."""
    purpose = settings.notice_updates_purpose
    if session.get(ConsentPurpose, purpose) is None:
        return []
    stmt = (
        select(ConsentSubject)
        .join(ConsentState, ConsentState.subject_id == ConsentSubject.id)
        .where(
            ConsentState.purpose == purpose,
            ConsentState.channel == "email",
            ConsentState.state == "given",
            ConsentSubject.kind == "person",
        )
        .order_by(ConsentSubject.id)
    )
    out = []
    for subject in session.scalars(stmt):
        address = email_of(settings, subject)
        if not address:
            continue  # erased since
        if consent.check(
            session, settings, purpose=purpose, channel="email", email=address
        ).allowed:
            out.append(address)
    return out


def tell_of_change(session: Session, settings: Settings, version: NoticeVersion) -> int:
    """Queue the e-mail about a material change to each person who asked; how many."""
    addresses = _addresses(session, settings)
    link = settings.base_url.rstrip("/") + "/privacy"
    for address in addresses:
        queue_email(
            session,
            settings,
            to=address,
            template="notice_changed",
            context={
                "link": link,
                "summary": version.change_summary,
                "effective": i18n.format_date(version.effective_on, i18n.DEFAULT)
                if version.effective_on
                else "",
                "preferences": settings.base_url.rstrip("/") + "/preferences",
            },
        )
    return len(addresses)
