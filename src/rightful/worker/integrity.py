"""Housekeeping that verifies both integrity logs (the audit chain, the signed consent log) once
a day, records what it found and, when one is broken, e-mails the privacy office and logs it
(record numbers only, never personal data)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from rightful.consent import log_check
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.messaging.service import queue_email
from rightful.security import anchors, audit
from rightful.security.chain_check import Verdict
from rightful.security.models import ChainCheck

log = logging.getLogger(__name__)

EVERY = timedelta(days=1)
# The consent log is also held to the keys its settings derive (a signing key added by hand fails).
# Each is held to its anchors outside the store, and an intact one's head is anchored.
CHAINS: dict[str, tuple[str, Callable[[Session, Settings], Verdict]]] = {
    "audit": ("The audit log", lambda s, settings: audit.verify_chain(s, settings, anchor=True)),
    "consent": (
        "The consent ledger",
        lambda s, settings: log_check.verify(s, settings, anchor=True),
    ),
}


def _claim(session: Session, chain: str, now: datetime) -> bool:
    """Take today's check of one chain; only one worker gets it."""
    taken = session.execute(
        update(ChainCheck)
        .where(ChainCheck.chain == chain, ChainCheck.checked_at <= now - EVERY)
        .values(checked_at=now, intact=None)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount:  # type: ignore[attr-defined]
        return True
    if session.get(ChainCheck, chain) is not None:
        return False  # checked within the day
    try:
        with session.begin_nested():
            session.add(ChainCheck(chain=chain, checked_at=now))
    except IntegrityError:  # another worker added it first
        return False
    return True


def verify_chains_daily(sessions: sessionmaker[Session], settings: Settings) -> dict[str, Verdict]:
    """Verify each chain not checked in the last day; returns what was found, by chain."""
    found: dict[str, Verdict] = {}
    for chain, (_, verify) in CHAINS.items():
        with sessions() as session:
            if not _claim(session, chain, utcnow()):
                continue
            session.commit()  # the claim lands first: the walk may take a while
            found[chain] = verdict = verify(session, settings)
            row = session.get(ChainCheck, chain)
            assert row is not None  # claimed just above
            row.intact, row.problem = verdict.intact, verdict.problem
            row.broken_at, row.message = verdict.broken_at, verdict.message[:500]
            session.commit()
    broken = {chain: v for chain, v in found.items() if not v.intact}
    for chain, verdict in broken.items():
        log.error(
            "integrity check: the %s chain is broken (%s at record %s)",
            chain,
            verdict.problem,
            verdict.broken_at,
        )
    if settings.audit_anchor_email and any(v.intact for v in found.values()):
        _mail_anchors(sessions, settings, [c for c, v in found.items() if v.intact])
    if broken:
        with sessions() as session:
            queue_email(
                session,
                settings,
                to=settings.privacy_email,
                template="chain_broken",
                context={
                    "count": len(broken),
                    "chains": " and ".join(broken),
                    "rows": [
                        {"title": CHAINS[chain][0], "message": v.message}
                        for chain, v in broken.items()
                    ],
                },
            )
            session.commit()
    return found


def _mail_anchors(sessions: sessionmaker[Session], settings: Settings, chains: list[str]) -> None:
    """E-mail today's anchors to a mailbox kept apart from the database (an archive)."""
    lines = [line for c in chains if (line := anchors.newest_line(settings, c))]
    if lines:
        with sessions() as session:
            queue_email(
                session,
                settings,
                to=settings.audit_anchor_email,
                template="chain_anchored",
                context={"lines": lines, "folder": str(settings.anchor_dir)},
            )
            session.commit()
