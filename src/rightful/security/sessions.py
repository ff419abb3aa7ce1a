"""Staff sessions kept in the store, so signing out, a new password or a lost role ends them.

The browser holds only a random session id (inside the signed cookie); the store keeps its
SHA-256, who it belongs to, when it started, when it was last used, when it must end and
whether it was revoked. A copied cookie is worth nothing once its row says so.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from rightful.core.clock import as_utc, utcnow
from rightful.core.config import Settings
from rightful.core.db import Base, UTCDateTime
from rightful.security import audit
from rightful.security.models import StaffUser

# Writing `last_seen_at` on every page would add a write to every read; a minute's
# imprecision in the idle timeout is not worth that.
TOUCH_EVERY = timedelta(seconds=60)
KEPT_AFTER_END = timedelta(days=30)


class StaffSession(Base):
    """One signed-in browser: only the id's hash is kept."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(40), default=None)


@dataclass(frozen=True)
class Started:
    """A new session: the id for the cookie (shown once) and its row."""

    token: str
    row: StaffSession


def _digest(token: str) -> str:
    # The id is 256 random bits: nothing to guess, so a plain digest is enough (as for API
    # tokens); a stolen table holds no usable id.
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, settings: Settings, *, staff: StaffUser) -> Started:
    """Open a session for `staff` (flushes); the caller puts `token` in the cookie."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    row = StaffSession(
        token_hash=_digest(token),
        staff_id=staff.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.staff_session_hours),
    )
    session.add(row)
    session.flush()
    return Started(token, row)


def _ended(row: StaffSession, settings: Settings, now: datetime) -> str | None:
    """Why the session can no longer be used (revoked, expired, idle), or None."""
    if row.revoked_at is not None:
        return row.revoked_reason or "revoked"
    if now >= as_utc(row.expires_at):
        return "expired"
    if now - as_utc(row.last_seen_at) >= timedelta(minutes=settings.staff_session_idle_minutes):
        return "idle"
    return None


def resolve(session: Session, settings: Settings, *, token: str) -> StaffUser | None:
    """The active staff member whose live session this id is, or None; marks it used."""
    if not token:
        return None
    found = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(StaffSession.token_hash == _digest(token))
    ).first()
    if found is None:
        return None
    row, staff = found
    now = utcnow()
    if _ended(row, settings, now) is not None or not staff.active:
        return None
    if now - as_utc(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    return staff


def end(session: Session, *, token: str, reason: str = "signed out") -> None:
    """End one session (signing out); an unknown or ended id is no error."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _digest(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason[:40])
    )


def revoke_all(
    session: Session, staff_id: int, reason: str, *, actor: str = "system", keep: str = ""
) -> int:
    """End every live session of a staff member (new password, deactivation, role change),
    except the one whose id is `keep`; writes an audit event and returns how many ended."""
    query = update(StaffSession).where(
        StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None)
    )
    if keep:
        query = query.where(StaffSession.token_hash != _digest(keep))
    result = session.execute(query.values(revoked_at=utcnow(), revoked_reason=reason[:40]))
    ended = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if ended:
        audit.record(
            session,
            actor=actor,
            action="staff.sessions_revoked",
            subject_type="staff",
            subject_id=str(staff_id),
            detail={"reason": reason, "sessions": ended},
        )
    return ended


def forget_old(session: Session) -> int:
    """Remove sessions that ended more than 30 days ago (housekeeping); returns how many."""
    cutoff = utcnow() - KEPT_AFTER_END
    result = session.execute(
        delete(StaffSession).where(
            (StaffSession.expires_at < cutoff) | (StaffSession.revoked_at < cutoff)
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
