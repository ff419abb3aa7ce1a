"""What staff change about their own account: the password (which ends every other session)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.security import audit, sessions
from rightful.security.models import StaffUser
from rightful.security.password_policy import check_new_password
from rightful.security.passwords import hash_secret


def change_password(
    session: Session, settings: Settings, *, staff: StaffUser, new_password: str
) -> sessions.Started:
    """Set a new password (the caller has checked the current one), end every session of the
    account and open a new one for the browser that asked (flushes, audits)."""
    check_new_password(new_password)
    staff.password_hash = hash_secret(new_password)
    session.flush()
    audit.record(
        session,
        actor=staff.email,
        action="staff.password_changed",
        subject_type="staff",
        subject_id=str(staff.id),
    )
    sessions.revoke_all(session, staff.id, "password changed", actor=staff.email)
    return sessions.start(session, settings, staff=staff)
