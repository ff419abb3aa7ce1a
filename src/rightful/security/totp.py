"""An optional second factor for staff: time-based one-time codes (RFC 6238) from an app.

The shared secret is encrypted with the vault. A code is accepted for its own 30-second step
and the one before and after (about a minute), and never twice: the last step used is kept,
and only a later one is accepted. An enrolment is not in force until a code from the app has
confirmed it, on the account page or at the first sign-in after `rightful staff totp`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.db import Base, UTCDateTime
from rightful.core.errors import ConflictError, VerificationError
from rightful.security import audit
from rightful.security.models import StaffUser
from rightful.security.vault import Vault, sealed

WINDOW = 1  # steps either side of now: a code typed as it changes still counts


class StaffSecondFactor(Base):
    """A staff member's authenticator secret (encrypted) and the last step used."""

    __tablename__ = "staff_second_factors"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    secret_encrypted: Mapped[str] = mapped_column(String(300), info=sealed("staff-totp"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_step: Mapped[int | None] = mapped_column(default=None)


@dataclass(frozen=True)
class Enrolment:
    """What the staff member adds to their app: an otpauth:// URI, or the key typed in."""

    uri: str
    key: str


def _vault(settings: Settings) -> Vault:
    return Vault(settings, "staff-totp")


def _secret(settings: Settings, row: StaffSecondFactor) -> str:
    return _vault(settings).decrypt(row.secret_encrypted.encode()).decode()


def is_enabled(session: Session, staff_id: int) -> bool:
    """True when the staff member has a confirmed second factor."""
    row = session.get(StaffSecondFactor, staff_id)
    return row is not None and row.confirmed_at is not None


def enrol(
    session: Session, settings: Settings, *, staff: StaffUser, actor: str, replace: bool = False
) -> Enrolment:
    """A new secret for `staff`, in force once a code confirms it (flushes, audits).

    An enrolment already in force is replaced only when `replace` is set (a lost phone)."""
    row = session.get(StaffSecondFactor, staff.id)
    if row is not None and row.confirmed_at is not None and not replace:
        raise ConflictError("A second factor is already set up for this account.")
    secret = pyotp.random_base32()
    encrypted = _vault(settings).encrypt(secret.encode()).decode()
    if row is None:
        row = StaffSecondFactor(staff_id=staff.id, secret_encrypted=encrypted)
        session.add(row)
    else:
        row.secret_encrypted, row.created_at = encrypted, utcnow()
        row.confirmed_at, row.last_step = None, None
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="staff.second_factor_enrolling",
        subject_type="staff",
        subject_id=str(staff.id),
    )
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=staff.email, issuer_name=f"Rightful {settings.company_name}"
    )
    return Enrolment(uri=uri, key=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)))


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The step whose code this is (now, or one step either side), if not used already."""
    totp, now = pyotp.TOTP(secret), utcnow()
    step = totp.timecode(now)
    typed = "".join(code.split())
    for offset in range(-WINDOW, WINDOW + 1):
        candidate = step + offset
        if after is not None and candidate <= after:
            continue
        if hmac.compare_digest(totp.at(now, counter_offset=offset), typed):
            return candidate
    return None


def _use(session: Session, settings: Settings, row: StaffSecondFactor, code: str) -> bool:
    step = _matching_step(_secret(settings, row), code, row.last_step) if code else None
    if step is None:
        return False
    row.last_step = step
    if row.confirmed_at is None:
        row.confirmed_at = utcnow()
        audit.record(
            session,
            actor="system",
            action="staff.second_factor_enabled",
            subject_type="staff",
            subject_id=str(row.staff_id),
        )
    session.flush()
    return True


def confirm(session: Session, settings: Settings, *, staff: StaffUser, code: str) -> None:
    """Put an enrolment in force with a code from the app, or VerificationError."""
    row = session.get(StaffSecondFactor, staff.id)
    if row is None or not _use(session, settings, row, code):
        raise VerificationError("That code does not match. Check the app's clock and try again.")


def passes(session: Session, settings: Settings, *, staff: StaffUser, code: str) -> bool:
    """True when this sign-in's second factor is satisfied (flushes the step used).

    Staff without one pass, unless they are administrators and it is required. A code for an
    enrolment not yet confirmed confirms it."""
    row = session.get(StaffSecondFactor, staff.id)
    required = settings.admin_totp_required and staff.role == "admin"
    if row is None:
        return not required
    if row.confirmed_at is None and not code.strip():
        return not required
    return _use(session, settings, row, code)


def remove(session: Session, *, staff_id: int, actor: str) -> bool:
    """Take away a staff member's second factor (a lost phone); True when there was one."""
    row = session.get(StaffSecondFactor, staff_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="staff.second_factor_removed",
        subject_type="staff",
        subject_id=str(staff_id),
    )
    return True
