"""Failed sign-ins counted in the store, per account and per client, with growing waits and a
lockout that staff can clear.

Every process shares the counts (they live in Rightful's store, not a process's memory), and
only keyed hashes of the typed e-mail and the client's address are kept. An e-mail that
belongs to nobody is counted like any other, so the answers never tell whether an account
exists. An attempt is counted as failed *before* its password is checked and uncounted when it
succeeds: attempts sent in parallel meet the wait as surely as attempts sent one by one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from rightful.core.clock import as_utc, utcnow
from rightful.core.config import Settings
from rightful.core.db import Base, UTCDateTime
from rightful.core.errors import RateLimitedError
from rightful.security import audit
from rightful.security.vault import keyed_hash

ACCOUNT, CLIENT = "account", "client"
FREE_TRIES = {ACCOUNT: 3, CLIENT: 20}  # failures before any wait (a client: two lockouts)
LONGEST_WAIT = timedelta(minutes=15)
FORGOTTEN_AFTER = timedelta(days=1)  # a run of failures this old starts again from zero


class SigninThrottle(Base):
    """Consecutive failed sign-ins for one typed e-mail or one client (hashed)."""

    __tablename__ = "staff_signin_throttles"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SigninThrottledError(RateLimitedError):
    """Too many failed sign-ins: wait (`retry_after` seconds), or ask staff to unlock."""

    code = "signin_throttled"

    def __init__(self, detail: str, retry_after: int | None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Counted:
    """The keys an attempt was counted under, to settle it when its outcome is known."""

    account: str
    client: str


def account_key(settings: Settings, email: str) -> str:
    """The hashed key of a typed e-mail."""
    return keyed_hash(settings.secret_key, "signin-account", email.strip().lower())


def _client_key(settings: Settings, client: str) -> str:
    return keyed_hash(settings.secret_key, "signin-client", client)


def _lockout_at(settings: Settings, kind: str) -> int:
    if kind == ACCOUNT:
        return settings.signin_lockout_failures
    return settings.signin_client_lockout_failures


def wait_after(failures: int, kind: str) -> timedelta:
    """How long to wait after `failures` failures in a row: nothing at first, then 1 s,
    doubling with each failure, at most 15 minutes."""
    over = failures - FREE_TRIES[kind]
    if over < 0:
        return timedelta(0)
    return min(timedelta(seconds=2**over), LONGEST_WAIT)


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _current(row: SigninThrottle, settings: Settings, now: datetime) -> SigninThrottle:
    """The row with a passed lock or a forgotten run of failures reset."""
    minutes = settings.signin_lockout_minutes
    if row.locked_at is not None:
        if minutes and now >= as_utc(row.locked_at) + timedelta(minutes=minutes):
            row.failures, row.locked_at = 0, None
    elif now - as_utc(row.last_failure_at) >= FORGOTTEN_AFTER:
        row.failures = 0
    return row


def _refusal(row: SigninThrottle, settings: Settings, now: datetime) -> SigninThrottledError | None:
    who = "this account" if row.kind == ACCOUNT else "this connection"
    if row.locked_at is not None:
        minutes = settings.signin_lockout_minutes
        if not minutes:
            return SigninThrottledError(
                f"Sign-in to {who} is locked after too many failed attempts. "
                "An administrator can unlock it.",
                None,
            )
        left = as_utc(row.locked_at) + timedelta(minutes=minutes) - now
        seconds = math.ceil(left.total_seconds())
        return SigninThrottledError(
            f"Sign-in to {who} is locked after too many failed attempts. Try again in "
            f"{_in_words(seconds)}, or ask an administrator to unlock it.",
            seconds,
        )
    left = as_utc(row.last_failure_at) + wait_after(row.failures, row.kind) - now
    if left > timedelta(0):
        seconds = math.ceil(left.total_seconds())
        return SigninThrottledError(
            f"Too many failed sign-ins for {who}. Try again in {_in_words(seconds)}.", seconds
        )
    return None


def _rows(session: Session, keys: dict[str, str]) -> dict[str, SigninThrottle]:
    """The rows of `keys` ({key: kind}), created if missing and locked until commit."""
    values: list[dict[str, Any]] = [
        {"key_hash": k, "kind": kind, "failures": 0, "last_failure_at": utcnow()}
        for k, kind in keys.items()
    ]
    dialect = session.get_bind().dialect.name
    # Both create a row only where none is, so two processes never insert one twice.
    if dialect == "postgresql":
        session.execute(postgresql.insert(SigninThrottle).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(SigninThrottle).values(values).on_conflict_do_nothing())
    else:
        for value in values:
            if session.get(SigninThrottle, value["key_hash"]) is None:
                session.add(SigninThrottle(**value))
        session.flush()
    found = session.scalars(
        select(SigninThrottle)
        .where(SigninThrottle.key_hash.in_(list(keys)))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.key_hash: row for row in found}


def count_attempt(session: Session, settings: Settings, *, email: str, client: str) -> Counted:
    """Count an attempt as failed until it succeeds (flushes); SigninThrottledError, counting
    nothing, while the account or the client must wait or is locked."""
    counted = Counted(account_key(settings, email), _client_key(settings, client))
    rows = _rows(session, {counted.account: ACCOUNT, counted.client: CLIENT})
    now = utcnow()
    for key in (counted.account, counted.client):
        refusal = _refusal(_current(rows[key], settings, now), settings, now)
        if refusal is not None:
            raise refusal
    for row in rows.values():
        row.failures += 1
        row.last_failure_at = now
    session.flush()
    return counted


def failed(session: Session, settings: Settings, counted: Counted, *, staff_id: int | None) -> None:
    """Settle a failed attempt: lock what has failed too often (writes an audit event)."""
    rows = _rows(session, {counted.account: ACCOUNT, counted.client: CLIENT})
    for row in rows.values():
        if row.locked_at is None and row.failures >= _lockout_at(settings, row.kind):
            row.locked_at = utcnow()
            audit.record(
                session,
                actor="system",
                action="staff.signin_locked",
                subject_type="staff",
                subject_id=str(staff_id) if row.kind == ACCOUNT and staff_id else "unknown",
                detail={"locked": row.kind, "failures": row.failures},
            )
    session.flush()


def succeeded(session: Session, counted: Counted) -> None:
    """Settle a successful attempt: the account starts afresh, the client's try is uncounted."""
    rows = _rows(session, {counted.account: ACCOUNT, counted.client: CLIENT})
    session.delete(rows[counted.account])
    client = rows[counted.client]
    client.failures = max(0, client.failures - 1)
    session.flush()


def unlock(
    session: Session, settings: Settings, *, email: str, actor: str, staff_id: int | None = None
) -> bool:
    """Clear an account's failed sign-ins and lock; True when there was something to clear."""
    row = session.get(SigninThrottle, account_key(settings, email))
    if row is None:
        return False
    was_locked = row.locked_at is not None
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="staff.signin_unlocked",
        subject_type="staff",
        subject_id=str(staff_id) if staff_id else "unknown",
        detail={"was_locked": was_locked},
    )
    return True


def forget_old(session: Session, settings: Settings) -> int:
    """Remove counts a day old and passed locks (housekeeping); returns how many went."""
    now = utcnow()
    stale = SigninThrottle.last_failure_at < now - FORGOTTEN_AFTER
    unlocked = SigninThrottle.locked_at.is_(None)
    if settings.signin_lockout_minutes:
        passed = SigninThrottle.locked_at < now - timedelta(minutes=settings.signin_lockout_minutes)
        condition = and_(stale, or_(unlocked, passed))
    else:
        condition = and_(stale, unlocked)
    result = session.execute(delete(SigninThrottle).where(condition))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
