"""The mailbox's reading position and its per-message claims, so that nothing is read twice
and nothing is lost: claim (committed) → read and process → done, in the transaction that
stores what the message made. A claim whose worker died runs out and is taken over."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rightful.casework.models import MailboxClaim, MailboxState
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.security import audit
from rightful.security.vault import keyed_hash

MAX_ATTEMPTS = 5  # a message that fails this often is set aside (failed), not retried forever


def mailbox_key(settings: Settings) -> str:
    """Names the mailbox folder without keeping its address."""
    where = f"{settings.mailbox_host}|{settings.mailbox_user}|{settings.mailbox_folder}"
    return keyed_hash(settings.secret_key, "mailbox", where.lower())


def start(session: Session, key: str, uidvalidity: int) -> int:
    """The last UID fully handled; a changed UIDVALIDITY (the folder was rebuilt) starts over,
    and Message-IDs keep what was already taken from being taken twice."""
    state = session.get(MailboxState, key)
    if state is None:
        state = MailboxState(mailbox=key, uidvalidity=uidvalidity, last_uid=0)
        session.add(state)
    elif state.uidvalidity != uidvalidity:
        audit.record(
            session,
            actor="mailbox",
            action="mailbox.uidvalidity_changed",
            subject_type="mailbox",
            subject_id=key[:16],
            detail={"from": state.uidvalidity, "to": uidvalidity},
        )
        state.uidvalidity, state.last_uid = uidvalidity, 0
    session.flush()
    return state.last_uid


def claim(
    session: Session, settings: Settings, key: str, uidvalidity: int, uid: int
) -> MailboxClaim | None:
    """Claim one message for this worker, alone in the caller's transaction (which commits);
    None when it is done, set aside, or another worker's claim still runs."""
    now = utcnow()
    until = now + timedelta(seconds=settings.mailbox_claim_seconds)
    found = session.scalar(
        select(MailboxClaim).where(
            MailboxClaim.mailbox == key,
            MailboxClaim.uidvalidity == uidvalidity,
            MailboxClaim.uid == uid,
        )
    )
    if found is None:
        row = MailboxClaim(mailbox=key, uidvalidity=uidvalidity, uid=uid, claimed_until=until)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:  # another worker claimed it a moment ago
            session.rollback()  # the claim is the caller's whole transaction
            return None
        return row
    if found.status != "claimed" or found.claimed_until >= now:
        return None
    taken = session.execute(  # a dead worker's claim: take it over, once
        update(MailboxClaim)
        .where(MailboxClaim.id == found.id, MailboxClaim.claimed_until == found.claimed_until)
        .values(claimed_until=until, attempts=found.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        return None
    session.refresh(found)
    return found


def still_mine(session: Session, claim_id: int, until: object) -> MailboxClaim | None:
    """The claim, if this worker still holds it (its lease unchanged and not done)."""
    row = session.get(MailboxClaim, claim_id)
    if row is None or row.status != "claimed" or row.claimed_until != until:
        return None
    return row


def finish(row: MailboxClaim, *, outcome: str, case_id: str | None, failed: bool = False) -> None:
    """Mark a claim done (or failed), in the transaction that stored what it made."""
    row.status = "failed" if failed else "done"
    row.outcome, row.case_id, row.done_at = outcome, case_id, utcnow()


def done_unseen(session: Session, key: str, uidvalidity: int) -> list[int]:
    """Handled messages whose \\Seen flag is not set on the server yet."""
    return list(
        session.scalars(
            select(MailboxClaim.uid).where(
                MailboxClaim.mailbox == key,
                MailboxClaim.uidvalidity == uidvalidity,
                MailboxClaim.status != "claimed",
                MailboxClaim.seen.is_(False),
            )
        )
    )


def mark_seen(session: Session, key: str, uidvalidity: int, uid: int) -> None:
    """Remember that the server has the message marked \\Seen."""
    session.execute(
        update(MailboxClaim)
        .where(
            MailboxClaim.mailbox == key,
            MailboxClaim.uidvalidity == uidvalidity,
            MailboxClaim.uid == uid,
        )
        .values(seen=True)
    )


def advance(session: Session, key: str, uidvalidity: int) -> None:
    """Move the reading position past every message handled without a gap."""
    base = select(MailboxClaim.uid).where(
        MailboxClaim.mailbox == key, MailboxClaim.uidvalidity == uidvalidity
    )
    pending = session.scalar(
        select(func.min(MailboxClaim.uid)).where(
            MailboxClaim.mailbox == key,
            MailboxClaim.uidvalidity == uidvalidity,
            MailboxClaim.status == "claimed",
        )
    )
    highest = session.scalar(select(func.max(base.subquery().c.uid)))
    state = session.get(MailboxState, key)
    if state is None or state.uidvalidity != uidvalidity:
        return
    last = (pending - 1) if pending is not None else (highest or 0)
    state.last_uid = max(state.last_uid, last)
    session.flush()
