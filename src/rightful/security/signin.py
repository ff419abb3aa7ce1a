"""Staff sign-in in three steps, so the slow password check can run wherever the caller likes.

`begin` counts the attempt (or refuses it while the account or client must wait) and finds
the stored hash; the caller checks the password with `passwords.verify_secret` (the web
console in a worker thread, off its event loop); `finish` checks the second factor, settles
the count, records the outcome in the audit log and, on success, opens a server-side session.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.security import audit, sessions, signin_limits, totp
from rightful.security.models import StaffUser
from rightful.security.vault import keyed_hash

FAILED = "That e-mail, password and code do not match an active staff account."


@dataclass(frozen=True)
class Attempt:
    """A counted attempt: whose hash to check the password against (None: nobody's)."""

    staff_id: int | None
    password_hash: str | None
    counted: signin_limits.Counted
    client_hash: str


@dataclass(frozen=True)
class SignedIn:
    """A successful sign-in: who, and the session id for the cookie (shown once)."""

    staff_id: int
    name: str
    session_token: str


def begin(session: Session, settings: Settings, *, email: str, client: str) -> Attempt:
    """Count the attempt and find the account (flushes); SigninThrottledError while the
    account or the client must wait. Unknown e-mails are counted the same way."""
    counted = signin_limits.count_attempt(session, settings, email=email, client=client)
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    return Attempt(
        staff_id=user.id if user else None,
        password_hash=user.password_hash if user else None,
        counted=counted,
        client_hash=keyed_hash(settings.secret_key, "signin-audit", client)[:16],
    )


def finish(
    session: Session,
    settings: Settings,
    *,
    attempt: Attempt,
    password_ok: bool,
    code: str,
    replaces: str = "",
) -> SignedIn | None:
    """Settle the attempt (flushes; the caller commits either way): a new session, or None
    with `staff.signin_failed` audited (never the password or the typed e-mail).

    `replaces` is the session id the browser held before, ended here: a sign-in always gets a
    new id."""
    user = session.get(StaffUser, attempt.staff_id) if attempt.staff_id else None
    reason = None
    if not password_ok or user is None or not user.active:
        reason = "password"
    elif not totp.passes(session, settings, staff=user, code=code):
        reason = "second_factor"
    if reason is not None or user is None:
        staff_id = user.id if user else None
        signin_limits.failed(session, settings, attempt.counted, staff_id=staff_id)
        audit.record(
            session,
            actor="anonymous",
            action="staff.signin_failed",
            subject_type="staff",
            subject_id=str(staff_id) if staff_id else "unknown",
            detail={"reason": reason or "password", "client": attempt.client_hash},
        )
        return None
    signin_limits.succeeded(session, attempt.counted)
    if replaces:
        sessions.end(session, token=replaces, reason="replaced by sign-in")
    started = sessions.start(session, settings, staff=user)
    audit.record(
        session,
        actor=user.email,
        action="staff.signed_in",
        subject_type="staff",
        subject_id=str(user.id),
        detail={"client": attempt.client_hash},
    )
    return SignedIn(user.id, user.name, started.token)


def sign_out(session: Session, *, token: str) -> None:
    """End the browser's session (an unknown or ended id is no error)."""
    if token:
        sessions.end(session, token=token)


def settle_check(
    session: Session, settings: Settings, *, attempt: Attempt, password_ok: bool
) -> None:
    """Settle a signed-in staff member's re-entry of their password (before a change to their
    account): counted like a sign-in, so a stolen session cannot grind the password."""
    if password_ok:
        signin_limits.succeeded(session, attempt.counted)
        return
    signin_limits.failed(session, settings, attempt.counted, staff_id=attempt.staff_id)
    audit.record(
        session,
        actor="anonymous",
        action="staff.password_check_failed",
        subject_type="staff",
        subject_id=str(attempt.staff_id) if attempt.staff_id else "unknown",
        detail={"client": attempt.client_hash},
    )
